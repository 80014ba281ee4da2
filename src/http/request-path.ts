// From the raw HTTP request target to the name handed to the file resolver. Pure.
//
// SECURITY.md TM-05 and H01–H10: the target is percent-decoded exactly once, then validated; the
// decoded octets must be valid UTF-8 (overlong forms such as %c0%ae are invalid); what the
// resolver would refuse anyway ('..', control bytes, backslashes) is refused here with 400 so a
// client learns nothing from the difference. Directory URLs and hidden or editor-backup names
// answer 404 exactly like a missing file, so nothing can be enumerated.

export type TargetResult =
  | { ok: true; path: string }
  | { ok: false; status: 400 | 404 | 414; reason: string };

/** Longest request target (path and query) accepted; longer ones get 414. */
export const MAX_TARGET_LENGTH = 4096;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function hex(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/** Percent-decodes once into UTF-8 text; undefined for a malformed escape or invalid UTF-8. */
export function percentDecodeOnce(s: string): string | undefined {
  if (!s.includes('%')) {
    // Node's parser hands over raw octets as latin1 code units; non-ASCII must be valid UTF-8.
    // eslint-disable-next-line no-control-regex
    if (/^[\x00-\x7f]*$/.test(s)) return s;
  }
  const bytes = Buffer.allocUnsafe(s.length);
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25) {
      const hi = hex(s.charCodeAt(i + 1));
      const lo = hex(s.charCodeAt(i + 2));
      if (hi < 0 || lo < 0) return undefined;
      bytes[n++] = hi * 16 + lo;
      i += 2;
    } else if (c > 0xff) {
      return undefined; // not something an HTTP/1.1 parser hands over
    } else {
      bytes[n++] = c;
    }
  }
  try {
    return utf8.decode(bytes.subarray(0, n));
  } catch {
    return undefined;
  }
}

/** Names that are never boot artefacts: dotfiles, VCS metadata, editor swap and backup files. */
export function isHiddenOrBackup(path: string): boolean {
  for (const part of path.split('/')) {
    if (part.startsWith('.') || part.endsWith('~') || (part.startsWith('#') && part.endsWith('#'))) return true;
    if (/\.(swp|swo|swx|bak|orig|rej|tmp|old|save|dpkg-(old|new|dist)|ucf-(old|new|dist))$/i.test(part)) return true;
  }
  return false;
}

/**
 * Validates an origin-form request target (`/path?query`) and returns the root-relative file
 * name. Refuses absolute-form (`http://host/x`), `//x`, `*`, overlong targets (414), malformed
 * escapes, invalid UTF-8, control bytes, backslashes and '.'/'..' components (400); directory
 * URLs and hidden/backup names (404).
 */
export function decodeRequestTarget(target: string): TargetResult {
  if (target.length > MAX_TARGET_LENGTH) return { ok: false, status: 414, reason: 'request target too long' };
  if (target.charCodeAt(0) !== 0x2f) return { ok: false, status: 400, reason: 'not an origin-form target (absolute-form or asterisk)' };
  if (target.charCodeAt(1) === 0x2f) return { ok: false, status: 400, reason: "target starts with '//'" };
  const q = target.indexOf('?');
  const rawPath = q < 0 ? target : target.slice(0, q);
  const path = percentDecodeOnce(rawPath);
  if (path === undefined) return { ok: false, status: 400, reason: 'malformed percent-escape or invalid UTF-8' };
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return { ok: false, status: 400, reason: 'control byte in path' };
    if (c === 0x5c) return { ok: false, status: 400, reason: 'backslash in path' };
  }
  if (path.length > 1 && path.charCodeAt(1) === 0x2f) return { ok: false, status: 400, reason: "decoded path starts with '//'" };
  const rel = path.slice(1);
  for (const part of rel.split('/')) {
    if (part === '.' || part === '..') return { ok: false, status: 400, reason: "'.' or '..' component" };
  }
  if (rel === '' || rel.endsWith('/')) return { ok: false, status: 404, reason: 'directory URL (no listings)' };
  if (rel.includes('//')) return { ok: false, status: 400, reason: 'empty path component' };
  if (isHiddenOrBackup(rel)) return { ok: false, status: 404, reason: 'hidden or backup file name' };
  return { ok: true, path: rel };
}
