// The Node HTTP(S) server under the fastify app: parser limits, timeouts, a per-IP connection
// cap, TLS 1.2+ only, fixed error answers for what never reaches fastify (SECURITY.md H07, H09,
// H12, H13, H15, H17, H21, H24), and a late-bound request handler so that `bootherd serve` can
// bind port 80/443 while still root and start serving only after the privilege drop.
import http from 'node:http';
import https from 'node:https';
import { constants as cryptoConstants } from 'node:crypto';
import type { IncomingMessage, ServerResponse, RequestListener } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from '../log/logger.ts';
import { RateLimitedLog, silentLogger } from '../log/logger.ts';
import { FastConnection } from './fast-conn.ts';
import type { FastAnswer, FastPath } from './fast-conn.ts';

export type { FastAnswer, FastPath } from './fast-conn.ts';

export interface HttpLimits {
  /** Request line plus headers, octets (H12). Node's default is 16 KiB. */
  maxHeaderSize: number;
  /** Headers beyond this count are ignored by Node's parser. */
  maxHeadersCount: number;
  /** Time allowed to receive the request headers (slowloris, H15). */
  headersTimeoutMs: number;
  /** Time allowed to receive a whole request. */
  requestTimeoutMs: number;
  /** How long an idle keep-alive connection stays open. */
  keepAliveTimeoutMs: number;
  /** A connection with no traffic at all in either direction for this long is closed. */
  idleTimeoutMs: number;
  /** Simultaneous connections from one client address; more are closed at once. */
  maxConnectionsPerIp: number;
  /** Simultaneous connections in total. */
  maxConnections: number;
  /** TLS handshake deadline. */
  tlsHandshakeTimeoutMs: number;
}

export const DEFAULT_HTTP_LIMITS: Readonly<HttpLimits> = {
  maxHeaderSize: 16 * 1024,
  maxHeadersCount: 100,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 15_000,
  idleTimeoutMs: 60_000,
  maxConnectionsPerIp: 128,
  maxConnections: 4096,
  tlsHandshakeTimeoutMs: 10_000,
};

export interface TlsMaterial {
  /** PEM certificate (chain: server certificate first). */
  cert: Buffer | string;
  /** PEM private key. */
  key: Buffer | string;
}

/** Requests that arrive between bind and start wait for the handler; beyond this they get 503. */
const MAX_PENDING = 256;

export interface HttpListenerOptions {
  tls?: TlsMaterial | undefined;
  limits?: Partial<HttpLimits> | undefined;
  logger?: Logger | undefined;
}

export class HttpListener {
  readonly server: http.Server | https.Server;
  readonly limits: Readonly<HttpLimits>;
  readonly secure: boolean;
  private handler: RequestListener | undefined;
  private fast: FastPath | undefined;
  private closing = false;
  /** Node's own connection listener (plain HTTP): connections go there unless the fast path takes them. */
  private readonly nodeConnection: ((this: http.Server, socket: Socket) => void) | undefined;
  /** Plain-HTTP connections on the fast path right now (fast-conn.ts). */
  private readonly fastConns = new Set<FastConnection>();
  private readonly pending: [IncomingMessage, ServerResponse][] = [];
  private readonly perIp = new Map<string, number>();
  private readonly remoteLog: RateLimitedLog;
  private readonly log: Logger;
  /** Connections refused by the per-IP cap (a metric). */
  refusedConnections = 0;

  constructor(opts: HttpListenerOptions = {}) {
    this.limits = { ...DEFAULT_HTTP_LIMITS, ...opts.limits };
    this.log = opts.logger ?? silentLogger();
    this.remoteLog = new RateLimitedLog(this.log);
    const l = this.limits;
    const common: http.ServerOptions = {
      maxHeaderSize: l.maxHeaderSize,
      insecureHTTPParser: false,
      requireHostHeader: true,
      joinDuplicateHeaders: false,
      keepAliveTimeout: l.keepAliveTimeoutMs,
      headersTimeout: l.headersTimeoutMs,
      requestTimeout: l.requestTimeoutMs,
      connectionsCheckingInterval: Math.min(1000, l.headersTimeoutMs),
    };
    const onRequest: RequestListener = (req, res) => {
      const h = this.handler;
      if (h !== undefined) {
        if (this.answerFast(req, res, h)) return;
        return h(req, res);
      }
      if (this.pending.length >= MAX_PENDING) return fixedResponse(res, 503);
      this.pending.push([req, res]);
    };
    if (opts.tls !== undefined) {
      this.secure = true;
      this.server = https.createServer(
        {
          ...common,
          cert: opts.tls.cert,
          key: opts.tls.key,
          minVersion: 'TLSv1.2',
          // AEAD suites only for TLS 1.2 (TLS 1.3 suites are all AEAD); iPXE speaks these.
          ciphers: 'ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM:AESGCM:!aNULL:!eNULL:!EXPORT:!RC4:!MD5:!DES:!3DES',
          honorCipherOrder: true,
          secureOptions: cryptoConstants.SSL_OP_NO_RENEGOTIATION | cryptoConstants.SSL_OP_NO_SSLv2 | cryptoConstants.SSL_OP_NO_SSLv3 | cryptoConstants.SSL_OP_NO_TLSv1 | cryptoConstants.SSL_OP_NO_TLSv1_1,
          handshakeTimeout: l.tlsHandshakeTimeoutMs,
        },
        onRequest,
      );
      this.server.on('tlsClientError', (err: NodeJS.ErrnoException, socket) => {
        this.remoteLog.warn('tls', { client: socket.remoteAddress, code: err.code }, 'BH_HTTP_TLS_HANDSHAKE: TLS handshake refused (old protocol or cipher, or not TLS)');
      });
    } else {
      this.secure = false;
      this.server = http.createServer(common, onRequest);
      // Connections start on the fast path (fast-conn.ts) and reach Node's HTTP server when a
      // request is not a fast one. Node's listener is found by name; if it ever is not there, the
      // fast path works per request only (answerFast), as it does for HTTPS.
      const own = this.server.listeners('connection').find((f) => f.name === 'connectionListener') as ((this: http.Server, socket: Socket) => void) | undefined;
      if (own !== undefined) {
        this.nodeConnection = own;
        this.server.removeListener('connection', own);
        this.server.on('connection', (socket: Socket) => this.route(socket));
      }
    }
    this.server.maxHeadersCount = l.maxHeadersCount;
    this.server.maxConnections = l.maxConnections;
    this.server.setTimeout(l.idleTimeoutMs);
    this.server.prependListener('connection', (socket: Socket) => this.admit(socket));
    this.server.on('clientError', (err: NodeJS.ErrnoException & { rawPacket?: Buffer }, socket: Duplex) => this.clientError(err, socket));
    // CONNECT (H07): never a proxy.
    this.server.on('connect', (_req: IncomingMessage, socket: Duplex) => {
      rawAnswer(socket, 405, 'Allow: GET, HEAD\r\n');
    });
  }

  /** Hands requests to `handler` from now on, including those that arrived while it was unset. */
  setHandler(handler: RequestListener): void {
    this.handler = handler;
    for (const [req, res] of this.pending.splice(0)) {
      if (!res.destroyed) handler(req, res);
    }
  }

  /**
   * Answers GET and HEAD of `fast.paths` without the app (fastify): on plain HTTP from the first
   * byte of a connection (fast-conn.ts), on HTTPS and on connections already handed to Node per
   * request. Everything else, and everything once the listener is closing, goes to the app.
   */
  setFastPath(fast: FastPath | undefined): void {
    this.fast = fast;
  }

  /** A new plain-HTTP connection (already admitted): the fast path, or Node's HTTP server. */
  private route(socket: Socket): void {
    if (socket.destroyed) return;
    const fast = this.fast;
    if (fast === undefined || this.closing || this.handler === undefined) return this.nodeConnection!.call(this.server as http.Server, socket);
    const l = this.limits;
    const c = new FastConnection(socket, {
      fast,
      limits: { maxHeaderSize: l.maxHeaderSize, maxHeadersCount: l.maxHeadersCount, keepAliveTimeoutMs: l.keepAliveTimeoutMs },
      handOff: (s, unread, ended) => {
        // As if the connection had started in Node's server: it reads on from here.
        this.nodeConnection!.call(this.server as http.Server, s);
        if (unread !== undefined) s.emit('data', unread);
        if (ended) s.emit('end');
      },
      done: (fc) => this.fastConns.delete(fc),
    });
    this.fastConns.add(c);
  }

  /** The per-request fast path (HTTPS, and connections Node's server already has). */
  private answerFast(req: IncomingMessage, res: ServerResponse, app: RequestListener): boolean {
    const fast = this.fast;
    if (fast === undefined || this.closing) return false;
    const method = req.method;
    if (method !== 'GET' && method !== 'HEAD') return false;
    const url = req.url ?? '';
    if (url.charCodeAt(0) !== 0x2f || url.charCodeAt(1) === 0x2f) return false;
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    if (!fast.paths.has(path)) return false;
    const answer = fast.answer(path, q < 0 ? '' : url.slice(q + 1), req.socket.remoteAddress ?? '');
    if (answer === undefined) return false;
    if (!(answer instanceof Promise)) {
      sendFast(res, method === 'HEAD', answer);
      return true;
    }
    answer.then(
      (a) => (a === undefined ? app(req, res) : sendFast(res, method === 'HEAD', a)),
      (err: unknown) => {
        this.log.error({ err }, 'BH_HTTP_INTERNAL: a fast-path answer failed (a bug): please report it with this log line');
        if (!res.headersSent) app(req, res);
        else res.destroy();
      },
    );
    return true;
  }

  /** Starts listening; resolves with the bound address. Rejects with the listen error (EACCES, EADDRINUSE...). */
  listen(host: string, port: number): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.server.once('error', onError);
      this.server.listen({ host, port, exclusive: true }, () => {
        this.server.removeListener('error', onError);
        resolve(this.server.address() as AddressInfo);
      });
    });
  }

  get address(): AddressInfo | undefined {
    const a = this.server.address();
    return a !== null && typeof a === 'object' ? a : undefined;
  }

  /** Open connections right now. */
  get connections(): number {
    let n = 0;
    for (const v of this.perIp.values()) n += v;
    return n;
  }

  /**
   * Stops accepting, closes idle keep-alive connections, lets requests in flight finish for up
   * to `graceMs`, then cuts the rest.
   */
  async close(graceMs: number): Promise<void> {
    if (!this.server.listening) return;
    this.closing = true;
    for (const c of this.fastConns) c.shutdown();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    for (const [, res] of this.pending.splice(0)) fixedResponse(res, 503);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, graceMs);
      // Re-check idle connections while waiting: a keep-alive connection that finished its last
      // response is closed instead of holding the shutdown up.
    });
    const sweep = setInterval(() => this.server.closeIdleConnections(), 100);
    await Promise.race([closed, deadline]);
    clearInterval(sweep);
    clearTimeout(timer);
    for (const c of this.fastConns) c.destroy();
    this.server.closeAllConnections();
    await closed;
  }

  private admit(socket: Socket): void {
    const ip = socket.remoteAddress ?? '';
    const n = (this.perIp.get(ip) ?? 0) + 1;
    if (n > this.limits.maxConnectionsPerIp) {
      this.refusedConnections++;
      this.remoteLog.warn(`cap:${ip}`, { client: ip, limit: this.limits.maxConnectionsPerIp }, 'BH_HTTP_CONN_CAP: too many connections from one address; closed the newest (raise http limits if this is a legitimate proxy)');
      socket.destroy();
      return;
    }
    this.perIp.set(ip, n);
    socket.once('close', () => {
      const left = (this.perIp.get(ip) ?? 1) - 1;
      if (left <= 0) this.perIp.delete(ip);
      else this.perIp.set(ip, left);
    });
  }

  private clientError(err: NodeJS.ErrnoException & { rawPacket?: Buffer }, socket: Duplex): void {
    if (err.code === 'ECONNRESET' || socket.destroyed || !socket.writable) {
      socket.destroy();
      return;
    }
    let status = 400;
    if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') status = 408;
    else if (err.code === 'HPE_HEADER_OVERFLOW') status = requestLineOverflowed(err.rawPacket) ? 414 : 431;
    else if (err.code === 'HPE_INVALID_METHOD') status = 405;
    const client = (socket as Socket).remoteAddress;
    if (status !== 408) this.remoteLog.warn('parse', { client, code: err.code, status }, 'BH_HTTP_BAD_REQUEST: malformed HTTP request refused');
    rawAnswer(socket, status, status === 405 ? 'Allow: GET, HEAD\r\n' : '');
  }
}

/** True when the parser overflowed while still in the request line (a giant URL: 414, not 431). */
function requestLineOverflowed(raw: Buffer | undefined): boolean {
  if (raw === undefined || raw.length === 0) return false;
  return raw.indexOf(0x0a) < 0 && /^[A-Z]{3,10} /.test(raw.subarray(0, 12).toString('latin1'));
}

/** The fixed plain-text body for a status: its reason phrase, nothing about the server. */
export function publicBody(status: number): string {
  return `${http.STATUS_CODES[status] ?? 'Error'}\n`;
}

function rawAnswer(socket: Duplex, status: number, extraHeaders: string): void {
  const body = publicBody(status);
  socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? 'Error'}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n${extraHeaders}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  // end() flushes and half-closes; make sure the descriptor goes even if the peer never reads.
  setTimeout(() => socket.destroy(), 1000).unref();
}

function sendFast(res: ServerResponse, head: boolean, a: FastAnswer): void {
  if (res.destroyed) return;
  res.writeHead(a.status, ['content-type', a.contentType, 'cache-control', 'no-store', 'content-length', String(Buffer.byteLength(a.body))]);
  res.end(head ? undefined : a.body);
}

function fixedResponse(res: ServerResponse, status: number): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = publicBody(status);
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body), connection: 'close' });
  res.end(body);
}
