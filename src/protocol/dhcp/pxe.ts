// PXE and iPXE options: RFC 4578 options 93 (client architecture), 94 (network device interface),
// 97 (machine UUID), option 43 PXE vendor sub-options (PXE 2.1: 6, 8, 9, 10, 71) and iPXE's
// encapsulated option 175. Every parser returns undefined for a malformed option, never throws.
import { encodeSubOptions, parseSubOptions } from './suboptions.ts';

/** Option 93 values (IANA "Processor Architecture Types"). 7 and 9 both mean x64 UEFI in practice. */
export const ARCH = {
  X86_BIOS: 0,
  NEC_PC98: 1,
  ITANIUM: 2,
  EFI_IA32: 6,
  EFI_X64: 7,
  EFI_BC: 9,
  EFI_ARM32: 10,
  EFI_ARM64: 11,
  EFI_IA32_HTTP: 15,
  EFI_X64_HTTP: 16,
  EFI_ARM32_HTTP: 18,
  EFI_ARM64_HTTP: 19,
  BIOS_X86_HTTP: 20,
} as const;

/** Option 43 sub-options of a PXE client/server (PXE 2.1 §2.4). */
export const PXE_SUB = {
  MTFTP_IP: 1,
  MTFTP_CPORT: 2,
  MTFTP_SPORT: 3,
  MTFTP_TMOUT: 4,
  MTFTP_DELAY: 5,
  DISCOVERY_CONTROL: 6,
  DISCOVERY_MCAST_ADDR: 7,
  BOOT_SERVERS: 8,
  BOOT_MENU: 9,
  MENU_PROMPT: 10,
  BOOT_ITEM: 71,
} as const;

/** Sub-options of iPXE's encapsulated option 175 (iPXE include/ipxe/dhcp.h). */
export const IPXE_SUB = {
  PRIORITY: 1,
  KEEP_SAN: 8,
  SKIP_SAN_BOOT: 9,
  FEATURE_PXE_EXT: 16,
  FEATURE_ISCSI: 17,
  FEATURE_AOE: 18,
  FEATURE_HTTP: 19,
  FEATURE_HTTPS: 20,
  FEATURE_TFTP: 21,
  FEATURE_FTP: 22,
  FEATURE_DNS: 23,
  FEATURE_BZIMAGE: 24,
  FEATURE_MULTIBOOT: 25,
  FEATURE_SLAM: 26,
  FEATURE_SRP: 27,
  FEATURE_NBI: 32,
  FEATURE_PXE: 33,
  FEATURE_ELF: 34,
  FEATURE_COMBOOT: 35,
  FEATURE_EFI: 36,
  FEATURE_FCOE: 37,
  FEATURE_VLAN: 38,
  FEATURE_MENU: 39,
  FEATURE_SDI: 40,
  FEATURE_NFS: 41,
  NO_PXEDHCP: 176,
  BUS_ID: 177,
  SAN_FILENAME: 188,
  BIOS_DRIVE: 189,
  USERNAME: 190,
  PASSWORD: 191,
  VERSION: 235,
} as const;

/** Option 93: a list of 16-bit architecture types; undefined unless a non-empty even length. */
export function clientArch(buf: Uint8Array | undefined): number[] | undefined {
  if (buf === undefined || buf.length === 0 || buf.length % 2 !== 0) return undefined;
  const out: number[] = [];
  for (let i = 0; i < buf.length; i += 2) out.push(((buf[i] as number) << 8) | (buf[i + 1] as number));
  return out;
}

export interface ClientNdi {
  /** 1 = UNDI */
  type: number;
  major: number;
  minor: number;
}

/** Option 94: length 3, type 1 (UNDI), then major and minor version. */
export function clientNdi(buf: Uint8Array | undefined): ClientNdi | undefined {
  if (buf === undefined || buf.length !== 3 || buf[0] !== 1) return undefined;
  return { type: 1, major: buf[1] as number, minor: buf[2] as number };
}

const HEX: string[] = [];
for (let i = 0; i < 256; i++) HEX.push(i.toString(16).padStart(2, '0'));

/** Lowercase hex of the octets, with an optional separator between them. */
export function hex(buf: Uint8Array, sep = ''): string {
  let s = '';
  for (let i = 0; i < buf.length; i++) s += (i > 0 ? sep : '') + HEX[buf[i] as number];
  return s;
}

function uuidOctets(buf: Uint8Array | undefined): Uint8Array | undefined {
  if (buf === undefined || buf.length !== 17 || buf[0] !== 0) return undefined;
  let zero = true;
  let ones = true;
  for (let i = 1; i < 17; i++) {
    if (buf[i] !== 0) zero = false;
    if (buf[i] !== 0xff) ones = false;
  }
  return zero || ones ? undefined : buf.subarray(1);
}

function uuidString(h: string): string {
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/**
 * Option 97: type 0 followed by 16 octets, as a canonical lowercase UUID the way the machine shows
 * it (dmidecode, firmware setup, libvirt/QEMU -uuid). PXE clients (iPXE, EDK2: see
 * test/fixtures/dhcp/README.md) send the SMBIOS/GUID layout, whose first three fields are
 * little-endian, so those are byte-swapped here. All-zero and all-ones UUIDs mean "no UUID" (unset
 * SMBIOS) and give undefined: they must not identify a host.
 */
export function clientUuid(buf: Uint8Array | undefined): string | undefined {
  const u = uuidOctets(buf);
  if (u === undefined) return undefined;
  const h = hex(u);
  const swapped =
    h.slice(6, 8) + h.slice(4, 6) + h.slice(2, 4) + h.slice(0, 2) + h.slice(10, 12) + h.slice(8, 10) + h.slice(14, 16) + h.slice(12, 14) + h.slice(16);
  return uuidString(swapped);
}

/** Option 97 octets in arrival order, formatted as a UUID (pxelinux's `pxelinux.cfg/<uuid>` and dnsmasq's form). */
export function clientUuidWire(buf: Uint8Array | undefined): string | undefined {
  const u = uuidOctets(buf);
  return u === undefined ? undefined : uuidString(hex(u));
}

/** The option 97 value (type 0 + 16 octets) for a UUID given as the machine shows it; undefined if not a UUID. */
export function encodeClientUuid(uuid: string): Uint8Array | undefined {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(uuid)) return undefined;
  const h = uuid.toLowerCase().replace(/-/g, '');
  const wire =
    h.slice(6, 8) + h.slice(4, 6) + h.slice(2, 4) + h.slice(0, 2) + h.slice(10, 12) + h.slice(8, 10) + h.slice(14, 16) + h.slice(12, 14) + h.slice(16);
  const out = new Uint8Array(17);
  out.set(Buffer.from(wire, 'hex'), 1);
  return out;
}

/** Option 43 as PXE sub-options (PAD and END honoured); undefined when a sub-option overruns. */
export function pxeVendorOptions(buf: Uint8Array | undefined): Map<number, Uint8Array> | undefined {
  return parseSubOptions(buf, true);
}

/** Encode PXE sub-options for option 43, closed by END. Values over 255 octets are left out. */
export function encodePxeVendorOptions(map: ReadonlyMap<number, Uint8Array>): Uint8Array {
  return encodeSubOptions(map, true);
}

/** Option 175 (iPXE encapsulated options); undefined when a sub-option overruns. */
export function ipxeOptions(buf: Uint8Array | undefined): Map<number, Uint8Array> | undefined {
  return parseSubOptions(buf, true);
}

export interface PxeBootItem {
  type: number;
  layer: number;
}

/** PXE sub-option 71 (boot item): 16-bit type, 16-bit layer. */
export function pxeBootItem(buf: Uint8Array | undefined): PxeBootItem | undefined {
  if (buf === undefined || buf.length !== 4) return undefined;
  return { type: ((buf[0] as number) << 8) | (buf[1] as number), layer: ((buf[2] as number) << 8) | (buf[3] as number) };
}

export function encodePxeBootItem(item: PxeBootItem): Uint8Array {
  return Uint8Array.of((item.type >> 8) & 0xff, item.type & 0xff, (item.layer >> 8) & 0xff, item.layer & 0xff);
}

function ipOctets(ip: string): number[] {
  const parts = ip.split('.');
  if (parts.length !== 4) return [0, 0, 0, 0];
  const out = parts.map((s) => (/^[0-9]{1,3}$/.test(s) ? Number(s) : 256));
  return out.every((n) => n <= 255) ? out : [0, 0, 0, 0];
}

export interface PxeBootServer {
  type: number;
  ips: string[];
}

/** PXE sub-option 8 (boot servers): per entry 16-bit type, count, IPv4 addresses. Entries that would overflow 255 octets are left out. */
export function encodePxeBootServers(servers: readonly PxeBootServer[]): Uint8Array {
  const bytes: number[] = [];
  for (const s of servers) {
    const ips = s.ips.slice(0, 255);
    if (bytes.length + 3 + 4 * ips.length > 255) break;
    bytes.push((s.type >> 8) & 0xff, s.type & 0xff, ips.length);
    for (const ip of ips) bytes.push(...ipOctets(ip));
  }
  return Uint8Array.from(bytes);
}

export interface PxeMenuItem {
  type: number;
  description: string;
}

/** PXE sub-option 9 (boot menu): per item 16-bit type, length, description (latin1). Items that would overflow 255 octets are left out. */
export function encodePxeBootMenu(items: readonly PxeMenuItem[]): Uint8Array {
  const bytes: number[] = [];
  for (const it of items) {
    const d = Buffer.from(it.description.slice(0, 252), 'latin1');
    if (bytes.length + 3 + d.length > 255) break;
    bytes.push((it.type >> 8) & 0xff, it.type & 0xff, d.length, ...d);
  }
  return Uint8Array.from(bytes);
}

/** Parse PXE sub-option 9; undefined when an item overruns. */
export function pxeBootMenu(buf: Uint8Array | undefined): PxeMenuItem[] | undefined {
  if (buf === undefined || buf.length === 0) return undefined;
  const out: PxeMenuItem[] = [];
  let i = 0;
  while (i < buf.length) {
    if (i + 3 > buf.length) return undefined;
    const len = buf[i + 2] as number;
    if (i + 3 + len > buf.length) return undefined;
    out.push({ type: ((buf[i] as number) << 8) | (buf[i + 1] as number), description: Buffer.from(buf.buffer, buf.byteOffset + i + 3, len).toString('latin1') });
    i += 3 + len;
  }
  return out;
}

/** PXE sub-option 10 (menu prompt): timeout in seconds (0 = boot the first item at once, 255 = wait), then the prompt. */
export function encodePxeMenuPrompt(timeout: number, prompt: string): Uint8Array {
  const p = Buffer.from(prompt.slice(0, 254), 'latin1');
  const out = new Uint8Array(1 + p.length);
  out[0] = Math.max(0, Math.min(255, Math.floor(timeout) || 0));
  out.set(p, 1);
  return out;
}
