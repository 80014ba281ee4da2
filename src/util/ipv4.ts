// IPv4 address arithmetic: dotted quads ⇄ unsigned 32-bit numbers, CIDR parsing, and the "never
// send there" address classes. Pure, total functions, shared by the codecs and the servers.

/**
 * The dotted quad as an unsigned 32-bit number; undefined unless it is exactly four decimal octets
 * 0..255 (1–3 digits each). One pass over the characters: it runs for every reply's addresses.
 */
export function ipToU32(ip: string): number | undefined {
  let n = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < ip.length; i++) {
    const c = ip.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || dots === 3) return undefined;
      n = n * 256 + part;
      part = 0;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57 && digits < 3) {
      part = part * 10 + (c - 48);
      digits++;
      if (part > 255) return undefined;
    } else return undefined;
  }
  if (dots !== 3 || digits === 0) return undefined;
  return n * 256 + part;
}

export function u32ToIp(n: number): string {
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

export interface Cidr {
  /** The network address as an unsigned 32-bit number. */
  network: number;
  prefix: number;
  /** The netmask as an unsigned 32-bit number. */
  mask: number;
  /** The directed broadcast address as an unsigned 32-bit number. */
  broadcast: number;
  text: string;
}

export function parseCidr(text: string): Cidr | undefined {
  const [addr, len, extra] = text.split('/');
  if (addr === undefined || len === undefined || extra !== undefined || !/^[0-9]{1,2}$/.test(len)) return undefined;
  const prefix = Number(len);
  const ip = ipToU32(addr);
  if (ip === undefined || prefix > 32) return undefined;
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  const network = (ip & mask) >>> 0;
  const broadcast = (network | (~mask >>> 0)) >>> 0;
  return { network, prefix, mask, broadcast, text: `${u32ToIp(network)}/${prefix}` };
}

export function cidrContains(c: Cidr, ip: number): boolean {
  return ((ip & c.mask) >>> 0) === c.network;
}

/**
 * True for addresses no DHCP reply may be unicast to: 0/8, 127/8, 224/4 (multicast), 240/4
 * (reserved, including 255.255.255.255 — limited broadcast is expressed as `broadcast: true`).
 */
export function isForbiddenDestination(ip: string): boolean {
  const n = ipToU32(ip);
  if (n === undefined) return true;
  const first = n >>> 24;
  return first === 0 || first === 127 || first >= 224;
}
