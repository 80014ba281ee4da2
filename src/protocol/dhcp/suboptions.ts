// Encapsulated sub-option TLVs (option 43 PXE, 82 relay agent information, 175 iPXE). Pure.

/**
 * Parse code/length/value sub-options. With `padEnd`, code 0 is a one-octet PAD and code 255 ends
 * the list (PXE 43, iPXE 175); without it every code is a TLV (RFC 3046 option 82).
 * Returns undefined when a sub-option runs past the end or the list is empty. The first instance
 * of a repeated code wins. Values are views into `buf`.
 */
export function parseSubOptions(buf: Uint8Array | undefined, padEnd: boolean): Map<number, Uint8Array> | undefined {
  if (buf === undefined || buf.length === 0) return undefined;
  const out = new Map<number, Uint8Array>();
  const n = buf.length;
  let i = 0;
  while (i < n) {
    const code = buf[i] as number;
    if (padEnd) {
      if (code === 0) {
        i++;
        continue;
      }
      if (code === 255) break;
    }
    if (i + 1 >= n) return undefined;
    const len = buf[i + 1] as number;
    const end = i + 2 + len;
    if (end > n) return undefined;
    if (!out.has(code)) out.set(code, buf.subarray(i + 2, end));
    i = end;
  }
  return out;
}

/**
 * Encode sub-options in map order. Codes outside 1..254 and values longer than 255 octets are
 * left out (sub-options cannot be split). With `end`, a 255 END octet closes the list.
 */
export function encodeSubOptions(map: ReadonlyMap<number, Uint8Array>, end: boolean): Uint8Array {
  let size = end ? 1 : 0;
  for (const [code, v] of map) if (usable(code, v)) size += 2 + v.length;
  const out = new Uint8Array(size);
  let o = 0;
  for (const [code, v] of map) {
    if (!usable(code, v)) continue;
    out[o] = code;
    out[o + 1] = v.length;
    out.set(v, o + 2);
    o += 2 + v.length;
  }
  if (end) out[o] = 255;
  return out;
}

function usable(code: number, v: Uint8Array): boolean {
  return Number.isInteger(code) && code >= 1 && code <= 254 && v instanceof Uint8Array && v.length <= 255;
}
