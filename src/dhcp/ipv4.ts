// IPv4 address arithmetic for the DHCP server: dotted quads ⇄ unsigned 32-bit numbers, CIDR
// parsing, and the "never send there" address classes. Pure, total functions.
import { parseIpv4 } from '../protocol/dhcp/options.ts';

/** Parses a dotted quad; undefined unless it is exactly four decimal octets 0..255 (1–3 digits each). */
export function ipToU32(ip: string): number | undefined {
  const n = parseIpv4(ip);
  return n < 0 ? undefined : n;
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

/** A MAC as aa:bb:cc:dd:ee:ff (lower case), or undefined if it is not 6 octets in hex. */
export function normalizeMac(text: string): string | undefined {
  const hex = text.toLowerCase().replace(/[:\-.]/g, '');
  if (!/^[0-9a-f]{12}$/.test(hex)) return undefined;
  return hex.match(/../g)!.join(':');
}

/** An OUI/MAC prefix as lower-case colon-separated octets (1..6 octets), or undefined. */
export function normalizeMacPrefix(text: string): string | undefined {
  const hex = text.toLowerCase().replace(/[:\-.]/g, '');
  if (!/^([0-9a-f]{2}){1,6}$/.test(hex)) return undefined;
  return hex.match(/../g)!.join(':');
}
