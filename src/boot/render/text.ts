// What may reach a boot script or config (SECURITY.md §0 item 10). Client-supplied strings
// (hostname, vendor and user class, query parameters) are never interpolated raw: they become
// `safeText` (a fixed character set) or are refused. Operator-supplied values (profile kernel,
// initrd, cmdline, labels) are checked: no control characters, no iPXE expansion `${`, no iPXE
// command chaining `&&` / `||`; a value that fails is a RenderError naming the field and the fix.
import { parseMac } from '../../util/mac.ts';
import { BhError } from '../../errors.ts';

export class RenderError extends BhError {
  declare readonly code: 'BH_BOOT_UNSAFE_VALUE';
  readonly field: string;
  constructor(field: string, message: string) {
    super('BH_BOOT_UNSAFE_VALUE', message);
    this.field = field;
  }
}

/**
 * Display text for comments, menu gaps and messages: printable ASCII only, without the characters
 * any of our targets treat specially ($ { } \ ' " ` | & ; < > #), at most `max` characters.
 */
export function safeText(s: string | null | undefined, max = 64): string {
  if (s === null || s === undefined) return '';
  return s.slice(0, max).replace(/[^\x20-\x7e]/g, '?').replace(/[${}\\'"`|&;<>#]/g, '_').trim();
}

/** A MAC in canonical aa:bb:cc:dd:ee:ff form, or undefined for anything else (a hostile query value). */
export function canonicalMac(s: string | undefined): string | undefined {
  return s === undefined ? undefined : parseMac(s);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A UUID in lower case, or undefined (iPXE sends an empty string when the machine has none). */
export function canonicalUuid(s: string | undefined): string | undefined {
  if (s === undefined) return undefined;
  const u = s.trim().toLowerCase();
  return UUID.test(u) && u !== '00000000-0000-0000-0000-000000000000' ? u : undefined;
}

/** An operator value for a command line or label: one line, printable, no expansion or chaining. */
export function checkValue(field: string, s: string, max = 4096): string {
  if (s.length > max) throw new RenderError(field, `${field} is longer than ${max} characters: shorten it`);
  if (/[^\x20-\x7e]/.test(s)) throw new RenderError(field, `${field} contains control or non-ASCII characters: remove them (a boot command line is one printable line)`);
  if (s.includes('${')) throw new RenderError(field, `${field} contains "\${", which iPXE would expand: remove it`);
  if (s.includes('&&') || s.includes('||')) throw new RenderError(field, `${field} contains "&&" or "||", which chain commands in iPXE: remove them`);
  return s;
}

/** An operator path or URL: checkValue, plus no whitespace or quotes. */
export function checkPath(field: string, s: string): string {
  checkValue(field, s, 1024);
  if (s === '') throw new RenderError(field, `${field} is empty: name a file under the boot root or a URL`);
  if (/[\s'"`\\;]/.test(s)) throw new RenderError(field, `${field} contains whitespace, quotes, backslashes or ";": percent-encode them in URLs and rename files`);
  if (/^[a-z][a-z0-9+.-]*:/i.test(s) && !/^(https?|tftp):\/\//i.test(s)) throw new RenderError(field, `${field} is a URL with a scheme other than http, https or tftp: use one of those`);
  return s;
}

export function isUrl(s: string): boolean {
  return /^(https?|tftp):\/\//i.test(s);
}

/** The last path segment of a path or URL (without query), as iPXE names a downloaded image. */
export function baseName(s: string): string {
  const noQuery = s.replace(/[?#].*$/, '');
  const parts = noQuery.split('/');
  return parts[parts.length - 1] ?? noQuery;
}

/** Splits an operator command line into words (whitespace-separated; no shell quoting). */
export function words(cmdline: string): string[] {
  return cmdline.split(/\s+/).filter((w) => w !== '');
}
