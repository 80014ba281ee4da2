// Bounds and checks for what reaches the store. Client-supplied strings (hostname, client-id, MAC)
// come from a hostile LAN (SECURITY.md §0 items 8 and 10): the store writes only records it can read
// back, with bounded lengths and no control characters. Errors quote at most a short, escaped prefix.
import { isIP } from 'node:net';
import { StoreError } from './errors.ts';

export function quote(v: unknown): string {
  const s = typeof v === 'string' ? v : String(v);
  return JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}…` : s);
}

export function invalid(what: string, field: string, value: unknown, rule: string): StoreError {
  return new StoreError('BH_STORE_INVALID', `refusing to store ${what}: ${field} ${quote(value)} ${rule}`, 'The caller must validate and bound client-supplied values before storing them');
}

const PRINTABLE = /^[\x20-\x7e]*$/;

export function checkText(what: string, field: string, v: unknown, max: number, opts: { pattern?: RegExp; allowEmpty?: boolean } = {}): string {
  if (typeof v !== 'string') throw invalid(what, field, v, 'is not a string');
  if (v.length === 0 && opts.allowEmpty !== true) throw invalid(what, field, v, 'is empty');
  if (v.length > max) throw invalid(what, field, v, `is longer than ${max} characters`);
  if (!(opts.pattern ?? PRINTABLE).test(v)) throw invalid(what, field, v, 'contains characters that are not allowed');
  return v;
}

/** Free text that may hold any Unicode except control characters (names, labels). */
export const NO_CONTROL = /^[^\p{Cc}\u2028\u2029]*$/u;

export function checkOptionalText(what: string, field: string, v: unknown, max: number, pattern?: RegExp): string | null {
  if (v === null || v === undefined) return null;
  return checkText(what, field, v, max, pattern === undefined ? {} : { pattern });
}

export function checkTime(what: string, field: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw invalid(what, field, v, 'is not a time in milliseconds since 1970');
  return v;
}

export function checkIp(what: string, v: unknown): string {
  if (typeof v !== 'string' || v.length > 45 || isIP(v) === 0) throw invalid(what, 'ip', v, 'is not an IP address');
  return v;
}

/** A hardware address: 1 to 16 hex octets separated by colons (chaddr is at most 16 bytes). */
export const MAC_PATTERN = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){0,15}$/;
/** A lease's client key: `mac:<MAC>`, `id:<client identifier in hex, up to 255 bytes>`, either after `declined:`. */
export const CLIENT_KEY_PATTERN = /^(?:declined:)?(?:mac:[0-9a-fA-F]{2}(?::[0-9a-fA-F]{2}){0,15}|id:[0-9a-fA-F]{1,510})$/;
/** What we keep of a client-supplied hostname: printable ASCII, no spaces at either end. */
export const HOSTNAME_PATTERN = /^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$/;

/**
 * Turns a client-supplied hostname (DHCP option 12, 81) into what the store accepts: letters,
 * digits, '-', '_' and '.', at most 253 characters; null when nothing usable is left.
 */
export function sanitizeHostname(raw: string | null | undefined): string | null {
  if (raw === null || raw === undefined) return null;
  const s = raw.replace(/[^A-Za-z0-9._-]/g, '').replace(/^[.-]+/, '').slice(0, 253);
  return s === '' ? null : s;
}

export function jsonText(what: string, field: string, v: unknown, max: number): string {
  let s: string | undefined;
  try {
    s = JSON.stringify(v ?? {});
  } catch (err) {
    throw invalid(what, field, `(${(err as Error).message})`, 'cannot be written as JSON');
  }
  if (s === undefined) throw invalid(what, field, v, 'cannot be written as JSON');
  if (s.length > max) throw invalid(what, field, `${s.length} characters of JSON`, `is larger than ${max}`);
  return s;
}

/** Reads JSON text written by jsonText; a damaged value reads as {} rather than failing the load. */
export function parseJson(s: string | null | undefined): unknown {
  if (s === null || s === undefined || s === '') return {};
  try {
    return JSON.parse(s);
  } catch {
    return {};
  }
}
