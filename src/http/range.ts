// The `Range` request header (RFC 9110 §14), single range only. Pure: no I/O, no clock.
//
// bootherd serves one byte range or the whole file, never multipart/byteranges:
// - no header, a unit other than `bytes`, a syntax error or more than one range → the whole file
//   (200), which RFC 9110 §14.2 allows ("a server MAY ignore the Range header field"); a list of
//   1,000 ranges therefore costs nothing per range (SECURITY.md H14);
// - one satisfiable range → 206 with `Content-Range: bytes start-end/size`;
// - one range that selects nothing (`bytes=size-`, `bytes=5-1`, any range of an empty file) → 416
//   with `Content-Range: bytes */size`.
// Arithmetic stays within safe integers: a number of more than 15 digits is "larger than any file"
// (nginx CVE-2017-7529 was an integer overflow in exactly this place).

export type RangeResult =
  | { kind: 'full' }
  | { kind: 'partial'; start: number; end: number }
  | { kind: 'unsatisfiable' };

/** Longest Range header looked at; anything longer is ignored (whole file). */
export const MAX_RANGE_HEADER = 256;

const FULL: RangeResult = { kind: 'full' };
const UNSATISFIABLE: RangeResult = { kind: 'unsatisfiable' };
const SPEC = /^[ \t]*(\d*)[ \t]*-[ \t]*(\d*)[ \t]*$/;

/** Digits to a number; more than 15 significant digits count as Infinity (beyond any file). */
function toNumber(digits: string): number {
  const s = digits.replace(/^0+(?=\d)/, '');
  return s.length > 15 ? Infinity : Number(s);
}

/** Interprets a Range header against a file of `size` octets. */
export function parseRange(header: string | undefined, size: number): RangeResult {
  if (header === undefined || header.length > MAX_RANGE_HEADER) return FULL;
  const eq = header.indexOf('=');
  if (eq < 0 || header.slice(0, eq).trim().toLowerCase() !== 'bytes') return FULL;
  const set = header.slice(eq + 1);
  if (set.includes(',')) return FULL; // several ranges: serve the whole file, do no work per range
  const m = SPEC.exec(set);
  if (m === null) return FULL;
  const first = m[1] ?? '';
  const last = m[2] ?? '';
  if (first === '' && last === '') return FULL;
  if (first === '') {
    // Suffix range: the last N octets (all of them when N exceeds the size).
    const n = toNumber(last);
    if (n === 0 || size === 0) return UNSATISFIABLE;
    return { kind: 'partial', start: n >= size ? 0 : size - n, end: size - 1 };
  }
  const start = toNumber(first);
  if (start >= size) return UNSATISFIABLE;
  if (last === '') return { kind: 'partial', start, end: size - 1 };
  const end = toNumber(last);
  if (end < start) return UNSATISFIABLE;
  return { kind: 'partial', start, end: Math.min(end, size - 1) };
}
