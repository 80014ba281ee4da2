// Netascii (RFC 764 as used by RFC 1350): a local text file is sent with LF as CR LF and a bare CR
// as CR NUL. Pure; the whole file is converted at once (the server caps the size it converts).

/** Converts local (Unix) text to netascii. */
export function toNetascii(input: Uint8Array): Buffer {
  let extra = 0;
  for (let i = 0; i < input.length; i++) if (input[i] === 0x0a || input[i] === 0x0d) extra++;
  const out = Buffer.allocUnsafe(input.length + extra);
  let o = 0;
  for (let i = 0; i < input.length; i++) {
    const c = input[i]!;
    if (c === 0x0a) {
      out[o++] = 0x0d;
      out[o++] = 0x0a;
    } else if (c === 0x0d) {
      out[o++] = 0x0d;
      out[o++] = 0x00;
    } else {
      out[o++] = c;
    }
  }
  return out;
}
