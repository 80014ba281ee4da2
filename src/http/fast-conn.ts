// The plain-HTTP fast path for the hottest requests (the per-host boot scripts): a connection
// starts here, before Node's HTTP server sees it. As long as every request on it is a plain
// GET or HEAD of one of the fast paths, complete in what has arrived, this module answers it
// itself; the first request that is anything else (another path or method, a body, HTTP/1.0, an
// unusual header, a head split over several reads...) and every byte after it go to Node's HTTP
// server and the app, exactly as if the connection had started there. The parser below accepts
// only a strict subset of HTTP/1.1 (RFC 9112) and hands off everything outside it, so the
// hostile-input handling (SECURITY.md §2.5) stays Node's and the app's.
// docs/decisions/0012-http-fast-path.md has the why and the numbers.
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';

/** What the app layer says for a fast path (see HttpListener.setFastPath). */
export interface FastAnswer {
  status: number;
  contentType: string;
  body: string;
}

export interface FastPath {
  /** Exact paths (without the query) it may answer, e.g. `/boot.ipxe`. */
  paths: ReadonlySet<string>;
  /**
   * The answer to GET/HEAD `path?query` from `ip`, now or as a promise. Undefined (or a promise of
   * undefined): not this time (the engine is not up yet, the boot root has its own file): the app
   * answers. An answer object may be returned again for later requests (it is then never modified):
   * the encoded response is kept with it for the current second.
   */
  answer(path: string, query: string, ip: string): FastAnswer | Promise<FastAnswer | undefined> | undefined;
}

export type ParsedHead =
  | { kind: 'incomplete' }
  | { kind: 'other' }
  | { kind: 'fast'; head: boolean; path: string; query: string; close: boolean; end: number };

export interface HeadLimits {
  maxHeaderSize: number;
  maxHeadersCount: number;
}

// RFC 9110 §5.6.2 token characters, and field-value characters without obs-text.
const TOKEN = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") TOKEN[c.charCodeAt(0)] = 1;
const VCHAR_OR_WS = (c: number): boolean => c === 0x09 || (c >= 0x20 && c <= 0x7e);
const TARGET_CHAR = (c: number): boolean => c >= 0x21 && c <= 0x7e && c !== 0x23; // no fragment
/** Headers that change how the message is framed or handled: always the app's business. */
const HAND_OFF = new Set(['content-length', 'transfer-encoding', 'expect', 'upgrade', 'te', 'trailer', 'http2-settings']);

/**
 * Parses one request head at buf[start..]. `fast` only for a complete, strictly well-formed
 * HTTP/1.1 GET or HEAD of one of `paths` in origin form, with exactly one Host header, no body
 * framing headers, within the limits; `incomplete` when no complete head has arrived yet (and the
 * limits are not yet exceeded); `other` for everything else. Pure.
 */
export function parseHead(buf: Buffer, start: number, paths: ReadonlySet<string>, limits: HeadLimits): ParsedHead {
  const end = buf.indexOf('\r\n\r\n', start, 'latin1');
  if (end < 0) return buf.length - start > limits.maxHeaderSize ? { kind: 'other' } : { kind: 'incomplete' };
  const headEnd = end + 4;
  if (headEnd - start > limits.maxHeaderSize) return { kind: 'other' };
  // Request line: METHOD SP origin-form SP HTTP/1.1 CRLF
  let i = start;
  let head: boolean;
  if (buf[i] === 0x47 && buf[i + 1] === 0x45 && buf[i + 2] === 0x54 && buf[i + 3] === 0x20) {
    head = false;
    i += 4;
  } else if (buf[i] === 0x48 && buf[i + 1] === 0x45 && buf[i + 2] === 0x41 && buf[i + 3] === 0x44 && buf[i + 4] === 0x20) {
    head = true;
    i += 5;
  } else {
    return { kind: 'other' };
  }
  if (buf[i] !== 0x2f || buf[i + 1] === 0x2f) return { kind: 'other' };
  const targetStart = i;
  let q = -1;
  while (i < end && buf[i] !== 0x20) {
    const c = buf[i]!;
    if (!TARGET_CHAR(c)) return { kind: 'other' };
    if (c === 0x3f && q < 0) q = i;
    i++;
  }
  const targetEnd = i;
  // " HTTP/1.1\r\n"
  if (buf.toString('latin1', i, i + 11) !== ' HTTP/1.1\r\n') return { kind: 'other' };
  i += 11;
  const path = buf.toString('latin1', targetStart, q < 0 ? targetEnd : q);
  if (!paths.has(path)) return { kind: 'other' };
  const query = q < 0 ? '' : buf.toString('latin1', q + 1, targetEnd);
  // Header fields: name ":" OWS value OWS CRLF, until the empty line.
  let hosts = 0;
  let count = 0;
  let close = false;
  while (i < end + 2) {
    const lineEnd = buf.indexOf('\r\n', i, 'latin1');
    if (lineEnd < 0 || lineEnd > end) return { kind: 'other' };
    if (++count > limits.maxHeadersCount) return { kind: 'other' };
    let n = i;
    while (n < lineEnd && TOKEN[buf[n]!] === 1) n++;
    if (n === i || buf[n] !== 0x3a) return { kind: 'other' }; // empty or non-token name, obs-fold, space before ':'
    for (let v = n + 1; v < lineEnd; v++) if (!VCHAR_OR_WS(buf[v]!)) return { kind: 'other' }; // CR, LF, NUL, obs-text
    const name = buf.toString('latin1', i, n).toLowerCase();
    if (HAND_OFF.has(name)) return { kind: 'other' };
    if (name === 'host') hosts++;
    else if (name === 'connection') {
      const tokens = buf.toString('latin1', n + 1, lineEnd).toLowerCase().split(',').map((t) => t.trim());
      for (const t of tokens) {
        if (t === 'close') close = true;
        else if (t !== 'keep-alive' && t !== '') return { kind: 'other' };
      }
    }
    i = lineEnd + 2;
  }
  if (hosts !== 1) return { kind: 'other' };
  return { kind: 'fast', head, path, query, close, end: headEnd };
}

let dateSecond = -1;
let dateText = '';
/** The Date header's value, formatted once per second. */
function httpDate(): string {
  const now = Date.now();
  const s = Math.floor(now / 1000);
  if (s !== dateSecond) {
    dateSecond = s;
    dateText = new Date(now).toUTCString();
  }
  return dateText;
}


/** Encoded responses per answer object, for the second in which they were made (Date changes). */
const encoded = new WeakMap<FastAnswer, { second: number; variants: (Buffer | undefined)[] }>();

/** responseText as bytes, reused while the same answer object is served within one second. */
function responseBytes(a: FastAnswer, head: boolean, close: boolean, keepAliveS: number): Buffer {
  httpDate();
  let e = encoded.get(a);
  if (e === undefined || e.second !== dateSecond) {
    e = { second: dateSecond, variants: [] };
    encoded.set(a, e);
  }
  const v = (head ? 1 : 0) + (close ? 2 : 0);
  return (e.variants[v] ??= Buffer.from(responseText(a, head, close, keepAliveS)));
}

/** The response as Node's HTTP server writes it for the app's answer (header for header). */
export function responseText(a: FastAnswer, head: boolean, close: boolean, keepAliveS: number): string {
  const status = `HTTP/1.1 ${a.status} ${STATUS_CODES[a.status] ?? 'Unknown'}\r\n`;
  const conn = close ? 'Connection: close\r\n' : `Connection: keep-alive\r\nKeep-Alive: timeout=${keepAliveS}\r\n`;
  return `${status}content-type: ${a.contentType}\r\ncache-control: no-store\r\ncontent-length: ${Buffer.byteLength(a.body)}\r\nDate: ${httpDate()}\r\n${conn}\r\n${head ? '' : a.body}`;
}

export interface FastConnectionOptions {
  fast: FastPath;
  limits: HeadLimits & { keepAliveTimeoutMs: number };
  /**
   * Gives the socket, the bytes read but not answered, and whether the client already half-closed,
   * to Node's HTTP server.
   */
  handOff: (socket: Socket, unread: Buffer | undefined, ended: boolean) => void;
  /** Called once when the connection leaves this module (handed off or closed). */
  done: (c: FastConnection) => void;
}

const ignore = (): void => {};

/**
 * Unanswered bytes kept here at most; a client that pipelines more than this goes to Node's server,
 * which reads with backpressure (and appending to a large buffer would copy it again each time).
 */
export const MAX_BUFFERED = 64 * 1024;

/** One plain-HTTP connection while its requests are all fast ones. */
export class FastConnection {
  private readonly socket: Socket;
  private readonly opts: FastConnectionOptions;
  private pending: Buffer | undefined;
  /** An answer is being made: requests that arrive meanwhile wait, in order. */
  private busy = false;
  private finished = false;
  /** Answer what is in flight with Connection: close, then end (the server is closing). */
  private closeSoon = false;
  /** The client has half-closed: answer what it sent, then close. */
  private ended = false;
  private readonly ip: string;
  private readonly onData = (d: Buffer): void => {
    this.pending = this.pending === undefined ? d : Buffer.concat([this.pending, d]);
    if (!this.busy) this.next();
  };
  private readonly onTimeout = (): void => {
    this.socket.destroy();
  };
  private readonly onClose = (): void => this.leave();
  private readonly onEnd = (): void => {
    this.ended = true;
    if (this.idle) {
      this.leave();
      this.socket.end();
    }
  };

  constructor(socket: Socket, opts: FastConnectionOptions) {
    this.socket = socket;
    this.opts = opts;
    this.ip = socket.remoteAddress ?? '';
    socket.setTimeout(opts.limits.keepAliveTimeoutMs);
    // Stays for the socket's life: a reset after this module let go must not become an uncaught error.
    socket.on('error', ignore);
    socket.on('timeout', this.onTimeout);
    socket.on('close', this.onClose);
    socket.on('end', this.onEnd);
    socket.on('data', this.onData);
  }

  /** True while no request is being answered (safe to close at once). */
  get idle(): boolean {
    return !this.busy && this.pending === undefined;
  }

  /** The server is closing: finish the request in flight with Connection: close, or close now if idle. */
  shutdown(): void {
    if (this.finished) return;
    this.closeSoon = true;
    if (!this.busy) this.socket.destroy();
  }

  /** Closes the connection now, whatever is in flight (the grace period is over). */
  destroy(): void {
    this.leave();
    this.socket.destroy();
  }

  /** Answers what has arrived, in order, until it runs out, waits for an answer, or hands off. */
  private next(): void {
    while (!this.finished && !this.busy) {
      const buf = this.pending;
      if (buf === undefined) {
        // Everything answered and the client half-closed (it came while we waited): close too.
        if (this.ended) {
          this.leave();
          this.socket.end();
        }
        return;
      }
      if (buf.length > MAX_BUFFERED) return this.handOff();
      const r = parseHead(buf, 0, this.opts.fast.paths, this.opts.limits);
      if (r.kind !== 'fast') return this.handOff();
      const p = this.opts.fast.answer(r.path, r.query, this.ip);
      if (p === undefined) return this.handOff();
      if (!(p instanceof Promise)) {
        if (!this.respond(r, p)) return;
        continue;
      }
      this.busy = true;
      p.then(
        (a) => {
          this.busy = false;
          if (this.finished) return;
          if (a === undefined) return this.handOff();
          if (this.respond(r, a)) this.next();
        },
        () => {
          this.busy = false;
          if (!this.finished) this.handOff();
        },
      );
      return;
    }
  }

  /** Writes the answer to the request at the head of `pending`; false when nothing more is to be read now. */
  private respond(r: { head: boolean; close: boolean; end: number }, a: FastAnswer): boolean {
    const pending = this.pending!;
    const close = r.close || this.closeSoon || (this.ended && pending.length === r.end);
    // pending starts with this request (bytes that came while it was answered were appended).
    this.pending = pending.length > r.end ? pending.subarray(r.end) : undefined;
    this.socket.write(responseBytes(a, r.head, close, Math.floor(this.opts.limits.keepAliveTimeoutMs / 1000)));
    if (close) {
      this.leave();
      this.socket.end();
      return false;
    }
    if (this.socket.writableNeedDrain) {
      // A client that pipelines without reading: stop reading until it catches up.
      this.socket.pause();
      this.busy = true;
      this.socket.once('drain', () => {
        this.busy = false;
        this.socket.resume();
        this.next();
      });
      return false;
    }
    return true;
  }

  private handOff(): void {
    if (this.finished) return;
    const unread = this.pending;
    this.pending = undefined;
    this.leave();
    this.opts.handOff(this.socket, unread, this.ended);
  }

  /** Detaches from the socket (once). */
  private leave(): void {
    if (this.finished) return;
    this.finished = true;
    const s = this.socket;
    s.removeListener('data', this.onData);
    s.removeListener('timeout', this.onTimeout);
    s.removeListener('close', this.onClose);
    s.removeListener('end', this.onEnd);
    s.setTimeout(0);
    this.opts.done(this);
  }
}
