// The DHCP boot settings of hosts and groups (the fields the config's reservations and
// `dhcp.boot.groups` carried): a host's reserved IPv4 address, boot file and iPXE script, a group's
// boot files by architecture key, and the DHCP options of both. Checks the values an operator gives
// (CLI, fleet file) and returns them in canonical form. Pure. The options' wire encoding is
// src/dhcp/compile.ts's; the DHCP server encodes what is stored, and skips (and logs) what it cannot.
import { ipToU32, u32ToIp } from '../util/ipv4.ts';
import { ARCH_KEYS, DHCP_OPTION_TYPES } from './types.ts';
import type { DhcpOption, DhcpOptions, DhcpOptionType } from './types.ts';
import { InventoryError } from './errors.ts';
import type { InventoryErrorCode } from './errors.ts';

type Code = Extract<InventoryErrorCode, 'BH_INV_INVALID_HOST' | 'BH_INV_INVALID_GROUP'>;

/** A boot file, URL or script path: printable ASCII, no blank at either end, at most 255 characters. */
const BOOT_PATH = /^[\x21-\x7e]([\x20-\x7e]{0,253}[\x21-\x7e])?$/;
const DOMAIN = /^[A-Za-z0-9-]{1,63}(\.[A-Za-z0-9-]{1,63})*$/;
const OPTION_KEYS = ['routers', 'dns_servers', 'domain_name', 'ntp_servers', 'options'];
/** Options the DHCP server sets itself (52 overload, 53 type, 54 server id, 55 parameter list, 51/58/59 lease times, 57 size, 61 client id). */
const SERVER_OWNED = new Set([51, 52, 53, 54, 55, 57, 58, 59, 61]);

function fail(code: Code, message: string, fix: string): never {
  throw new InventoryError(code, message, fix);
}

function show(v: unknown): string {
  return JSON.stringify(typeof v === 'string' ? v.slice(0, 60) : v) ?? String(v);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A dotted quad in canonical form (no leading zeros), or undefined. */
export function canonicalIpv4(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  const n = ipToU32(v);
  return n === undefined || u32ToIp(n) !== v ? undefined : v;
}

/** A host's reserved address: a unicast dotted quad; null, undefined or '' for none. */
export function checkReservedIp(v: unknown): string | null {
  if (v === null || v === undefined || v === '') return null;
  const ip = canonicalIpv4(v);
  if (ip === undefined || ip === '0.0.0.0' || ip === '255.255.255.255' || Number(ip.split('.')[0]) >= 224) {
    fail('BH_INV_INVALID_HOST', `ip ${show(v)} is not a unicast IPv4 address`, 'write the dotted quad the host should always get, e.g. 198.18.0.10 (inside a full-mode subnet)');
  }
  return ip;
}

/** A boot file (TFTP path), URL or iPXE script path; null, undefined or '' for none. */
export function checkBootPath(v: unknown, field: string, code: Code): string | null {
  if (v === null || v === undefined || v === '') return null;
  if (typeof v !== 'string' || !BOOT_PATH.test(v)) fail(code, `${field} ${show(v)} is not a file path or URL`, 'write a TFTP path (e.g. pxelinux.0) or a URL of at most 255 printable characters');
  return v;
}

/** A group's boot files: architecture key (bios, uefi-x64, …) → file or URL; null for none. */
export function checkBootfiles(v: unknown): Record<string, string> | null {
  if (v === null || v === undefined) return null;
  if (!isObject(v)) fail('BH_INV_INVALID_GROUP', 'bootfiles must be a mapping of architecture: file', 'write e.g. bootfiles: {bios: pxelinux.0, uefi-x64: grubx64.efi}');
  const out: Record<string, string> = {};
  for (const [k, f] of Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (!ARCH_KEYS.has(k)) fail('BH_INV_INVALID_GROUP', `bootfiles: ${show(k)} is not an architecture key`, `use one of: ${[...ARCH_KEYS].join(', ')}`);
    out[k] = checkBootPath(f, `bootfiles.${k}`, 'BH_INV_INVALID_GROUP') ?? fail('BH_INV_INVALID_GROUP', `bootfiles.${k} is empty`, 'give a file, or remove the key');
  }
  return Object.keys(out).length === 0 ? null : out;
}

function ipList(v: unknown, field: string, code: Code, max: number): string[] {
  const list = typeof v === 'string' ? [v] : v;
  if (!Array.isArray(list) || list.length === 0 || list.length > max || list.some((x) => canonicalIpv4(x) === undefined)) {
    fail(code, `${field} must be a list of 1 to ${max} dotted-quad addresses`, `write e.g. ${field}: [198.18.0.1]`);
  }
  return list as string[];
}

function checkValue(type: DhcpOptionType, v: unknown, where: string, code: Code): DhcpOption['value'] {
  const bad = (want: string): never => fail(code, `${where}: value ${show(v)} is not ${want}`, `give the ${type} value as ${want}, or change type`);
  switch (type) {
    case 'ip':
      return canonicalIpv4(v) ?? bad('a dotted-quad address');
    case 'ips':
      return ipList(v, `${where}.value`, code, 63);
    case 'string':
      return typeof v === 'string' && v.length > 0 && v.length <= 1024 ? v : bad('text of 1 to 1024 characters');
    case 'u8':
    case 'u16':
    case 'u32': {
      const max = type === 'u8' ? 0xff : type === 'u16' ? 0xffff : 0xffffffff;
      return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= max ? v : bad(`an integer 0..${max}`);
    }
    case 'bool':
      return typeof v === 'boolean' ? v : bad('true or false');
    case 'hex': {
      const h = typeof v === 'string' ? v.replace(/[:\s-]/g, '') : '';
      return h.length > 0 && h.length <= 510 && h.length % 2 === 0 && /^[0-9a-fA-F]+$/.test(h) ? (v as string) : bad('hex octets such as 01:02:0a');
    }
  }
}

/**
 * DHCP options of a host or group: routers, dns_servers, domain_name, ntp_servers and options (a
 * list of {code, type, value}, as in the config). Returns only the keys given; null when none.
 */
export function checkDhcpOptions(v: unknown, code: Code): DhcpOptions | null {
  if (v === null || v === undefined) return null;
  if (!isObject(v)) fail(code, 'dhcp must be a mapping', `write dhcp: with any of ${OPTION_KEYS.join(', ')}`);
  const out: DhcpOptions = {};
  for (const k of Object.keys(v)) if (!OPTION_KEYS.includes(k)) fail(code, `dhcp.${k} is not a DHCP setting`, `use ${OPTION_KEYS.join(', ')} (any other option goes under dhcp.options as {code, type, value})`);
  for (const k of ['routers', 'dns_servers', 'ntp_servers'] as const) if (v[k] !== undefined) out[k] = ipList(v[k], `dhcp.${k}`, code, 32);
  if (v['domain_name'] !== undefined) {
    const d = v['domain_name'];
    if (typeof d !== 'string' || d.length > 253 || !DOMAIN.test(d)) fail(code, `dhcp.domain_name ${show(d)} is not a DNS domain`, 'write e.g. lab.example.test');
    out.domain_name = d;
  }
  if (v['options'] !== undefined) {
    const list = v['options'];
    if (!Array.isArray(list) || list.length > 64) fail(code, 'dhcp.options must be a list of at most 64 {code, type, value}', 'write e.g. options: [{code: 150, type: ip, value: 198.18.0.1}]');
    out.options = list.map((o: unknown, i): DhcpOption => {
      const where = `dhcp.options[${i}]`;
      if (!isObject(o)) fail(code, `${where} must be a mapping`, 'write {code: N, type: T, value: V}');
      for (const k of Object.keys(o)) if (!['code', 'type', 'value'].includes(k)) fail(code, `${where}.${k} is not allowed`, 'an option has code, type and value only');
      const c = o['code'];
      if (typeof c !== 'number' || !Number.isInteger(c) || c < 1 || c > 254) fail(code, `${where}.code ${show(c)} is not an option code`, 'use an integer 1..254');
      if (SERVER_OWNED.has(c)) fail(code, `${where}: option ${c} is set by the DHCP server itself`, 'remove it');
      const t = o['type'];
      if (typeof t !== 'string' || !(DHCP_OPTION_TYPES as readonly string[]).includes(t)) fail(code, `${where}.type ${show(t)} is not an option type`, `use one of: ${DHCP_OPTION_TYPES.join(', ')}`);
      return { code: c, type: t as DhcpOptionType, value: checkValue(t as DhcpOptionType, o['value'], where, code) };
    });
  }
  return Object.keys(out).length === 0 ? null : out;
}
