// TFTP packets (RFC 1350) with option extension (RFC 2347): bytes ⇄ typed packets.
// Pure: no I/O, no clock, no logging. decodePacket is total: any byte string gives a packet or a
// typed error, never an exception.

export const OP_RRQ = 1;
export const OP_WRQ = 2;
export const OP_DATA = 3;
export const OP_ACK = 4;
export const OP_ERROR = 5;
export const OP_OACK = 6;

/** RFC 1350 §5 error codes, plus 8 from RFC 2347. */
export const ERR_UNDEFINED = 0;
export const ERR_NOT_FOUND = 1;
export const ERR_ACCESS = 2;
export const ERR_DISK_FULL = 3;
export const ERR_ILLEGAL_OP = 4;
export const ERR_UNKNOWN_TID = 5;
export const ERR_EXISTS = 6;
export const ERR_NO_USER = 7;
export const ERR_OPTIONS = 8;

/**
 * Only this many octets of a request are read (RFC 2347 says 512; real clients stay well below
 * 1,500): a file name and mode not terminated within them make the request 'too-long'; options
 * past them are ignored, as a server with a receive buffer of this size would.
 */
export const MAX_REQUEST_BYTES = 1500;
/** At most this many option pairs of a known name are kept; the rest of a request is ignored. */
export const MAX_OPTIONS = 32;
/** The option names a request's decoder keeps (RFC 2348, 2349, 7440); any other is skipped unread. */
export const KNOWN_OPTIONS: readonly string[] = ['blksize', 'timeout', 'tsize', 'windowsize'];
/** Longest option name or value kept; longer ones are ignored. */
const MAX_OPTION_FIELD = 64;

export type TransferMode = 'octet' | 'netascii';

export interface RequestOption {
  /** Lower-cased name, as sent (RFC 2347 names are case-insensitive). */
  name: string;
  value: string;
}

export interface RequestPacket {
  op: 'rrq' | 'wrq';
  /** The raw file name bytes, decoded as latin1 so every byte survives; see filenameBytes. */
  filename: string;
  filenameBytes: Buffer;
  mode: TransferMode;
  /**
   * Options of a KNOWN_OPTIONS name in request order (duplicates kept: negotiation decides).
   * Unknown names are skipped, so they never crowd out a known one (T25, T26).
   */
  options: RequestOption[];
}
export interface DataPacket {
  op: 'data';
  block: number;
  data: Buffer;
}
export interface AckPacket {
  op: 'ack';
  block: number;
}
export interface ErrorPacket {
  op: 'error';
  code: number;
  message: string;
}
export interface OackPacket {
  op: 'oack';
  options: RequestOption[];
}
export type TftpPacket = RequestPacket | DataPacket | AckPacket | ErrorPacket | OackPacket;

export type DecodeFailure =
  | 'empty'
  | 'truncated'
  | 'unknown-opcode'
  | 'too-long'
  | 'no-terminator'
  | 'empty-filename'
  | 'missing-mode'
  | 'unknown-mode';

export type DecodeResult = { ok: true; packet: TftpPacket } | { ok: false; reason: DecodeFailure; opcode: number };

function fail(reason: DecodeFailure, opcode: number): DecodeResult {
  return { ok: false, reason, opcode };
}

/** Decodes one datagram. Never throws. DATA payloads are views into `buf`, not copies. */
export function decodePacket(buf: Uint8Array): DecodeResult {
  if (buf.length === 0) return fail('empty', -1);
  if (buf.length < 2) return fail('truncated', -1);
  const b = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const op = (b[0]! << 8) | b[1]!;
  switch (op) {
    case OP_RRQ:
    case OP_WRQ:
      return decodeRequest(b, op);
    case OP_DATA:
      if (b.length < 4) return fail('truncated', op);
      return { ok: true, packet: { op: 'data', block: (b[2]! << 8) | b[3]!, data: b.subarray(4) } };
    case OP_ACK:
      if (b.length < 4) return fail('truncated', op);
      return { ok: true, packet: { op: 'ack', block: (b[2]! << 8) | b[3]! } };
    case OP_ERROR: {
      if (b.length < 4) return fail('truncated', op);
      let end = b.indexOf(0, 4);
      if (end < 0) end = b.length;
      const message = b.toString('latin1', 4, Math.min(end, 4 + 512));
      return { ok: true, packet: { op: 'error', code: (b[2]! << 8) | b[3]!, message } };
    }
    case OP_OACK: {
      if (b.length > MAX_REQUEST_BYTES) return fail('too-long', op);
      return { ok: true, packet: { op: 'oack', options: decodeOptions(b, 2) } };
    }
    default:
      return fail('unknown-opcode', op);
  }
}

function decodeRequest(buf: Buffer, op: number): DecodeResult {
  // Bounded work: nothing past MAX_REQUEST_BYTES is looked at.
  const b = buf.length > MAX_REQUEST_BYTES ? buf.subarray(0, MAX_REQUEST_BYTES) : buf;
  const fEnd = b.indexOf(0, 2);
  if (fEnd < 0) return fail(b === buf ? 'no-terminator' : 'too-long', op);
  if (fEnd === 2) return fail('empty-filename', op);
  if (fEnd + 1 >= b.length) return fail(b === buf ? 'missing-mode' : 'too-long', op);
  const mEnd = b.indexOf(0, fEnd + 1);
  if (mEnd < 0) return fail(b === buf ? 'no-terminator' : 'too-long', op);
  if (mEnd === fEnd + 1) return fail('missing-mode', op);
  const modeText = b.toString('latin1', fEnd + 1, mEnd).toLowerCase();
  let mode: TransferMode;
  if (modeText === 'octet') mode = 'octet';
  else if (modeText === 'netascii') mode = 'netascii';
  else return fail('unknown-mode', op);
  const filenameBytes = b.subarray(2, fEnd);
  return {
    ok: true,
    packet: {
      op: op === OP_RRQ ? 'rrq' : 'wrq',
      filename: filenameBytes.toString('latin1'),
      filenameBytes,
      mode,
      options: decodeOptions(b, mEnd + 1, true),
    },
  };
}

/** True when b[start, end) is one of KNOWN_OPTIONS, case-insensitively (no string is made for other names). */
function knownName(b: Buffer, start: number, end: number): boolean {
  const len = end - start;
  if (len !== 5 && len !== 7 && len !== 10) return false;
  return KNOWN_OPTIONS.includes(b.toString('latin1', start, end).toLowerCase());
}

/**
 * Name/value pairs from `start`; a trailing name without a NUL-terminated value is dropped (never
 * read past the end). With `knownOnly`, pairs of other names are skipped and do not count.
 */
function decodeOptions(b: Buffer, start: number, knownOnly = false): RequestOption[] {
  const out: RequestOption[] = [];
  let pos = start;
  while (pos < b.length && out.length < MAX_OPTIONS) {
    const nEnd = b.indexOf(0, pos);
    if (nEnd < 0) break;
    const vEnd = b.indexOf(0, nEnd + 1);
    if (vEnd < 0) break;
    if (nEnd - pos <= MAX_OPTION_FIELD && vEnd - nEnd - 1 <= MAX_OPTION_FIELD && nEnd > pos && (!knownOnly || knownName(b, pos, nEnd))) {
      out.push({ name: b.toString('latin1', pos, nEnd).toLowerCase(), value: b.toString('latin1', nEnd + 1, vEnd) });
    }
    pos = vEnd + 1;
  }
  return out;
}

// ---- encoders ----

/** Writes the 4-byte DATA header for `block` (taken mod 65536) into `target` at `offset`. */
export function writeDataHeader(target: Buffer, block: number, offset = 0): void {
  target[offset] = 0;
  target[offset + 1] = OP_DATA;
  target[offset + 2] = (block >>> 8) & 0xff;
  target[offset + 3] = block & 0xff;
}

export function encodeData(block: number, data: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(4 + data.length);
  writeDataHeader(out, block);
  out.set(data, 4);
  return out;
}

export function encodeAck(block: number): Buffer {
  return Buffer.from([0, OP_ACK, (block >>> 8) & 0xff, block & 0xff]);
}

/** An ERROR packet. The message is reduced to printable ASCII and 255 octets. */
export function encodeError(code: number, message: string): Buffer {
  const text = message.replace(/[^\x20-\x7e]/g, '?').slice(0, 255);
  const out = Buffer.alloc(4 + text.length + 1);
  out[1] = OP_ERROR;
  out[2] = (code >>> 8) & 0xff;
  out[3] = code & 0xff;
  out.write(text, 4, 'latin1');
  return out;
}

function encodePairs(op: number, head: string[], options: readonly RequestOption[]): Buffer {
  const parts = [...head];
  for (const o of options) parts.push(o.name, o.value);
  const body = Buffer.from(parts.map((p) => p + '\0').join(''), 'latin1');
  const out = Buffer.allocUnsafe(2 + body.length);
  out[0] = 0;
  out[1] = op;
  body.copy(out, 2);
  return out;
}

export function encodeOack(options: readonly RequestOption[]): Buffer {
  return encodePairs(OP_OACK, [], options);
}

/** An RRQ or WRQ (used by test clients and probes). */
export function encodeRequest(op: 'rrq' | 'wrq', filename: string, mode: string, options: readonly RequestOption[] = []): Buffer {
  return encodePairs(op === 'rrq' ? OP_RRQ : OP_WRQ, [filename, mode], options);
}
