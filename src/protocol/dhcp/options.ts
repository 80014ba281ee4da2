// DHCP option codes, message types and small pure helpers to read and build option values.
// Every reader takes the raw value (`p.options.get(code)`, possibly undefined) and returns a value
// or undefined for a missing or malformed option; none throws. Strings read from a client are raw
// client-controlled text: sanitise or escape them before logging, storing or echoing (hostName
// already sanitises).
import type { DhcpPacket } from './packet.ts';
import { hex } from './pxe.ts';
import { parseSubOptions } from './suboptions.ts';

export {
  ARCH,
  IPXE_SUB,
  PXE_SUB,
  clientArch,
  clientNdi,
  clientUuid,
  clientUuidWire,
  encodeClientUuid,
  encodePxeBootItem,
  encodePxeBootMenu,
  encodePxeBootServers,
  encodePxeMenuPrompt,
  encodePxeVendorOptions,
  hex,
  ipxeOptions,
  pxeBootItem,
  pxeBootMenu,
  pxeVendorOptions,
} from './pxe.ts';
import { ipToU32 } from '../../util/ipv4.ts';
export type { ClientNdi, PxeBootItem, PxeBootServer, PxeMenuItem } from './pxe.ts';

export const OPT = {
  PAD: 0,
  SUBNET_MASK: 1,
  TIME_OFFSET: 2,
  ROUTER: 3,
  TIME_SERVER: 4,
  NAME_SERVER: 5,
  DNS_SERVERS: 6,
  LOG_SERVER: 7,
  HOST_NAME: 12,
  BOOT_FILE_SIZE: 13,
  DOMAIN_NAME: 15,
  ROOT_PATH: 17,
  EXTENSIONS_PATH: 18,
  INTERFACE_MTU: 26,
  BROADCAST_ADDRESS: 28,
  STATIC_ROUTES: 33,
  NTP_SERVERS: 42,
  VENDOR_SPECIFIC: 43,
  REQUESTED_IP: 50,
  LEASE_TIME: 51,
  OVERLOAD: 52,
  MESSAGE_TYPE: 53,
  SERVER_ID: 54,
  PARAMETER_REQUEST_LIST: 55,
  MESSAGE: 56,
  MAX_MESSAGE_SIZE: 57,
  RENEWAL_TIME: 58,
  REBINDING_TIME: 59,
  VENDOR_CLASS: 60,
  CLIENT_ID: 61,
  TFTP_SERVER_NAME: 66,
  BOOTFILE_NAME: 67,
  USER_CLASS: 77,
  CLIENT_FQDN: 81,
  RELAY_AGENT_INFO: 82,
  CLIENT_ARCH: 93,
  CLIENT_NDI: 94,
  CLIENT_UUID: 97,
  DOMAIN_SEARCH: 119,
  CLASSLESS_STATIC_ROUTES: 121,
  IPXE_ENCAP: 175,
  PXELINUX_MAGIC: 208,
  PXELINUX_CONFIG_FILE: 209,
  PXELINUX_PATH_PREFIX: 210,
  PXELINUX_REBOOT_TIME: 211,
  END: 255,
} as const;

export const MSG = {
  DISCOVER: 1,
  OFFER: 2,
  REQUEST: 3,
  DECLINE: 4,
  ACK: 5,
  NAK: 6,
  RELEASE: 7,
  INFORM: 8,
  FORCERENEW: 9,
  LEASEQUERY: 10,
  LEASEUNASSIGNED: 11,
  LEASEUNKNOWN: 12,
  LEASEACTIVE: 13,
  BULKLEASEQUERY: 14,
  LEASEQUERYDONE: 15,
  ACTIVELEASEQUERY: 16,
  LEASEQUERYSTATUS: 17,
  TLS: 18,
} as const;

/** Relay agent information (option 82) sub-options, RFC 3046 and later. */
export const RELAY_SUB = { CIRCUIT_ID: 1, REMOTE_ID: 2, LINK_SELECTION: 5, SUBSCRIBER_ID: 6, SERVER_ID_OVERRIDE: 11 } as const;

/** The smallest DHCP message every client must accept (RFC 2132 §9.10). */
export const MIN_MAX_MESSAGE_SIZE = 576;

type Raw = Uint8Array | undefined;

/** Option 53: exactly one octet with a known type (1..18); a repeated 53 concatenates to 2 octets and gives undefined (D13). */
export function messageType(p: DhcpPacket): number | undefined {
  const v = p.options.get(OPT.MESSAGE_TYPE);
  if (v === undefined || v.length !== 1) return undefined;
  const t = v[0] as number;
  return t >= 1 && t <= 18 ? t : undefined;
}

function ipAt(b: Uint8Array, o: number): string {
  return `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;
}

/** Exactly 4 octets → dotted quad. */
export function ipOption(buf: Raw): string | undefined {
  return buf !== undefined && buf.length === 4 ? ipAt(buf, 0) : undefined;
}

/** A non-empty multiple of 4 octets → dotted quads. */
export function ipListOption(buf: Raw): string[] | undefined {
  if (buf === undefined || buf.length === 0 || buf.length % 4 !== 0) return undefined;
  const out: string[] = [];
  for (let i = 0; i < buf.length; i += 4) out.push(ipAt(buf, i));
  return out;
}

export function u32Option(buf: Raw): number | undefined {
  if (buf === undefined || buf.length !== 4) return undefined;
  return (((buf[0] as number) << 24) | ((buf[1] as number) << 16) | ((buf[2] as number) << 8) | (buf[3] as number)) >>> 0;
}

export function u16Option(buf: Raw): number | undefined {
  if (buf === undefined || buf.length !== 2) return undefined;
  return ((buf[0] as number) << 8) | (buf[1] as number);
}

function latin1(buf: Uint8Array, len = buf.length): string {
  return Buffer.from(buf.buffer, buf.byteOffset, len).toString('latin1');
}

function trimNuls(buf: Uint8Array): number {
  let n = buf.length;
  while (n > 0 && buf[n - 1] === 0) n--;
  return n;
}

/** Latin1 text with trailing NULs removed; undefined when empty. Raw client text: not sanitised. */
export function stringOption(buf: Raw): string | undefined {
  if (buf === undefined) return undefined;
  const n = trimNuls(buf);
  return n === 0 ? undefined : latin1(buf, n);
}

/** Option 60. Undefined when empty or when it holds control octets (an embedded NUL, D26). */
export function vendorClass(buf: Raw): string | undefined {
  if (buf === undefined) return undefined;
  const n = trimNuls(buf);
  if (n === 0) return undefined;
  for (let i = 0; i < n; i++) {
    const c = buf[i] as number;
    if (c < 0x20 || c === 0x7f) return undefined;
  }
  return latin1(buf, n);
}

/**
 * Option 77. RFC 3004 form (length-prefixed items, each at least 1 octet, exactly filling the
 * option) or, failing that, the plain string form that iPXE sends ("iPXE").
 */
export function userClasses(buf: Raw): string[] | undefined {
  if (buf === undefined || buf.length === 0) return undefined;
  const items: string[] = [];
  let i = 0;
  while (i < buf.length) {
    const len = buf[i] as number;
    if (len === 0 || i + 1 + len > buf.length) break;
    items.push(Buffer.from(buf.buffer, buf.byteOffset + i + 1, len).toString('latin1'));
    i += 1 + len;
  }
  if (i === buf.length) return items;
  const plain = stringOption(buf);
  return plain === undefined ? undefined : [plain];
}

/** Option 61 as lowercase hex (type octet first); undefined below the 2-octet minimum (D23, D24). */
export function clientId(buf: Raw): string | undefined {
  if (buf === undefined || buf.length < 2) return undefined;
  return hex(buf);
}

/** Option 82 sub-options (strict TLV, first instance wins); undefined when empty or a sub-option overruns. */
export function relayAgentInfo(buf: Raw): Map<number, Uint8Array> | undefined {
  return parseSubOptions(buf, false);
}

/** Option 55 as a list of codes, each once, in order; 0, 52 and 255 are left out (D21). */
export function requestedOptions(buf: Raw): number[] | undefined {
  if (buf === undefined || buf.length === 0) return undefined;
  const out: number[] = [];
  // A usual list (a dozen codes) is checked against what is already kept; a long one through a table.
  const seen = buf.length > 32 ? new Uint8Array(256) : undefined;
  for (let i = 0; i < buf.length; i++) {
    const c = buf[i] as number;
    if (c === 0 || c === 52 || c === 255) continue;
    if (seen !== undefined) {
      if (seen[c]) continue;
      seen[c] = 1;
    } else if (out.includes(c)) continue;
    out.push(c);
  }
  return out;
}

/**
 * Option 57 (2 octets): the largest DHCP message the client accepts. Values below 576 count as 576
 * (D22); values above `limit` (default 1472, a 1500-octet Ethernet MTU less IP and UDP headers)
 * count as `limit`: EDK2 asks for 65280. Undefined when absent or malformed (then use 576).
 */
export function maxMessageSize(buf: Raw, limit = 1472): number | undefined {
  const v = u16Option(buf);
  return v === undefined ? undefined : Math.max(MIN_MAX_MESSAGE_SIZE, Math.min(v, limit));
}

/** Option 12, sanitised: every octet outside [A-Za-z0-9.-] becomes '-', at most 63 characters; undefined when empty. */
export function hostName(buf: Raw): string | undefined {
  if (buf === undefined) return undefined;
  const n = Math.min(trimNuls(buf), 63);
  if (n === 0) return undefined;
  let s = '';
  for (let i = 0; i < n; i++) {
    const c = buf[i] as number;
    const ok = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x2d || c === 0x2e;
    s += ok ? String.fromCharCode(c) : '-';
  }
  return s;
}

/** The hardware address: the first hlen (at most 16) octets of chaddr, as aa:bb:cc:dd:ee:ff. */
export function macString(p: DhcpPacket): string {
  const n = Math.min(p.hlen, 16, p.chaddr.length);
  return hex(p.chaddr.subarray(0, n), ':');
}

/** True for a dotted quad of four decimal octets 0..255. */
export function isIpv4(ip: string): boolean {
  return ipToU32(ip) !== undefined;
}

/** A dotted quad as 4 octets. Not a valid address (see isIpv4): 0.0.0.0. Validate configuration with isIpv4. */
export function encodeIp(ip: string): Uint8Array {
  const out = new Uint8Array(4);
  const n = ipToU32(ip);
  if (n === undefined) return out;
  out[0] = n >>> 24;
  out[1] = (n >>> 16) & 0xff;
  out[2] = (n >>> 8) & 0xff;
  out[3] = n & 0xff;
  return out;
}

export function encodeIpList(ips: readonly string[]): Uint8Array {
  const out = new Uint8Array(4 * ips.length);
  for (let i = 0; i < ips.length; i++) out.set(encodeIp(ips[i] as string), 4 * i);
  return out;
}

/** Unsigned 32-bit big-endian (taken modulo 2^32). */
export function encodeU32(n: number): Uint8Array {
  const v = Number.isFinite(n) ? n >>> 0 : 0;
  return Uint8Array.of(v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
}

/** Unsigned 16-bit big-endian (taken modulo 2^16). */
export function encodeU16(n: number): Uint8Array {
  const v = Number.isFinite(n) ? n & 0xffff : 0;
  return Uint8Array.of(v >>> 8, v & 0xff);
}

export function encodeU8(n: number): Uint8Array {
  return Uint8Array.of(Number.isFinite(n) ? n & 0xff : 0);
}

/** Text as latin1 octets (characters above U+00FF keep their low octet). */
export function encodeString(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0xff;
  return out;
}
