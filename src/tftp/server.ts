// The TFTP server: read-only, RFC 1350/2347/2348/2349/7440, SAS-safe and amplification-bounded.
//
// One listening socket per address (or sockets handed in, bound before a privilege drop). A read
// request becomes a TftpSession (session.ts: the protocol state machine) with its own ephemeral
// socket bound to the listener's address, made by the Transport (io.ts): plain dgram
// (io-dgram.ts) or the hot path (hot-path.ts). One coarse timer drives every session's
// retransmissions and idle timeouts. Hot files are shared Buffers from the resolver's cache, sent
// without copying.
import dgram from 'node:dgram';
import type { RemoteInfo, Socket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import type { EventBus } from '../events/bus.ts';
import { RateLimitedLog } from '../log/logger.ts';
import type { Logger } from '../log/logger.ts';
import { FileError } from '../files/errors.ts';
import type { GeneratedFiles } from '../files/registry.ts';
import { normalizeRequestPath } from '../files/paths.ts';
import { applyRemap, DEFAULT_TFTP_REMAP } from '../files/remap.ts';
import type { RemapRule } from '../files/remap.ts';
import type { OpenFile } from '../files/resolver.ts';
import { decodePacket, encodeError, ERR_ACCESS, ERR_ILLEGAL_OP, ERR_NOT_FOUND, ERR_UNDEFINED, OP_ERROR } from '../protocol/tftp/packets.ts';
import type { RequestPacket } from '../protocol/tftp/packets.ts';
import { blksizeForMtu } from '../protocol/tftp/options.ts';
import { HotPath } from './hot-path.ts';
import type { HotPathOptions } from './hot-path.ts';
import { DgramTransport } from './io-dgram.ts';
import type { Transport } from './io.ts';
import { TftpSession } from './session.ts';
import type { EndKind, SessionHost } from './session.ts';
import { DEFAULT_TFTP_LIMITS, literalLookup, newMetrics, SERVICE_PORTS } from './types.ts';
import type { FileOpener, Listener, TftpLimits, TftpMetrics } from './types.ts';
import { loadFastUdp } from './udp-fast.ts';
import type { FastUdp } from './udp-fast.ts';

export { DEFAULT_TFTP_LIMITS } from './types.ts';
export type { FileOpener, TftpLimits, TftpMetrics } from './types.ts';

export interface TftpServerOptions {
  logger: Logger;
  events: EventBus;
  resolver: FileOpener;
  /** Generated files served before the resolver is asked (the resolver may hold its own too). */
  registry?: GeneratedFiles;
  limits?: Partial<TftpLimits>;
  /** MTU of the interface that holds `localAddress`; blksize is clamped to it. Default: read from /sys/class/net. */
  mtu?: (localAddress: string) => number;
  /** Name rewrites applied before resolution (default: backslashes → '/'). */
  remap?: readonly RemapRule[];
  /** Creates per-transfer sockets (default: dgram udp4). */
  createSocket?: () => Socket;
  /** Monotonic milliseconds (default performance.now). */
  now?: () => number;
  /** Period of the retransmission/idle timer (default 20 ms). */
  tickMs?: number;
  /**
   * The hot path (default on, unless createSocket is given): transfer sockets are read and written
   * through libc, and after sending the server waits up to waitUs for the next ACK instead of going
   * back to the event loop, for at most sliceMs at a time. false: node:dgram only.
   */
  fastPath?:
    | (HotPathOptions & {
        /** The libc bindings (default loadFastUdp()); tests wrap them to inject failures. */
        udp?: FastUdp;
      })
    | false;
}

export type TftpStartOptions = { address: string; port: number } | { socket: Socket };

export class TftpServer {
  readonly limits: TftpLimits;
  private readonly log: Logger;
  private readonly remoteLog: RateLimitedLog;
  private readonly events: EventBus;
  private readonly resolver: FileOpener;
  private readonly registry: GeneratedFiles | undefined;
  private readonly mtuOf: (localAddress: string) => number;
  private readonly remap: readonly RemapRule[];
  private readonly now: () => number;
  private readonly tickMs: number;
  private readonly transport: Transport;
  /** What the sessions see of the server. */
  private readonly host: SessionHost;
  private readonly listeners: Listener[] = [];
  private readonly sessions = new Map<string, TftpSession>();
  private readonly perIp = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private stopping = false;
  private readonly m: TftpMetrics = newMetrics();

  constructor(opts: TftpServerOptions) {
    this.log = opts.logger;
    this.remoteLog = new RateLimitedLog(opts.logger);
    this.events = opts.events;
    this.resolver = opts.resolver;
    this.registry = opts.registry;
    this.limits = { ...DEFAULT_TFTP_LIMITS, ...opts.limits };
    this.mtuOf = opts.mtu ?? defaultMtu;
    this.remap = opts.remap ?? DEFAULT_TFTP_REMAP;
    // globalThis.performance is an accessor: read it once, not per call.
    const perf = performance;
    this.now = opts.now ?? (() => perf.now());
    this.tickMs = opts.tickMs ?? 20;
    const fp = opts.fastPath === false ? {} : (opts.fastPath ?? {});
    const fast = opts.fastPath === false || opts.createSocket !== undefined ? undefined : (fp.udp ?? loadFastUdp());
    this.transport =
      fast === undefined
        ? new DgramTransport(this.log, opts.createSocket ?? (() => dgram.createSocket({ type: 'udp4', lookup: literalLookup })), this.now)
        : new HotPath(fast, fp, this.limits.maxSessions, this.log, this.remoteLog, this.m, this.now);
    this.host = {
      limits: this.limits,
      counters: this.m,
      log: this.log,
      now: this.now,
      end: (s, how, reason, extra) => this.end(s, how, reason, extra),
      drop: (reason, address, port) => this.drop(reason, { address, port }),
    };
  }

  /** Listens on an address and port, or adopts an already-bound socket. May be called once per address. */
  async start(opts: TftpStartOptions): Promise<void> {
    let socket: Socket;
    let owned: boolean;
    if ('socket' in opts) {
      socket = opts.socket;
      owned = false;
    } else {
      socket = dgram.createSocket({ type: 'udp4' });
      owned = true;
      await new Promise<void>((resolve, reject) => {
        const onError = (err: Error): void => reject(new Error(`BH_TFTP_BIND: cannot listen on ${opts.address}:${opts.port} (${(err as NodeJS.ErrnoException).code ?? err.message}): pick a free port, or run with CAP_NET_BIND_SERVICE for port 69`));
        socket.once('error', onError);
        socket.bind({ address: opts.address, port: opts.port, exclusive: true }, () => {
          socket.off('error', onError);
          resolve();
        });
      });
    }
    const listener: Listener = { socket, address: socket.address().address, owned };
    socket.on('message', (msg, rinfo) => this.onRequestPacket(listener, msg, rinfo));
    socket.on('error', (err) => this.log.error({ err, address: listener.address }, 'BH_TFTP_SOCKET: error on the TFTP listening socket'));
    this.listeners.push(listener);
    this.transport.listen(socket);
    this.stopping = false;
  }

  /** The port of the first listener (useful with port 0). */
  get port(): number {
    const l = this.listeners[0];
    if (l === undefined) throw new Error('BH_TFTP_NOT_STARTED: start() the server first');
    return l.socket.address().port;
  }

  /** Which path runs lock-step transfers' ordinary rounds: the compiled loop (native/tftp-fast.c) or JavaScript. */
  get lockstepPath(): 'compiled' | 'javascript' {
    return this.transport.lockstepPath;
  }

  /** How the compiled loop sends the blocks of ACKs that arrived together: one io_uring_enter, or one sendmsg each (also without the loop). */
  get batchSendPath(): 'io_uring' | 'sendmsg' {
    return this.transport.batchSendPath;
  }

  get activeSessions(): number {
    return this.sessions.size;
  }

  /** A snapshot of the counters. */
  metrics(): TftpMetrics {
    return { ...this.m, active: this.sessions.size, unwatched: this.transport.unwatched, drops: { ...this.m.drops } };
  }

  /** Ends every transfer (the client gets ERROR 0) and closes all sockets, handed-in ones included. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const s of [...this.sessions.values()]) {
      s.abort(encodeError(ERR_UNDEFINED, 'Server shutting down'));
      this.end(s, 'failed', 'server-stopped');
    }
    const closing = this.listeners.map((l) => new Promise<void>((resolve) => l.socket.close(() => resolve())));
    this.listeners.length = 0;
    this.stopTimer();
    this.transport.stop();
    await Promise.all(closing);
  }

  // ---- requests on the listening socket ----

  private drop(reason: string, rinfo: { address: string; port: number }, extra: Record<string, unknown> = {}): void {
    this.m.drops[reason] = (this.m.drops[reason] ?? 0) + 1;
    this.remoteLog.warn(`drop:${reason}`, { client: `${rinfo.address}:${rinfo.port}`, reason, ...extra }, 'TFTP packet dropped');
  }

  private onRequestPacket(listener: Listener, msg: Buffer, rinfo: RemoteInfo): void {
    try {
      this.handleRequestPacket(listener, msg, rinfo);
    } catch (err) {
      // Parsers are total; this is a bug, and it must never take the server down.
      this.log.error({ err }, 'BH_TFTP_INTERNAL: unexpected error handling a request; please report it');
    }
  }

  private handleRequestPacket(listener: Listener, msg: Buffer, rinfo: RemoteInfo): void {
    if (this.stopping) return;
    if (SERVICE_PORTS.has(rinfo.port)) return this.drop('service-source-port', rinfo);
    const d = decodePacket(msg);
    if (!d.ok) {
      if (d.opcode === OP_ERROR || d.reason === 'empty' || d.reason === 'truncated' || d.reason === 'unknown-opcode') return this.drop(`bad-packet:${d.reason}`, rinfo);
      this.drop(`bad-request:${d.reason}`, rinfo);
      this.m.refused++;
      this.reply(listener, encodeError(ERR_ILLEGAL_OP, 'Illegal TFTP operation'), rinfo);
      return;
    }
    const p = d.packet;
    if (p.op === 'error') return this.drop('error-to-listener', rinfo); // never answer an ERROR
    if (p.op !== 'rrq' && p.op !== 'wrq') return this.drop(`unexpected-${p.op}`, rinfo);
    this.m.requests++;
    if (p.op === 'wrq') {
      this.m.refused++;
      this.drop('write-request', rinfo);
      this.reply(listener, encodeError(ERR_ACCESS, 'Access violation'), rinfo);
      return;
    }
    this.handleRrq(listener, p, msg.length, rinfo);
  }

  private handleRrq(listener: Listener, req: RequestPacket, size: number, rinfo: { address: string; port: number }): void {
    const key = `${rinfo.address}:${rinfo.port}`;
    const existing = this.sessions.get(key);
    let name: string;
    try {
      name = new TextDecoder('utf-8', { fatal: true }).decode(req.filenameBytes);
    } catch {
      return this.refuse(listener, rinfo, ERR_ACCESS, 'Access violation', 'bad-encoding', req.filename);
    }
    if (existing !== undefined) {
      if (existing.filename === name) {
        // A retransmitted RRQ: one transfer, but it counts towards what the client sent.
        existing.bytesIn += size;
        this.m.deduplicatedRequests++;
        return;
      }
      this.end(existing, 'failed', 'superseded');
    }
    if (this.sessions.size >= this.limits.maxSessions) return this.refuse(listener, rinfo, ERR_UNDEFINED, 'Server busy, try again later', 'busy', name);
    if ((this.perIp.get(rinfo.address) ?? 0) >= this.limits.maxSessionsPerIp) return this.refuse(listener, rinfo, ERR_UNDEFINED, 'Too many transfers from your address, try again later', 'busy-per-ip', name);

    const s = new TftpSession(this.host, listener, rinfo.address, rinfo.port, name, this.now(), size);
    this.transport.opening++;
    this.sessions.set(key, s);
    this.perIp.set(s.address, (this.perIp.get(s.address) ?? 0) + 1);
    this.ensureTimer();
    void this.openAndStart(s, req);
  }

  private refuse(listener: Listener, rinfo: { address: string; port: number }, code: number, text: string, reason: string, file: string): void {
    this.m.refused++;
    this.drop(`refused:${reason}`, rinfo, { file: JSON.stringify(file) });
    this.reply(listener, encodeError(code, text), rinfo);
    this.events.emit({ host: rinfo.address, stage: 'tftp', kind: 'request-refused', detail: { file, reason, client: `${rinfo.address}:${rinfo.port}` } });
  }

  /** Sends one packet from a listening socket. */
  private reply(listener: Listener, msg: Buffer, to: { address: string; port: number }): void {
    this.m.bytesSent += msg.length;
    this.m.packetsSent++;
    try {
      listener.socket.send(msg, to.port, to.address);
    } catch {
      // Socket already closed: the server is stopping.
    }
  }

  private async open(name: string): Promise<OpenFile> {
    const remapped = applyRemap(name, this.remap);
    if (this.registry !== undefined) {
      const n = normalizeRequestPath(remapped);
      const g = n.ok ? this.registry.get(n.path) : undefined;
      if (g !== undefined) {
        const data = g.data;
        return { path: g.path, size: data.length, mtime: g.mtime, generated: true, data, read: async (pos, len) => data.subarray(pos, pos + len), stream: () => { throw new Error('not used'); }, close: async () => {} };
      }
    }
    return this.resolver.open(remapped);
  }

  private async openAndStart(s: TftpSession, req: RequestPacket): Promise<void> {
    let file: OpenFile;
    try {
      file = await this.open(s.filename);
    } catch (err) {
      this.release(s);
      const fe = err instanceof FileError ? err : undefined;
      const code = fe?.kind === 'not-found' ? ERR_NOT_FOUND : ERR_ACCESS;
      if (fe === undefined) this.log.error({ err }, 'BH_TFTP_RESOLVER: the file resolver failed unexpectedly');
      else this.log.debug({ code: fe.code, client: s.key, msg: fe.message }, 'TFTP request refused');
      if (!this.stopping) this.refuse(s.listener, s, code, fe?.publicMessage ?? 'Access violation', fe?.kind ?? 'denied', s.filename);
      return;
    }
    if (isClosed(s)) {
      await file.close();
      return;
    }
    s.file = file;
    try {
      const maxBlksize = Math.min(this.limits.maxBlksize, blksizeForMtu(this.mtuOf(s.listener.address)));
      if (!(await s.prepare(req, file, maxBlksize))) {
        this.reply(s.listener, encodeError(ERR_UNDEFINED, 'File too large for netascii, use octet'), s);
        return this.end(s, 'failed', 'netascii-too-large');
      }
      if (isClosed(s)) return;
      await this.transport.open(s);
      if (isClosed(s)) return;
      const now = this.now();
      s.start(now);
      this.transport.opening--;
      this.m.started++;
      this.events.emit({ host: s.address, stage: 'tftp', kind: 'transfer-start', detail: s.detail(now) });
      this.transport.kick();
    } catch (err) {
      this.log.warn({ err, client: s.key }, 'BH_TFTP_START: could not start a transfer (out of file descriptors or sockets?): raise the fd limit (LimitNOFILE=) or lower tftp.max_sessions');
      if (!isClosed(s)) {
        this.reply(s.listener, encodeError(ERR_UNDEFINED, 'Server error, try again later'), s);
        this.end(s, 'failed', 'start-failed');
      }
    }
  }

  // ---- timers ----

  private ensureTimer(): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => this.tick(), this.tickMs);
    this.timer.unref();
  }

  private stopTimer(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  private tick(): void {
    const now = this.now();
    for (const s of this.sessions.values()) s.onTimer(now);
    if (this.sessions.size === 0) this.stopTimer();
    else this.transport.kick();
  }

  // ---- endings ----

  /** A session ends: counted, its event emitted, and freed. */
  private end(s: TftpSession, how: EndKind, reason: string, extra: Record<string, unknown> = {}): void {
    if (s.phase === 'closed') return;
    if (how === 'finished') {
      this.m.finished++;
      this.events.emit({ host: s.address, stage: 'tftp', kind: 'transfer-finish', detail: s.detail(this.now()) });
    } else if (how === 'declined') {
      // Quietly, not counted as failed (EDK2's ERROR 8 size probe).
      this.events.emit({ host: s.address, stage: 'tftp', kind: 'transfer-finish', detail: s.detail(this.now(), { reason }) });
      this.m.optionsDeclined++;
    } else if (s.sender !== undefined) {
      this.m.failed++;
      this.events.emit({ host: s.address, stage: 'tftp', kind: 'transfer-fail', detail: s.detail(this.now(), { reason, ...extra }) });
    }
    this.release(s);
  }

  private release(s: TftpSession): void {
    if (s.phase === 'closed') return;
    if (s.phase === 'opening') this.transport.opening--;
    s.phase = 'closed';
    if (this.sessions.get(s.key) === s) this.sessions.delete(s.key);
    const n = (this.perIp.get(s.address) ?? 1) - 1;
    if (n <= 0) this.perIp.delete(s.address);
    else this.perIp.set(s.address, n);
    s.io?.close();
    void s.file?.close();
    s.chunk = undefined;
  }
}

/** Reads the phase afresh (it changes across awaits). */
function isClosed(s: TftpSession): boolean {
  return s.phase === 'closed';
}

const mtuCache = new Map<string, number>();

/** The MTU of the interface holding `address` (from /sys/class/net), 1500 when unknown or for 0.0.0.0. */
export function defaultMtu(address: string): number {
  const cached = mtuCache.get(address);
  if (cached !== undefined) return cached;
  let mtu = 1500;
  for (const [name, addrs] of Object.entries(networkInterfaces())) {
    if (addrs?.some((a) => a.address === address)) {
      try {
        mtu = Number(readFileSync(`/sys/class/net/${name}/mtu`, 'utf8').trim()) || 1500;
      } catch {
        /* keep 1500 */
      }
      break;
    }
  }
  mtuCache.set(address, mtu);
  return mtu;
}
