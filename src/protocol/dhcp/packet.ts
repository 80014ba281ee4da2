// DHCPv4 / BOOTP packet: the fixed header, the magic cookie and the option areas (RFC 2131, 2132,
// 3396). decodeDhcp is total (any byte string gives a packet or a typed error); encodeDhcp can only
// produce well-formed packets. Pure: no I/O, no clock, no logging.

export interface DhcpPacket {
  op: number;
  htype: number;
  hlen: number;
  hops: number;
  xid: number;
  secs: number;
  /** bit 15 (0x8000) = broadcast; other bits are reserved and ignored. */
  flags: number;
  ciaddr: string;
  yiaddr: string;
  siaddr: string;
  giaddr: string;
  /** The 16-octet field as received (the MAC is the first hlen octets). */
  chaddr: Uint8Array;
  /** NUL-terminated fields decoded as latin1; '' when the field is overloaded with options. */
  sname: string;
  file: string;
  /**
   * In order of first appearance. RFC 3396: repeated instances are concatenated. Option 52
   * overload is already merged (options → file → sname). Never contains 0, 255 or 52.
   */
  options: Map<number, Uint8Array>;
  /** Codes seen more than once (D13: option 53 twice must be rejectable). */
  duplicateOptions: number[];
}

export type DhcpDecodeErrorCode =
  | 'BH_DHCP_TRUNCATED'
  | 'BH_DHCP_NO_COOKIE'
  | 'BH_DHCP_BAD_COOKIE'
  | 'BH_DHCP_BAD_HLEN'
  | 'BH_DHCP_BAD_OPTION';

export interface DhcpDecodeError {
  code: DhcpDecodeErrorCode;
  message: string;
}

export type DhcpDecodeResult = { ok: true; packet: DhcpPacket } | { ok: false; error: DhcpDecodeError };

export interface DhcpEncodeOptions {
  /** Largest DHCP message (UDP payload) to produce, in octets. Default 576; values below 241 count as 241. */
  maxSize?: number;
}

const FIXED_LEN = 236;
const COOKIE_LEN = 4;
const HEADER_LEN = FIXED_LEN + COOKIE_LEN;
const SNAME_OFF = 44;
const SNAME_LEN = 64;
const FILE_OFF = 108;
const FILE_LEN = 128;
const CHADDR_OFF = 28;
const MIN_ENCODED = HEADER_LEN + 1; // header, cookie, END
const BOOTP_MIN_LEN = 300;
const OPT_PAD = 0;
const OPT_OVERLOAD = 52;
const OPT_END = 255;
const MAGIC = [99, 130, 83, 99] as const;

function err(code: DhcpDecodeErrorCode, message: string): DhcpDecodeResult {
  return { ok: false, error: { code, message } };
}

function ipAt(b: Uint8Array, o: number): string {
  return `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;
}

function copy16(b: Uint8Array, off: number): Uint8Array {
  const out = new Uint8Array(16);
  out.set(b.subarray(off, off + 16));
  return out;
}

function cString(b: Uint8Array, off: number, len: number): string {
  let end = off;
  const max = off + len;
  while (end < max && b[end] !== 0) end++;
  if (end === off) return '';
  return String.fromCharCode.apply(null, b.subarray(off, end) as unknown as number[]);
}

/** Collected option segments: the first one by code, plus extra segments only for repeated codes. */
class OptionCollector {
  readonly first = new Map<number, Uint8Array>();
  extra: Map<number, Uint8Array[]> | undefined;

  add(code: number, value: Uint8Array): void {
    const prev = this.first.get(code);
    if (prev === undefined) {
      this.first.set(code, value);
      return;
    }
    this.extra ??= new Map();
    const list = this.extra.get(code);
    if (list === undefined) this.extra.set(code, [value]);
    else list.push(value);
  }
}

/**
 * Walk one option area. Returns false when an option runs past the end of the area (the caller
 * decides whether that is fatal). PAD is skipped, END stops the walk, nested 52 is dropped by the
 * caller's `allowOverload`.
 */
function walkArea(b: Uint8Array, start: number, end: number, into: OptionCollector, allowOverload: boolean): boolean {
  let i = start;
  while (i < end) {
    const code = b[i] as number;
    if (code === OPT_PAD) {
      i++;
      continue;
    }
    if (code === OPT_END) return true;
    if (i + 1 >= end) return false;
    const len = b[i + 1] as number;
    const vstart = i + 2;
    const vend = vstart + len;
    if (vend > end) return false;
    if (code !== OPT_OVERLOAD || allowOverload) {
      into.add(code, new Uint8Array(b.buffer, b.byteOffset + vstart, len));
    }
    i = vend;
  }
  return true;
}

export function decodeDhcp(buf: Uint8Array): DhcpDecodeResult {
  const b = buf;
  const n = b.length;
  if (n < FIXED_LEN) return err('BH_DHCP_TRUNCATED', `DHCP packet of ${n} octets is shorter than the 236-octet BOOTP header; dropped`);
  const htype = b[1] as number;
  const hlen = b[2] as number;
  if (hlen > 16) return err('BH_DHCP_BAD_HLEN', `hlen ${hlen} is larger than the 16-octet chaddr field; dropped`);
  if (htype === 0 && hlen !== 0) return err('BH_DHCP_BAD_HLEN', `htype 0 with hlen ${hlen}; dropped`);
  if (n < HEADER_LEN) return err('BH_DHCP_NO_COOKIE', 'BOOTP packet without the DHCP magic cookie; dropped (BOOTP is not supported)');
  if (b[236] !== MAGIC[0] || b[237] !== MAGIC[1] || b[238] !== MAGIC[2] || b[239] !== MAGIC[3]) {
    return err('BH_DHCP_BAD_COOKIE', `magic cookie ${b[236]}.${b[237]}.${b[238]}.${b[239]} is not 99.130.83.99; dropped`);
  }

  const col = new OptionCollector();
  if (!walkArea(b, HEADER_LEN, n, col, true)) {
    return err('BH_DHCP_BAD_OPTION', 'an option runs past the end of the packet; dropped');
  }
  // Option 52: exactly one octet, 1 = file, 2 = sname, 3 = both (D19: anything else is ignored).
  let overload = 0;
  const ov = col.first.get(OPT_OVERLOAD);
  if (ov !== undefined && col.extra?.has(OPT_OVERLOAD) !== true && ov.length === 1) {
    const v = ov[0] as number;
    if (v >= 1 && v <= 3) overload = v;
  }
  // D17/D18: one level only; a nested 52 is ignored; an option overrunning its field is dropped
  // and the walk of that field stops, never reading into the next field.
  if (overload & 1) walkArea(b, FILE_OFF, FILE_OFF + FILE_LEN, col, false);
  if (overload & 2) walkArea(b, SNAME_OFF, SNAME_OFF + SNAME_LEN, col, false);

  col.first.delete(OPT_OVERLOAD);
  const duplicateOptions: number[] = [];
  if (col.extra !== undefined) {
    for (const [code, rest] of col.extra) {
      if (code === OPT_OVERLOAD) continue;
      duplicateOptions.push(code);
      const head = col.first.get(code) as Uint8Array;
      let total = head.length;
      for (const r of rest) total += r.length;
      const joined = new Uint8Array(total);
      joined.set(head, 0);
      let o = head.length;
      for (const r of rest) {
        joined.set(r, o);
        o += r.length;
      }
      col.first.set(code, joined);
    }
  }

  const packet: DhcpPacket = {
    op: b[0] as number,
    htype,
    hlen,
    hops: b[3] as number,
    xid: (((b[4] as number) << 24) | ((b[5] as number) << 16) | ((b[6] as number) << 8) | (b[7] as number)) >>> 0,
    secs: ((b[8] as number) << 8) | (b[9] as number),
    flags: ((b[10] as number) << 8) | (b[11] as number),
    ciaddr: ipAt(b, 12),
    yiaddr: ipAt(b, 16),
    siaddr: ipAt(b, 20),
    giaddr: ipAt(b, 24),
    chaddr: copy16(b, CHADDR_OFF),
    sname: overload & 2 ? '' : cString(b, SNAME_OFF, SNAME_LEN),
    file: overload & 1 ? '' : cString(b, FILE_OFF, FILE_LEN),
    options: col.first,
    duplicateOptions,
  };
  return { ok: true, packet };
}

function writeIp(out: Uint8Array, off: number, ip: string): void {
  // Lenient: anything that is not a dotted quad of 0..255 writes 0.0.0.0.
  let part = 0;
  let val = 0;
  let digits = 0;
  const tmp = [0, 0, 0, 0];
  for (let i = 0; i < ip.length; i++) {
    const c = ip.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || part === 3) return;
      tmp[part++] = val;
      val = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57 && digits < 3) {
      val = val * 10 + (c - 48);
      digits++;
      if (val > 255) return;
    } else return;
  }
  if (part !== 3 || digits === 0) return;
  tmp[3] = val;
  out[off] = tmp[0] as number;
  out[off + 1] = tmp[1] as number;
  out[off + 2] = tmp[2] as number;
  out[off + 3] = tmp[3] as number;
}

function writeLatin1(out: Uint8Array, off: number, len: number, s: string): void {
  const m = Math.min(s.length, len);
  for (let i = 0; i < m; i++) out[off + i] = s.charCodeAt(i) & 0xff;
}

/** Octets an option takes on the wire, split into 255-octet pieces per RFC 3396. */
function wireSize(len: number): number {
  const pieces = len === 0 ? 1 : Math.ceil(len / 255);
  return len + 2 * pieces;
}

function writeOption(out: Uint8Array, off: number, code: number, v: Uint8Array): number {
  const len = v.length;
  if (len <= 255) {
    // The common case, byte by byte: cheaper than set() + subarray() for a few octets.
    out[off] = code;
    out[off + 1] = len;
    const at = off + 2;
    for (let i = 0; i < len; i++) out[at + i] = v[i] as number;
    return at + len;
  }
  let o = off;
  for (let s = 0; s < len; s += 255) {
    const piece = Math.min(255, len - s);
    out[o] = code;
    out[o + 1] = piece;
    out.set(v.subarray(s, s + piece), o + 2);
    o += 2 + piece;
  }
  return o;
}

function validCode(code: number): boolean {
  return Number.isInteger(code) && code > 0 && code < 255 && code !== OPT_OVERLOAD;
}

/** Place options greedily in map order (first = highest priority) into areas of the given capacities. */
function place(entries: [number, Uint8Array][], caps: number[]): number[][] {
  const used = caps.map(() => 0);
  const areas: number[][] = caps.map(() => []);
  for (let k = 0; k < entries.length; k++) {
    const size = wireSize((entries[k] as [number, Uint8Array])[1].length);
    for (let a = 0; a < caps.length; a++) {
      if ((used[a] as number) + size <= (caps[a] as number)) {
        used[a] = (used[a] as number) + size;
        (areas[a] as number[]).push(k);
        break;
      }
    }
  }
  return areas;
}

export function encodeDhcp(p: DhcpPacket, opts?: DhcpEncodeOptions): Buffer {
  let maxSize = Math.floor(Number(opts?.maxSize ?? 576));
  if (!(maxSize >= MIN_ENCODED)) maxSize = MIN_ENCODED; // also catches NaN
  const mainCap = maxSize - HEADER_LEN - 1;

  // Fast path: every option fits the main area (nearly every reply). No per-option allocation.
  let total = 0;
  for (const [code, v] of p.options) {
    if (!validCode(code) || !(v instanceof Uint8Array)) continue;
    total += wireSize(v.length);
  }
  if (total <= mainCap) {
    const out = header(p, HEADER_LEN + total + 1, maxSize, 0);
    let o = HEADER_LEN;
    for (const [code, v] of p.options) {
      if (!validCode(code) || !(v instanceof Uint8Array)) continue;
      o = writeOption(out, o, code, v);
    }
    out[o] = OPT_END;
    return out;
  }

  const entries: [number, Uint8Array][] = [];
  for (const [code, v] of p.options) {
    if (!validCode(code) || !(v instanceof Uint8Array)) continue;
    entries.push([code, v]);
  }
  let areas: number[][]; // [main, file, sname]
  let overload = 0;
  const canFile = p.file === '';
  const canSname = p.sname === '';
  // Option 52 itself takes 3 octets of the options field.
  const withOverload = mainCap >= 3 && (canFile || canSname)
    ? place(entries, [mainCap - 3, canFile ? FILE_LEN - 1 : 0, canSname ? SNAME_LEN - 1 : 0])
    : undefined;
  if (withOverload !== undefined && ((withOverload[1] as number[]).length > 0 || (withOverload[2] as number[]).length > 0)) {
    areas = withOverload;
    overload = ((withOverload[1] as number[]).length > 0 ? 1 : 0) | ((withOverload[2] as number[]).length > 0 ? 2 : 0);
  } else {
    areas = place(entries, [mainCap]);
    areas.push([], []);
  }

  let mainUsed = overload ? 3 : 0;
  for (const k of areas[0] as number[]) mainUsed += wireSize((entries[k] as [number, Uint8Array])[1].length);
  const out = header(p, HEADER_LEN + mainUsed + 1, maxSize, overload);

  let o = HEADER_LEN;
  if (overload) {
    out[o] = OPT_OVERLOAD;
    out[o + 1] = 1;
    out[o + 2] = overload;
    o += 3;
  }
  writeArea(out, o, areas[0] as number[], entries);
  if (overload & 1) writeArea(out, FILE_OFF, areas[1] as number[], entries);
  if (overload & 2) writeArea(out, SNAME_OFF, areas[2] as number[], entries);
  return out;
}

/** Writes the chosen options into one option area (options, file or sname) from `at`, then END. */
function writeArea(out: Uint8Array, at: number, keys: number[], entries: [number, Uint8Array][]): void {
  let o = at;
  for (const k of keys) {
    const [code, v] = entries[k] as [number, Uint8Array];
    o = writeOption(out, o, code, v);
  }
  out[o] = OPT_END;
}

/**
 * A zeroed buffer of `size` octets (padded to BOOTP's 300 when maxSize allows) with the fixed header and cookie
 * written; the fields whose space overload gives to options are left zero. From Node's buffer pool
 * (allocUnsafe + fill): a reply is small, and a fresh zeroed ArrayBuffer per reply costs more.
 */
function header(p: DhcpPacket, size: number, maxSize: number, overload: number): Buffer {
  const n = size < BOOTP_MIN_LEN ? Math.min(BOOTP_MIN_LEN, maxSize) : size;
  const out = Buffer.allocUnsafe(n).fill(0);
  out[0] = p.op & 0xff;
  out[1] = p.htype & 0xff;
  out[2] = p.hlen & 0xff;
  out[3] = p.hops & 0xff;
  out.writeUInt32BE(p.xid >>> 0, 4);
  out.writeUInt16BE(p.secs & 0xffff, 8);
  out.writeUInt16BE(p.flags & 0xffff, 10);
  writeIp(out, 12, p.ciaddr);
  writeIp(out, 16, p.yiaddr);
  writeIp(out, 20, p.siaddr);
  writeIp(out, 24, p.giaddr);
  if (p.chaddr instanceof Uint8Array) {
    const m = Math.min(16, p.chaddr.length);
    for (let i = 0; i < m; i++) out[CHADDR_OFF + i] = p.chaddr[i] as number;
  }
  if (!(overload & 2)) writeLatin1(out, SNAME_OFF, SNAME_LEN, p.sname ?? '');
  if (!(overload & 1)) writeLatin1(out, FILE_OFF, FILE_LEN, p.file ?? '');
  out[236] = MAGIC[0];
  out[237] = MAGIC[1];
  out[238] = MAGIC[2];
  out[239] = MAGIC[3];
  return out;
}

export function newReply(request: DhcpPacket): DhcpPacket {
  const chaddr = new Uint8Array(16);
  if (request.chaddr instanceof Uint8Array) chaddr.set(request.chaddr.subarray(0, 16));
  return {
    op: 2,
    htype: request.htype,
    hlen: request.hlen,
    hops: 0,
    xid: request.xid,
    secs: 0,
    flags: request.flags,
    ciaddr: '0.0.0.0',
    yiaddr: '0.0.0.0',
    siaddr: '0.0.0.0',
    giaddr: request.giaddr,
    chaddr,
    sname: '',
    file: '',
    options: new Map(),
    duplicateOptions: [],
  };
}

/**
 * The DHCP message type (option 53) of a datagram, read without decoding it: a scan of the main
 * option area only (no overload, no concatenation). For triage before the full decode, e.g. which
 * queued requests to handle first under load; undefined when the datagram has no readable option
 * 53 there. decodeDhcp remains the authority on whether the packet is acceptable.
 */
export function peekMessageType(b: Uint8Array): number | undefined {
  const n = b.length;
  if (n < HEADER_LEN + 3 || b[236] !== MAGIC[0] || b[237] !== MAGIC[1] || b[238] !== MAGIC[2] || b[239] !== MAGIC[3]) return undefined;
  let i = HEADER_LEN;
  while (i < n) {
    const code = b[i] as number;
    if (code === OPT_PAD) {
      i++;
      continue;
    }
    if (code === OPT_END || i + 1 >= n) return undefined;
    const len = b[i + 1] as number;
    if (i + 2 + len > n) return undefined;
    if (code === 53) return len === 1 ? (b[i + 2] as number) : undefined;
    i += 2 + len;
  }
  return undefined;
}
