// Request-path normalisation shared by TFTP, HTTP and the generated-file registry. Pure.
import { FileError, quoteName } from './errors.ts';

export const MAX_PATH_LENGTH = 1024;
export const MAX_COMPONENT_LENGTH = 255;

export type NormalizeResult = { ok: true; path: string } | { ok: false; error: FileError };

function refuse(name: string, why: string): NormalizeResult {
  return { ok: false, error: new FileError('BH_FILES_BAD_NAME', 'denied', `request for ${quoteName(name)} refused: ${why}`) };
}

/**
 * Turns a requested name into a root-relative path ('a/b/c'), or refuses it. One leading '/' is
 * stripped (it means the root). Refused: empty names, control bytes (< 0x20, 0x7f), backslashes
 * (remap them first if a client needs that), a second leading '/', empty, '.' and '..'
 * components, a trailing '/', and overlong names or components.
 */
export function normalizeRequestPath(name: string): NormalizeResult {
  if (name.length === 0) return refuse(name, 'empty name');
  if (name.length > MAX_PATH_LENGTH) return refuse(name, 'name too long');
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return refuse(name, 'control byte in name');
    if (c === 0x5c) return refuse(name, 'backslash in name');
  }
  const rel = name.charCodeAt(0) === 0x2f ? name.slice(1) : name;
  if (rel.length === 0) return refuse(name, 'the root is a directory');
  if (rel.charCodeAt(0) === 0x2f) return refuse(name, 'absolute path');
  const parts = rel.split('/');
  for (const p of parts) {
    if (p === '') return refuse(name, 'empty path component (double or trailing slash)');
    if (p === '.' || p === '..') return refuse(name, "'.' or '..' component");
    if (p.length > MAX_COMPONENT_LENGTH) return refuse(name, 'path component too long');
  }
  return { ok: true, path: rel };
}
