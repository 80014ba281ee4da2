// The TFTP server: read-only, RFC 1350/2347/2348/2349/7440, SAS-safe and amplification-bounded.
//
// One listening socket per address (or sockets handed in, bound before a privilege drop). Each
// transfer gets its own ephemeral socket bound to the listener's address. Sending follows
// WindowSender (src/protocol/tftp/window.ts); one coarse timer drives every session's
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
import {
  decodePacket,
  encodeError,
  encodeOack,
  ERR_ACCESS,
  ERR_ILLEGAL_OP,
  ERR_NOT_FOUND,
  ERR_OPTIONS,
  ERR_UNDEFINED,
  ERR_UNKNOWN_TID,
  OP_ACK,
  OP_ERROR,
  writeDataHeader,
} from '../protocol/tftp/packets.ts';
import type { RequestPacket } from '../protocol/tftp/packets.ts';
import { blksizeForMtu, negotiate } from '../protocol/tftp/options.ts';
import { toNetascii } from '../protocol/tftp/netascii.ts';
import { blockCount, WindowSender } from '../protocol/tftp/window.ts';
import { EINTR, EINVAL, EIO, EPOLL_EVENT_BYTES, IOVEC_BYTES, SOCKADDR_BYTES } from '../net/libc.ts';
import { dgramFd, dgramWatch, type DgramWatch, fromSockaddr, GSO_MAX_BYTES, GSO_MAX_SEGMENTS, loadFastUdp, sockaddrIn, sockaddrWords } from './udp-fast.ts';
import type { FastUdp, RawBuffer } from './udp-fast.ts';
import {
  CTL_AVAIL_LAST,
  CTL_BASE,
  CTL_BASE_BLOCK,
  CTL_BLKSIZE,
  CTL_BYTES,
  CTL_BYTES_IN,
  CTL_BYTES_OUT,
  CTL_CUR,
  CTL_END,
  CTL_FD,
  CTL_FROM,
  CTL_LAST_RTT_NS,
  CTL_LEN,
  CTL_PEER0,
  CTL_PEER1,
  CTL_RBUF,
  CTL_RCAP,
  CTL_ROUNDS,
  CTL_SLICE_NS,
  CTL_TOTAL,
  CTL_WAIT_NS,
  LS_MISS,
  LS_PACKET,
  LS_SLOW,
  LS_YIELD,
  MP_BYTES_OUT,
  MP_CTL_BYTES,
  MP_EMPTY,
  MP_EPFD,
  MP_ERR,
  MP_ERROR,
  MP_EVENTS,
  MP_FROM,
  MP_IDLE,
  MP_LISTEN,
  LISTEN_MARK,
  MP_LEN,
  MP_MAX_EVENTS,
  MANY_MAX_EVENTS,
  MP_FLAGS,
  MP_F_URING,
  MP_NSLOTS,
  MP_PACKET,
  MP_RBUF,
  MP_RCAP,
  MP_ROUNDS,
  MP_SLICE_NS,
  MP_SLOT,
  MP_SLOTS,
  MP_WAITS,
  MP_WAIT_NS,
  MP_YIELD,
  SLOT_ARMED,
  SLOT_AVAIL_LAST,
  SLOT_BASE,
  SLOT_BASE_BLOCK,
  SLOT_BLKSIZE,
  SLOT_BYTES,
  SLOT_BYTES_IN,
  SLOT_BYTES_OUT,
  SLOT_CUR,
  SLOT_END,
  SLOT_FD,
  SLOT_PEER0,
  SLOT_PEER1,
  SLOT_ROUNDS,
  SLOT_RTT_NS,
  SLOT_SENT_NS,
  SLOT_TOTAL,
  loadNativeLoop,
  nativeLoopError,
} from './native.ts';
import type { NativeLoop } from './native.ts';

export interface TftpLimits {
  /** Concurrent transfers in this process. */
  maxSessions: number;
  /** Concurrent transfers per client IP address. */
  maxSessionsPerIp: number;
  /** Retransmissions without progress before a transfer is given up. */
  maxRetries: number;
  /** First retransmission timeout when the client does not send the timeout option. */
  timeoutMs: number;
  /** Floor of the adaptive retransmission timeout. */
  minTimeoutMs: number;
  /** A transfer with no valid packet from its client for this long is freed. */
  idleTimeoutMs: number;
  /** Server cap for blksize (further clamped to the interface MTU). */
  maxBlksize: number;
  /** Server cap for windowsize. */
  maxWindowsize: number;
  /** Until the client first ACKs, bytes sent to it stay ≤ this × bytes received from it (retransmissions stop). */
  amplificationFactor: number;
  /** Largest file served in netascii mode (converted in memory). */
  netasciiMaxBytes: number;
  /** ERROR 5 replies sent to strangers per transfer. */
  maxStrangerReplies: number;
}

export const DEFAULT_TFTP_LIMITS: TftpLimits = {
  maxSessions: 4000,
  maxSessionsPerIp: 32,
  maxRetries: 5,
  timeoutMs: 1000,
  minTimeoutMs: 50,
  idleTimeoutMs: 30_000,
  maxBlksize: 65464,
  maxWindowsize: 64,
  amplificationFactor: 30,
  netasciiMaxBytes: 16 * 1024 * 1024,
  maxStrangerReplies: 8,
};

/** What the server needs from the file resolver (FileResolver implements it). */
export interface FileOpener {
  open(name: string): Promise<OpenFile>;
}

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
  fastPath?: {
    waitUs?: number;
    sliceMs?: number;
    /** Send windows with UDP GSO (one sendmsg per window; default true). */
    gso?: boolean;
    /**
     * With one transfer hot, wait for its ACKs in a blocking recvfrom (default true): two calls
     * per lock-step round instead of three or four. Its timeout has the kernel's timer
     * granularity (jiffies), so a client that goes quiet can hold this thread up to ~8 ms (HZ=250)
     * once before the backoff; false: always epoll with waitUs.
     */
    blockingWait?: boolean;
    /**
     * Run lock-step transfers' ordinary rounds (an ACK in, the next DATA out) in the compiled
     * loop (native/tftp-fast.c) when it was built (default true): in the blocking wait for a lone
     * transfer, and in the epoll wait for several. false: every round goes through JavaScript
     * and koffi.
     */
    nativeLoop?: boolean;
    /**
     * With the compiled loop, send the next blocks of each batch of ACKs that arrived together
     * with one io_uring_enter instead of one sendmsg each (default true), where the kernel allows
     * an io_uring; false: one sendmsg each.
     */
    ioUring?: boolean;
    /** The compiled loop (default loadNativeLoop()); tests pass their own. */
    native?: NativeLoop;
    /** The libc bindings (default loadFastUdp()); tests wrap them to inject failures. */
    udp?: FastUdp;
  } | false;
}

export type TftpStartOptions = { address: string; port: number } | { socket: Socket };

export interface TftpMetrics {
  requests: number;
  started: number;
  finished: number;
  failed: number;
  refused: number;
  active: number;
  bytesSent: number;
  /** Datagrams sent (a GSO send of n segments counts n). */
  packetsSent: number;
  /** Sends that carried several DATA datagrams at once (UDP GSO). */
  gsoSends: number;
  /** Lock-step rounds run in the compiled loop (each: an ACK in, the next DATA out). */
  nativeRounds: number;
  /** Times a hot transfer socket was taken out of the event loop's watch while the hot path kept the thread busy (see updateWatch()). */
  watchPauses: number;
  /** Transfer sockets out of the event loop's watch right now (0 whenever the hot path is idle). */
  unwatched: number;
  /** Transfers whose GSO send failed (no checksum offload, segment above the MTU): they went on one datagram per send. */
  gsoFallbacks: number;
  retransmits: number;
  duplicateAcks: number;
  futureAcks: number;
  strangerPackets: number;
  deduplicatedRequests: number;
  /** Transfers the client ended with ERROR 8 after the OACK (EDK2's size probe). */
  optionsDeclined: number;
  /** Packets dropped or refused, by reason. */
  drops: Record<string, number>;
}

type Phase = 'opening' | 'sending' | 'closed';

interface Listener {
  socket: Socket;
  address: string;
  owned: boolean;
}

/** Source ports of well-known UDP services: never answered (loop/reflection risk). */
const SERVICE_PORTS = new Set([0, 7, 13, 17, 19, 37, 53, 67, 68, 69, 111, 123, 137, 138, 161, 162, 500, 514, 520, 1900, 4011, 5353]);

class Session {
  readonly key: string;
  readonly address: string;
  readonly port: number;
  readonly filename: string;
  readonly listener: Listener;
  readonly startedAt: number;
  phase: Phase = 'opening';
  socket: Socket | undefined;
  file: OpenFile | undefined;
  /** Content in memory (cache, registry, netascii); undefined for a large file read window by window. */
  data: Buffer | undefined;
  size = 0;
  blksize = 512;
  windowsize = 1;
  sender: WindowSender | undefined;
  oack: Buffer | undefined;
  headers: Buffer[] = [];
  lastActivity: number;
  bytesIn: number;
  bytesOut = 0;
  strangerReplies = 0;
  // Window-by-window reading for files not held in memory.
  chunk: Buffer | undefined;
  chunkFirstBlock = 0;
  chunkBlocks = 0;
  reading = false;
  // Hot path: the descriptor of `socket`, the client's sockaddr_in as two words, whether the
  // descriptor is in the epoll set, and GSO (UDP_SEGMENT = 4 + blksize set on the socket).
  fd = -1;
  peer0 = 0;
  peer1 = 0;
  hot = false;
  gso = false;
  /** Addresses of `data` and `chunk` for the gathered sends. */
  dataAddr = 0;
  chunkAddr = 0;
  /** Its slot while hot (the epoll event's data; with the compiled loop also its struct ms_slot), else -1. */
  slot = -1;
  /** Queued for arming its slot before the compiled loop runs again. */
  armQueued = false;
  /** libuv's watch over `socket` (undefined: Node's internals changed, libuv always watches; off while in the server's `unwatched`). */
  watch: DgramWatch | undefined;
  constructor(key: string, rinfo: RemoteInfo, filename: string, listener: Listener, now: number, bytesIn: number) {
    this.key = key;
    this.address = rinfo.address;
    this.port = rinfo.port;
    this.filename = filename;
    this.listener = listener;
    this.startedAt = now;
    this.lastActivity = now;
    this.bytesIn = bytesIn;
  }
}

export class TftpServer {
  private readonly log: Logger;
  private readonly remoteLog: RateLimitedLog;
  private readonly events: EventBus;
  private readonly resolver: FileOpener;
  private readonly registry: GeneratedFiles | undefined;
  readonly limits: TftpLimits;
  private readonly mtuOf: (localAddress: string) => number;
  private readonly remap: readonly RemapRule[];
  private readonly createSocket: () => Socket;
  private readonly now: () => number;
  private readonly tickMs: number;
  private readonly listeners: Listener[] = [];
  private readonly sessions = new Map<string, Session>();
  private readonly perIp = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private stopping = false;
  private readonly fast: FastUdp | undefined;
  private readonly waitNs: number;
  private readonly waitMs: number;
  private readonly blockingWait: boolean;
  private readonly sliceMs: number;
  /** Sessions between their request and their first packet sent ('opening'). */
  private opening = 0;
  private readonly gsoEnabled: boolean;
  /** Sessions read through the hot path: an epoll set of their descriptors, and slot (the epoll event's data) → session. */
  private epfd = -1;
  private hotCount = 0;
  private readonly bySlot: (Session | undefined)[] = [];
  private readonly freeSlots: number[] = [];
  /** The compiled many-transfer loop's slots (struct ms_slot each) and control block (struct mp_ctl). */
  private readonly slots: { raw: RawBuffer; view: DataView; i32: Int32Array } | undefined;
  private readonly mp: { raw: RawBuffer; view: DataView } | undefined;
  /** The compiled loop sends each batch's blocks through an io_uring (see batchSendPath). */
  private readonly batchRing: boolean = false;
  /** Hot sessions whose slot is to be armed (again) before the compiled loop runs. */
  private readonly toArm = new Set<Session>();
  private readonly hotSet = new Set<Session>();
  /** Hot sessions whose socket libuv does not read right now (see updateWatch()). */
  private readonly unwatched = new Set<Session>();
  /** The session whose socket is in blocking mode right now (only inside driveOne). */
  private blockingSession: Session | undefined;
  private driving = false;
  private driveQueued = false;
  /** A request is waiting: drive() waits for the setImmediate that yieldDrive(true) queued. */
  private sliceSpent = false;
  /** Waits in a row that timed out, and drive() entries left that poll without waiting (backoff). */
  private waitMisses = 0;
  private skipWaits = 0;
  /** Raw memory of the hot path (see MEM_*): receive buffer, source address, epoll events. */
  private readonly mem: RawBuffer | undefined;
  private readonly rbuf: Buffer;
  /** The send buffer: one DATA packet, or a window of them for one GSO send (the kernel copies during sendto, so one serves all sessions). */
  private readonly sbuf: RawBuffer | undefined;
  /** The compiled lock-step loop and its control block (struct ls_ctl), when both are there. */
  private readonly native: NativeLoop | undefined;
  private readonly ctl: { raw: RawBuffer; view: DataView } | undefined;
  private readonly m: TftpMetrics = {
    requests: 0,
    started: 0,
    finished: 0,
    failed: 0,
    refused: 0,
    active: 0,
    bytesSent: 0,
    packetsSent: 0,
    gsoSends: 0,
    nativeRounds: 0,
    watchPauses: 0,
    unwatched: 0,
    gsoFallbacks: 0,
    retransmits: 0,
    duplicateAcks: 0,
    futureAcks: 0,
    strangerPackets: 0,
    deduplicatedRequests: 0,
    optionsDeclined: 0,
    drops: {},
  };

  constructor(opts: TftpServerOptions) {
    this.log = opts.logger;
    this.remoteLog = new RateLimitedLog(opts.logger);
    this.events = opts.events;
    this.resolver = opts.resolver;
    this.registry = opts.registry;
    this.limits = { ...DEFAULT_TFTP_LIMITS, ...opts.limits };
    this.mtuOf = opts.mtu ?? defaultMtu;
    this.remap = opts.remap ?? DEFAULT_TFTP_REMAP;
    this.createSocket = opts.createSocket ?? (() => dgram.createSocket({ type: 'udp4', lookup: literalLookup }));
    // globalThis.performance is an accessor: read it once, not per call.
    const perf = performance;
    this.now = opts.now ?? (() => perf.now());
    this.tickMs = opts.tickMs ?? 20;
    const fp = opts.fastPath === false ? {} : (opts.fastPath ?? {});
    this.fast = opts.fastPath === false || opts.createSocket !== undefined ? undefined : (fp.udp ?? loadFastUdp());
    this.waitNs = Math.max(0, Math.round((fp.waitUs ?? 1000) * 1000));
    this.waitMs = this.waitNs / 1e6;
    this.blockingWait = fp.blockingWait ?? true;
    this.sliceMs = Math.max(0, fp.sliceMs ?? 2);
    this.gsoEnabled = fp.gso ?? true;
    this.mem = this.fast?.alloc(MEM_BYTES);
    this.sbuf = this.fast?.alloc(SEND_BYTES);
    if (this.mem !== undefined) this.mem.u32[MEM_FROMLEN >>> 2] = SOCKADDR_BYTES;
    if (this.sbuf !== undefined) presetSendArea(this.sbuf);
    this.rbuf = this.mem === undefined ? Buffer.allocUnsafe(RECV_BYTES) : this.mem.buf.subarray(0, RECV_BYTES);
    this.native = this.fast === undefined || this.mem === undefined || fp.nativeLoop === false ? undefined : (fp.native ?? loadNativeLoop());
    if (this.native !== undefined) {
      const raw = this.fast!.alloc(CTL_BYTES);
      const view = new DataView(raw.buf.buffer, raw.buf.byteOffset, CTL_BYTES);
      view.setBigUint64(CTL_RBUF, BigInt(this.mem!.addr), true);
      view.setUint32(CTL_RCAP, RECV_BYTES, true);
      view.setBigUint64(CTL_FROM, BigInt(this.mem!.addr + MEM_FROM), true);
      view.setBigInt64(CTL_WAIT_NS, BigInt(this.waitNs), true);
      this.ctl = { raw, view };
      const slotRaw = this.fast!.alloc(this.limits.maxSessions * SLOT_BYTES);
      this.slots = { raw: slotRaw, view: new DataView(slotRaw.buf.buffer, slotRaw.buf.byteOffset, slotRaw.buf.length), i32: new Int32Array(slotRaw.buf.buffer, slotRaw.buf.byteOffset, slotRaw.buf.length >>> 2) };
      const mpRaw = this.fast!.alloc(MP_CTL_BYTES);
      const mpView = new DataView(mpRaw.buf.buffer, mpRaw.buf.byteOffset, MP_CTL_BYTES);
      mpView.setUint32(MP_NSLOTS, this.limits.maxSessions, true);
      mpView.setBigUint64(MP_SLOTS, BigInt(slotRaw.addr), true);
      mpView.setBigUint64(MP_EVENTS, BigInt(this.mem!.addr + MEM_EVENTS), true);
      mpView.setUint32(MP_MAX_EVENTS, Math.min(MAX_EVENTS, MANY_MAX_EVENTS), true);
      mpView.setUint32(MP_RCAP, RECV_BYTES, true);
      mpView.setBigUint64(MP_RBUF, BigInt(this.mem!.addr), true);
      mpView.setBigUint64(MP_FROM, BigInt(this.mem!.addr + MEM_FROM), true);
      this.batchRing = fp.ioUring !== false && this.native.batchRing?.() === true;
      if (fp.ioUring !== false && !this.batchRing && fp.native === undefined) {
        this.log.info('BH_TFTP_IO_URING: no io_uring for the compiled loop\'s batch sends (Linux before 5.11, sysctl kernel.io_uring_disabled set, or a seccomp filter without io_uring_setup); each block goes out by its own sendmsg, which costs the server more CPU with many concurrent clients. Allow io_uring for this service, or set tftp.io_uring: false to silence this');
      }
      mpView.setUint32(MP_FLAGS, this.batchRing ? MP_F_URING : 0, true);
      this.mp = { raw: mpRaw, view: mpView };
    } else if (this.fast !== undefined && fp.nativeLoop !== false && fp.native === undefined) {
      this.log.info({ reason: nativeLoopError() }, 'BH_TFTP_NATIVE: the compiled TFTP loop is not built; lock-step transfers run through JavaScript (a few percent slower). To build it: install a C compiler (Debian: gcc libc6-dev), then npm run build:native and restart');
    }
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
    if (this.epfd >= 0) this.watchListener(listener);
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
    return this.native !== undefined ? 'compiled' : 'javascript';
  }

  /** How the compiled loop sends the blocks of ACKs that arrived together: one io_uring_enter, or one sendmsg each (also without the loop). */
  get batchSendPath(): 'io_uring' | 'sendmsg' {
    return this.batchRing ? 'io_uring' : 'sendmsg';
  }

  get activeSessions(): number {
    return this.sessions.size;
  }

  /** A snapshot of the counters. */
  metrics(): TftpMetrics {
    return { ...this.m, active: this.sessions.size, unwatched: this.unwatched.size, drops: { ...this.m.drops } };
  }

  /** Ends every transfer (the client gets ERROR 0) and closes all sockets, handed-in ones included. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const s of [...this.sessions.values()]) {
      if (s.socket !== undefined && s.phase === 'sending') this.sendTo(s.socket, encodeError(ERR_UNDEFINED, 'Server shutting down'), s.port, s.address, s);
      this.fail(s, 'server-stopped');
    }
    const closing = this.listeners.map((l) => new Promise<void>((resolve) => l.socket.close(() => resolve())));
    this.listeners.length = 0;
    this.stopTimer();
    if (this.epfd >= 0) {
      this.fast!.close(this.epfd);
      this.epfd = -1;
    }
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
      this.sendTo(listener.socket, encodeError(ERR_ILLEGAL_OP, 'Illegal TFTP operation'), rinfo.port, rinfo.address);
      return;
    }
    const p = d.packet;
    if (p.op === 'error') return this.drop('error-to-listener', rinfo); // never answer an ERROR
    if (p.op !== 'rrq' && p.op !== 'wrq') return this.drop(`unexpected-${p.op}`, rinfo);
    this.m.requests++;
    if (p.op === 'wrq') {
      this.m.refused++;
      this.drop('write-request', rinfo);
      this.sendTo(listener.socket, encodeError(ERR_ACCESS, 'Access violation'), rinfo.port, rinfo.address);
      return;
    }
    this.handleRrq(listener, p, msg.length, rinfo);
  }

  private handleRrq(listener: Listener, req: RequestPacket, size: number, rinfo: RemoteInfo): void {
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
      this.fail(existing, 'superseded');
    }
    if (this.sessions.size >= this.limits.maxSessions) return this.refuse(listener, rinfo, ERR_UNDEFINED, 'Server busy, try again later', 'busy', name);
    if ((this.perIp.get(rinfo.address) ?? 0) >= this.limits.maxSessionsPerIp) return this.refuse(listener, rinfo, ERR_UNDEFINED, 'Too many transfers from your address, try again later', 'busy-per-ip', name);

    const s = new Session(key, rinfo, name, listener, this.now(), size);
    this.opening++;
    this.sessions.set(key, s);
    this.perIp.set(s.address, (this.perIp.get(s.address) ?? 0) + 1);
    this.ensureTimer();
    void this.openAndStart(s, req);
  }

  private refuse(listener: Listener, rinfo: RemoteInfo, code: number, text: string, reason: string, file: string): void {
    this.m.refused++;
    this.drop(`refused:${reason}`, rinfo, { file: JSON.stringify(file) });
    this.sendTo(listener.socket, encodeError(code, text), rinfo.port, rinfo.address);
    this.events.emit({ host: rinfo.address, stage: 'tftp', kind: 'request-refused', detail: { file, reason, client: `${rinfo.address}:${rinfo.port}` } });
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

  private async openAndStart(s: Session, req: RequestPacket): Promise<void> {
    let file: OpenFile;
    try {
      file = await this.open(s.filename);
    } catch (err) {
      this.abandon(s);
      const fe = err instanceof FileError ? err : undefined;
      const code = fe?.kind === 'not-found' ? ERR_NOT_FOUND : ERR_ACCESS;
      if (fe === undefined) this.log.error({ err }, 'BH_TFTP_RESOLVER: the file resolver failed unexpectedly');
      else this.log.debug({ code: fe.code, client: s.key, msg: fe.message }, 'TFTP request refused');
      if (!this.stopping) this.refuse(s.listener, { address: s.address, port: s.port, family: 'IPv4', size: 0 }, code, fe?.publicMessage ?? 'Access violation', fe?.kind ?? 'denied', s.filename);
      return;
    }
    if (isClosed(s)) {
      await file.close();
      return;
    }
    s.file = file;
    try {
      if (req.mode === 'netascii') {
        if (file.size > this.limits.netasciiMaxBytes) {
          this.sendTo(s.listener.socket, encodeError(ERR_UNDEFINED, 'File too large for netascii, use octet'), s.port, s.address);
          return this.fail(s, 'netascii-too-large');
        }
        s.data = toNetascii(file.data ?? (await file.read(0, file.size)));
      } else {
        s.data = file.data;
      }
      s.size = s.data?.length ?? file.size;
      if (isClosed(s)) return;
      const maxBlksize = Math.min(this.limits.maxBlksize, blksizeForMtu(this.mtuOf(s.listener.address)));
      const neg = negotiate(req.options, req.mode, s.size, { maxBlksize, maxWindowsize: this.limits.maxWindowsize });
      s.blksize = neg.blksize;
      s.windowsize = neg.windowsize;
      const maxRto = neg.timeoutS !== undefined ? neg.timeoutS * 1000 : this.limits.timeoutMs;
      s.sender = new WindowSender(
        {
          totalBlocks: blockCount(s.size, s.blksize),
          windowsize: s.windowsize,
          oack: neg.oack.length > 0,
          maxRetries: this.limits.maxRetries,
          initialRtoMs: maxRto,
          minRtoMs: Math.min(this.limits.minTimeoutMs, maxRto),
          maxRtoMs: maxRto,
        },
        this.now(),
      );
      if (neg.oack.length > 0) s.oack = encodeOack(neg.oack);
      // The hot path needs the descriptor: make it here and hand it to dgram (which owns it).
      const peer = this.fast === undefined ? undefined : sockaddrIn(s.address, s.port);
      const fd = peer === undefined ? -1 : this.fast!.openBound(s.listener.address);
      if (fd < 0) for (let i = 0; i < s.windowsize; i++) s.headers.push(Buffer.alloc(4));
      const socket = fd < 0 ? this.createSocket() : dgram.createSocket({ type: 'udp4', lookup: literalLookup });
      s.socket = socket;
      socket.on('message', (msg, rinfo) => this.onSessionPacket(s, msg, rinfo));
      socket.on('error', (err) => {
        this.log.warn({ err, client: s.key }, 'BH_TFTP_SOCKET: transfer socket error');
        this.fail(s, 'socket-error');
      });
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind(fd < 0 ? { address: s.listener.address, port: 0 } : { fd }, () => {
          socket.off('error', reject);
          resolve();
        });
      });
      if (fd >= 0 && !isClosed(s)) {
        s.fd = fd;
        s.watch = dgramWatch(socket);
        [s.peer0, s.peer1] = sockaddrWords(peer!);
        if (s.data !== undefined) s.dataAddr = this.fast!.addressOf(s.data);
        // GSO pays only for windows: a lock-step DATA is one datagram anyway. UDP_SEGMENT splits
        // *every* send longer than a segment, so it is set only when segments are far longer than
        // anything else this socket sends (the OACK, ERROR 5, ERROR 0 at shutdown: < 200 octets).
        const seg = 4 + s.blksize;
        if (this.gsoEnabled && s.windowsize > 1 && s.size > s.blksize && seg >= GSO_MIN_SEGMENT && (s.oack?.length ?? 0) < seg) s.gso = this.fast!.setSegment(fd, seg);
        this.fast!.setRecvTimeout(fd, Math.max(1, Math.round(this.waitNs / 1000)));
        this.hotAdd(s);
      }
      if (isClosed(s)) return;
      s.phase = 'sending';
      this.opening--;
      s.lastActivity = this.now();
      this.m.started++;
      this.events.emit({ host: s.address, stage: 'tftp', kind: 'transfer-start', detail: this.detail(s) });
      this.pump(s);
      this.drive();
    } catch (err) {
      this.log.warn({ err, client: s.key }, 'BH_TFTP_START: could not start a transfer (out of file descriptors or sockets?): raise the fd limit (LimitNOFILE=) or lower tftp.max_sessions');
      if (!isClosed(s)) {
        this.sendTo(s.listener.socket, encodeError(ERR_UNDEFINED, 'Server error, try again later'), s.port, s.address);
        this.fail(s, 'start-failed');
      }
    }
  }

  // ---- packets on a transfer socket ----

  private onSessionPacket(s: Session, msg: Buffer, rinfo: RemoteInfo): void {
    if (rinfo.port !== s.port || rinfo.address !== s.address) {
      this.onStranger(s, msg, rinfo);
    } else {
      this.onPeerPacket(s, msg, msg.length, this.now());
      if (s.fd >= 0 && s.phase === 'sending' && !s.hot) this.hotAdd(s);
    }
    this.drive();
  }

  private onStranger(s: Session, msg: Buffer, rinfo: { address: string; port: number }): void {
    if (s.phase !== 'sending') return;
    {
      this.m.strangerPackets++;
      // RFC 1350 §4: ERROR 5 to the stranger, the transfer goes on. Never answer an ERROR; bounded.
      if (msg.length >= 2 && msg[1] !== OP_ERROR && msg[0] === 0 && s.strangerReplies < this.limits.maxStrangerReplies && !SERVICE_PORTS.has(rinfo.port)) {
        s.strangerReplies++;
        this.sendTo(s.socket!, encodeError(ERR_UNKNOWN_TID, 'Unknown transfer ID'), rinfo.port, rinfo.address);
      }
    }
  }

  /** A datagram from the transfer's client (`msg` may be a view of a reused buffer: not kept). */
  private onPeerPacket(s: Session, msg: Buffer, len: number, now: number): void {
    if (s.phase !== 'sending') return;
    this.own(s);
    const sender = s.sender!;
    s.bytesIn += len;
    // Hot path: an ACK, read in place.
    if (len >= 4 && msg[0] === 0 && msg[1] === OP_ACK) {
      const r = sender.onAck((msg[2]! << 8) | msg[3]!, now);
      if (r === 'progress') {
        s.lastActivity = now;
        this.pump(s);
      } else if (r === 'done') {
        s.lastActivity = now;
        this.finish(s);
      } else if (r === 'duplicate') {
        this.m.duplicateAcks++;
      } else if (r === 'future') {
        this.m.futureAcks++;
      }
      return;
    }
    const d = decodePacket(len === msg.length ? msg : msg.subarray(0, len));
    if (d.ok && d.packet.op === 'error') {
      if (d.packet.code === ERR_OPTIONS && sender.acked < 0) return this.close(s, 'options-declined', true);
      return this.fail(s, 'client-error', { clientError: d.packet.code, clientMessage: JSON.stringify(d.packet.message.slice(0, 100)) });
    }
    this.drop('unexpected-in-transfer', { address: s.address, port: s.port });
  }

  // ---- the hot path: wait for the next ACK here rather than in the event loop ----

  /** Puts a session's descriptor into the epoll set the hot path waits on. */
  private hotAdd(s: Session): void {
    const fast = this.fast!;
    if (this.epfd < 0) {
      this.epfd = fast.epollCreate();
      this.mp?.view.setInt32(MP_EPFD, this.epfd, true);
      for (const l of this.listeners) this.watchListener(l);
    }
    if (this.epfd < 0) return;
    const slot = this.freeSlots.pop() ?? this.bySlot.length;
    if (this.slots !== undefined && slot >= this.limits.maxSessions) return; // cannot happen: one slot per session at most
    if (!fast.epollCtl(this.epfd, true, s.fd, slot)) {
      this.freeSlots.push(slot);
      return; // dgram alone serves it
    }
    s.hot = true;
    s.slot = slot;
    this.bySlot[slot] = s;
    this.hotSet.add(s);
    this.hotCount++;
    if (this.slots !== undefined) {
      const v = this.slots.view;
      const o = slot * SLOT_BYTES;
      v.setUint32(o + SLOT_ARMED, 0, true);
      v.setInt32(o + SLOT_FD, s.fd, true);
      v.setUint32(o + SLOT_PEER0, s.peer0, true);
      v.setUint32(o + SLOT_PEER1, s.peer1, true);
      v.setUint32(o + SLOT_BLKSIZE, s.blksize, true);
      v.setUint32(o + SLOT_ROUNDS, 0, true);
      v.setUint32(o + SLOT_BYTES_IN, 0, true);
      v.setUint32(o + SLOT_BYTES_OUT, 0, true);
      this.queueArm(s);
    }
  }

  private hotRemove(s: Session): void {
    if (!s.hot) return;
    this.own(s);
    this.toArm.delete(s);
    s.armQueued = false;
    s.hot = false;
    this.watchAgain(s);
    this.fast!.epollCtl(this.epfd, false, s.fd);
    this.bySlot[s.slot] = undefined;
    this.freeSlots.push(s.slot);
    s.slot = -1;
    this.hotSet.delete(s);
    this.hotCount--;
  }

  /**
   * Puts a listening socket into the hot path's epoll set (with the compiled loop only): a new
   * request then ends the loop's slice at once, instead of waiting behind it.
   */
  private watchListener(l: Listener): void {
    if (this.mp === undefined) return;
    const fd = dgramFd(l.socket);
    if (fd >= 0) this.fast!.epollCtl(this.epfd, true, fd, LISTEN_MARK);
  }

  // ---- the compiled many-transfer loop's slots ----

  /**
   * Takes in the rounds the compiled loop ran for this session since the last time (sender,
   * counters, activity). The slot stays armed: its fields still match the session.
   */
  private sync(s: Session): void {
    const slots = this.slots;
    if (slots === undefined || s.slot < 0) return;
    const v = slots.view;
    const o = s.slot * SLOT_BYTES;
    const rounds = v.getUint32(o + SLOT_ROUNDS, true);
    if (rounds === 0) return;
    const i = (o + SLOT_RTT_NS) >>> 2;
    const rttNs = (slots.i32[i]! >>> 0) + slots.i32[i + 1]! * 4294967296;
    const bytesIn = v.getUint32(o + SLOT_BYTES_IN, true);
    const bytesOut = v.getUint32(o + SLOT_BYTES_OUT, true);
    v.setUint32(o + SLOT_ROUNDS, 0, true);
    v.setUint32(o + SLOT_BYTES_IN, 0, true);
    v.setUint32(o + SLOT_BYTES_OUT, 0, true);
    try {
      this.takeRounds(s, rounds, rttNs, bytesIn, bytesOut);
    } catch (err) {
      // Cannot happen while arming follows own(); if it ever does, the slot stays disarmed and
      // the transfer goes on (or times out) on the JavaScript path instead of taking the process down.
      v.setUint32(o + SLOT_ARMED, 0, true);
      this.log.error({ err, client: s.key }, 'BH_TFTP_INTERNAL: the compiled loop and the transfer disagree; this transfer continues without it; please report it');
    }
  }

  /**
   * Takes `rounds` lock-step rounds the compiled loop ran for this session into its sender,
   * activity and byte counts (the server-wide counters are taken per loop call).
   */
  private takeRounds(s: Session, rounds: number, rttNs: number, bytesIn: number, bytesOut: number): void {
    const now = this.now();
    s.sender!.lockstepRounds(rounds, now, rttNs / 1e6);
    s.lastActivity = now;
    s.bytesIn += bytesIn;
    s.bytesOut += bytesOut;
  }

  /**
   * Before JavaScript changes a hot session's state itself: takes in the loop's rounds and
   * disarms the slot, so the loop leaves every packet of it to JavaScript until it is armed again.
   */
  private own(s: Session): void {
    const slots = this.slots;
    if (slots === undefined || s.slot < 0) return;
    const o = s.slot * SLOT_BYTES + SLOT_ARMED;
    if (slots.view.getUint32(o, true) === 0) return;
    this.sync(s);
    slots.view.setUint32(o, 0, true);
    this.queueArm(s);
  }

  private queueArm(s: Session): void {
    if (this.slots === undefined || s.armQueued || s.slot < 0) return;
    s.armQueued = true;
    this.toArm.add(s);
  }

  /** Arms the queued sessions' slots that the loop can serve (lock-step, one block in flight, its payload in memory). */
  private armQueued(): void {
    const v = this.slots!.view;
    const sentNs = process.hrtime.bigint(); // CLOCK_MONOTONIC, the loop's clock
    for (const s of this.toArm) {
      s.armQueued = false;
      if (s.slot < 0 || !s.hot || !this.lockstepReady(s)) continue;
      const sender = s.sender!;
      const o = s.slot * SLOT_BYTES;
      v.setUint32(o + SLOT_TOTAL, sender.totalBlocks, true);
      v.setUint32(o + SLOT_CUR, sender.acked + 1, true);
      this.writePayload(v, o + SLOT_BASE, o + SLOT_END, o + SLOT_BASE_BLOCK, o + SLOT_AVAIL_LAST, s);
      v.setBigInt64(o + SLOT_SENT_NS, sentNs, true);
      v.setUint32(o + SLOT_ARMED, 1, true);
    }
    this.toArm.clear();
  }

  /** Where the session's payload is in memory: base address, octets to the end of the file, first and last block held. */
  private writePayload(v: DataView, base: number, end: number, baseBlock: number, availLast: number, s: Session): void {
    const total = s.sender!.totalBlocks;
    if (s.data !== undefined) {
      v.setBigUint64(base, BigInt(s.dataAddr), true);
      v.setBigUint64(end, BigInt(s.size), true);
      v.setUint32(baseBlock, 1, true);
      v.setUint32(availLast, total, true);
    } else {
      v.setBigUint64(base, BigInt(s.chunkAddr), true);
      v.setBigUint64(end, BigInt(s.size - (s.chunkFirstBlock - 1) * s.blksize), true);
      v.setUint32(baseBlock, s.chunkFirstBlock, true);
      v.setUint32(availLast, Math.min(total, s.chunkFirstBlock + s.chunkBlocks - 1), true);
    }
  }

  /**
   * Reads the hot sessions' sockets directly: waits up to waitNs for any of them to become
   * readable (epoll: the cost does not grow with the number of transfers), handles what arrived
   * (which sends the next DATA), and repeats; returns to the event loop when nothing arrives in
   * time, and yields after sliceMs (resuming from setImmediate).
   */
  private drive(): void {
    const fast = this.fast;
    if (fast === undefined || this.driving || this.stopping || this.sliceSpent) return;
    this.driving = true;
    const start = this.now();
    try {
      const mem = this.mem!;
      const ev = mem.u32;
      for (let round = 1; ; round++) {
        if (this.hotCount === 0) return;
        // Back off from waiting when the ACKs do not come in time (a slow link, or a client in
        // this very process, which cannot answer while this thread waits).
        const wait = this.skipWaits > 0 ? 0 : this.waitNs;
        if (this.hotCount === 1 && wait > 0 && this.blockingWait) {
          // One transfer: block in its recvfrom (the socket's SO_RCVTIMEO bounds the wait), as
          // atftpd does; two calls per lock-step round instead of epoll_wait + recvfrom × 2.
          const r = this.driveOne(this.hotSet.values().next().value!, start);
          if (r === 'changed') continue;
          if (r === 'miss') return this.missed();
          this.waitMisses = 0;
          this.yieldDrive();
          return;
        }
        if (this.mp !== undefined) {
          if (this.driveMany(wait, round === 1, start)) continue;
          return;
        }
        const ready = fast.epollWait(this.epfd, mem.addr + MEM_EVENTS, MAX_EVENTS, wait);
        if (ready <= 0) {
          if (wait > 0) {
            this.missed();
          } else if (round === 1) {
            this.skipWaits--;
          }
          return;
        }
        if (wait > 0) this.waitMisses = 0;
        const now = this.now();
        for (let i = 0; i < ready; i++) {
          // epoll_event i: events at word 3i, data (the session's slot) at word 3i + 1.
          const s = this.bySlot[ev[(MEM_EVENTS >>> 2) + 3 * i + 1]!];
          if (s === undefined) continue;
          // Readable but nothing to read (an error condition): leave this one to dgram.
          if (!this.drain(s, now)) this.hotRemove(s);
        }
        if (now - start >= this.slice()) {
          this.yieldDrive();
          return;
        }
      }
    } catch (err) {
      this.log.error({ err }, 'BH_TFTP_INTERNAL: unexpected error on the transfer hot path; please report it');
    } finally {
      this.driving = false;
      this.updateWatch(start);
    }
  }

  /**
   * libuv's watch over the hot sockets, after a drive() that began at `start`. While drive() is
   * to run again from setImmediate because the slice was used up (the transfers keep the thread
   * busy), the hot path reads their sockets itself, and libuv stops reading them: otherwise each
   * event-loop turn between two slices reads the ACKs that queued meanwhile through dgram, the
   * slow path (with 50 clients ~1 % of the datagrams, but ~5 % of the server's time). As soon as
   * no drive() is queued, libuv watches them all again: it is what wakes the hot path up. So a
   * socket is unwatched only while a drive() is queued or running, and the switch costs a few
   * epoll_ctl calls per socket when the load comes and goes, not per datagram.
   */
  private updateWatch(start: number): void {
    if (!this.driveQueued) {
      for (const s of this.unwatched) this.watchAgain(s);
    } else if (this.unwatched.size < this.hotCount && this.now() - start >= this.slice()) {
      for (const s of this.hotSet) {
        if (s.watch === undefined || this.unwatched.has(s)) continue;
        this.unwatched.add(s);
        this.m.watchPauses++;
        s.watch.stop();
      }
    }
  }

  /** libuv reads this session's socket again (if it had stopped: updateWatch()). */
  private watchAgain(s: Session): void {
    if (this.unwatched.delete(s)) s.watch!.start();
  }

  /**
   * One run of the compiled many-transfer loop (it answers armed slots' ordinary ACKs itself), then
   * the one thing it left: a datagram for JavaScript, a socket to take out of the set, a wait
   * that timed out, or the slice used up. True: go on; false: drive() returns.
   */
  private driveMany(wait: number, first: boolean, start: number): boolean {
    const { raw, view } = this.mp!;
    if (this.toArm.size > 0) this.armQueued();
    writeNs(view, MP_WAIT_NS, wait);
    writeNs(view, MP_SLICE_NS, this.sliceLeftNs(start));
    const st = this.native!.many(raw.addr);
    const rounds = view.getUint32(MP_ROUNDS, true);
    if (rounds > 0) this.countRounds(rounds, Number(view.getBigUint64(MP_BYTES_OUT, true)));
    const waits = view.getUint32(MP_WAITS, true);
    if (wait > 0 && waits > 0) this.waitMisses = 0;
    if (st === MP_PACKET || st === MP_EMPTY) {
      const s = this.bySlot[view.getInt32(MP_SLOT, true)];
      if (s !== undefined) {
        if (st === MP_PACKET) this.dispatch(s, view.getInt32(MP_LEN, true), this.now());
        else this.hotRemove(s); // readable but nothing to read (an error condition): leave it to dgram
      }
      if (this.now() - start < this.slice()) return true;
      this.yieldDrive();
      return false;
    }
    if (st === MP_IDLE) {
      if (wait > 0) this.missed();
      else if (first && waits === 0) this.skipWaits--;
      return false;
    }
    if (st === MP_YIELD) {
      this.yieldDrive();
      return false;
    }
    if (st === MP_LISTEN) {
      // A request waits on a listening socket: let this event-loop turn read it before any more slices.
      this.yieldDrive(true);
      return false;
    }
    if (st === MP_ERROR && view.getInt32(MP_ERR, true) === EINTR) return false;
    throw new Error(`the compiled TFTP loop failed (${st}, errno ${view.getInt32(MP_ERR, true)})`);
  }

  /**
   * How long the hot path may keep the thread: sliceMs, or less while transfers are being set
   * up. Their file opens and socket binds complete on the event loop, one turn per step; with
   * full slices a client that asks while others are sending would wait a slice per step.
   */
  private slice(): number {
    return this.opening > 0 ? Math.min(this.sliceMs, OPENING_SLICE_MS) : this.sliceMs;
  }

  /** What is left of the slice that began at `start` (drive()'s), in nanoseconds: the compiled loops return once it is used up. */
  private sliceLeftNs(start: number): number {
    return Math.max(0, Math.round((this.slice() - (this.now() - start)) * 1e6));
  }

  /** A wait that ended without an ACK. A busy machine delays a client now and then: back off only after misses in a row. */
  private missed(): void {
    this.waitMisses = Math.min(this.waitMisses + 1, 8);
    if (this.waitMisses >= 3) this.skipWaits = 1 << (this.waitMisses - 2);
  }

  /** Hands the datagram of `len` octets in the receive buffer to the session's client handler, or to the stranger path. */
  private dispatch(s: Session, len: number, now: number): void {
    const mem = this.mem!;
    const w = mem.u32;
    // The buffer is reused: handlers read it now and keep nothing of it.
    if (w[MEM_FROM >>> 2] === s.peer0 && w[(MEM_FROM >>> 2) + 1] === s.peer1) this.onPeerPacket(s, this.rbuf, len, now);
    else this.onStranger(s, this.rbuf.subarray(0, len), fromSockaddr(mem.buf.subarray(MEM_FROM, MEM_FROM + SOCKADDR_BYTES)));
  }

  /**
   * Runs drive() again from setImmediate, after the event loop had its turn. With `hold`, no
   * drive() until then: dgram delivers a batch of datagrams per socket in one turn, each calling
   * drive(), and each would take a slice while a new request waits (p90 ~100 ms from request to
   * answer behind four transfers, before the listening sockets were in the set).
   */
  private yieldDrive(hold = false): void {
    // While a transfer is being set up, too: each step of its setup needs a turn.
    if (hold || this.opening > 0) this.sliceSpent = true;
    if (this.driveQueued) return;
    this.driveQueued = true;
    setImmediate(() => {
      this.driveQueued = false;
      this.sliceSpent = false;
      this.drive();
    });
  }

  /**
   * The only hot transfer: its socket goes into blocking mode for the duration (libuv needs it
   * non-blocking, and gets it back before anything else runs), and each recvfrom waits for the
   * next ACK itself. 'miss': nothing came within the receive timeout; 'yield': sliceMs is used
   * up; 'changed': the transfer ended or another one became hot.
   */
  private driveOne(s: Session, start: number): 'miss' | 'yield' | 'changed' {
    const fast = this.fast!;
    const mem = this.mem!;
    if (!fast.setBlocking(s.fd, true)) return 'changed';
    this.blockingSession = s;
    try {
      let sent = start;
      for (;;) {
        let len: number;
        let now: number;
        let late: boolean;
        if (this.native !== undefined && this.lockstepReady(s)) {
          // The ordinary rounds run in the compiled loop; the datagram it leaves is handled below.
          const st = this.runNative(s, start);
          if (st === LS_YIELD) return 'yield';
          if (st === LS_MISS) return 'miss';
          if (st !== LS_PACKET && st !== LS_SLOW) throw new Error(`the compiled TFTP loop refused its control block (${st})`);
          len = this.ctl!.view.getInt32(CTL_LEN, true);
          now = this.now();
          late = st === LS_SLOW;
        } else {
          len = fast.recvWait(s.fd, mem.addr, RECV_BYTES, mem.addr + MEM_FROM, mem.addr + MEM_FROMLEN);
          if (len < 0) return 'miss';
          now = this.now();
          // SO_RCVTIMEO counts in jiffies (a 1 ms timeout waits ~8 ms at HZ=250): an answer
          // slower than waitUs is a miss for the backoff, so a slow client does not keep this
          // thread waiting round after round. (The compiled loop makes the same check: LS_SLOW.)
          late = now - sent > this.waitMs;
        }
        this.dispatch(s, len, now);
        if (s.phase !== 'sending' || !s.hot || this.hotCount !== 1) return 'changed';
        if (late) return 'miss';
        if (now - start >= this.slice()) return 'yield';
        sent = now;
      }
    } finally {
      this.unblock(s);
    }
  }

  /** Server-wide counters for rounds run in the compiled loop (one DATA datagram each). */
  private countRounds(rounds: number, bytesOut: number): void {
    this.m.bytesSent += bytesOut;
    this.m.packetsSent += rounds;
    this.m.nativeRounds += rounds;
  }

  /** True when the compiled loop can take over: lock-step, one block in flight, its payload in memory. */
  private lockstepReady(s: Session): boolean {
    const sender = s.sender!;
    if (s.windowsize !== 1 || s.phase !== 'sending' || sender.acked < 0 || sender.next !== sender.acked + 2) return false;
    return s.data !== undefined || (s.chunk !== undefined && !s.reading);
  }

  /**
   * Runs the compiled loop on the lone hot transfer (lock-step, in driveOne's blocking wait), then
   * takes its completed rounds into the sender, the session and the counters. Returns its LS_* code.
   */
  private runNative(s: Session, start: number): number {
    const { raw, view } = this.ctl!;
    this.own(s);
    const sender = s.sender!;
    const cur = sender.acked + 1;
    view.setInt32(CTL_FD, s.fd, true);
    view.setUint32(CTL_PEER0, s.peer0, true);
    view.setUint32(CTL_PEER1, s.peer1, true);
    view.setUint32(CTL_BLKSIZE, s.blksize, true);
    view.setUint32(CTL_TOTAL, sender.totalBlocks, true);
    view.setUint32(CTL_CUR, cur, true);
    this.writePayload(view, CTL_BASE, CTL_END, CTL_BASE_BLOCK, CTL_AVAIL_LAST, s);
    writeNs(view, CTL_SLICE_NS, this.sliceLeftNs(start));
    const st = this.native!.lockstep(raw.addr);
    const rounds = view.getUint32(CTL_ROUNDS, true);
    if (rounds > 0) {
      const out = Number(view.getBigUint64(CTL_BYTES_OUT, true));
      this.takeRounds(s, rounds, Number(view.getBigInt64(CTL_LAST_RTT_NS, true)), Number(view.getBigUint64(CTL_BYTES_IN, true)), out);
      this.countRounds(rounds, out);
    }
    return st;
  }

  /** Gives a socket put into blocking mode by driveOne back its O_NONBLOCK (before anything else may use or close it). */
  private unblock(s: Session): void {
    if (this.blockingSession !== s) return;
    this.blockingSession = undefined;
    if (s.fd >= 0) this.fast!.setBlocking(s.fd, false);
  }

  /**
   * Handles one datagram from a ready hot session's socket; false when it was readable but empty.
   * One per epoll round: epoll is level-triggered and reports the socket again while more is
   * queued, so no recvfrom is spent on learning that the queue is empty.
   */
  private drain(s: Session, now: number): boolean {
    const mem = this.mem!;
    if (s.phase !== 'sending') return true;
    // fromlen stays 16: every source of an AF_INET socket is a sockaddr_in.
    const len = this.fast!.recvFrom(s.fd, mem.addr, RECV_BYTES, mem.addr + MEM_FROM, mem.addr + MEM_FROMLEN);
    if (len < 0) return false;
    this.dispatch(s, len, now);
    return true;
  }

  private pump(s: Session): void {
    const sender = s.sender!;
    if (s.fd >= 0) return this.pumpFast(s);
    const sock = s.socket!;
    for (;;) {
      const b = sender.peekNext();
      if (b < 0) return;
      if (b === 0) {
        sender.takeNext();
        this.sendTo(sock, s.oack!, s.port, s.address, s);
        continue;
      }
      const start = (b - 1) * s.blksize;
      const end = Math.min(s.size, start + s.blksize);
      let src: Buffer;
      let off: number;
      if (s.data !== undefined) {
        src = s.data;
        off = start;
      } else {
        if (s.chunk === undefined || b < s.chunkFirstBlock || b >= s.chunkFirstBlock + s.chunkBlocks) {
          this.fill(s, b);
          return;
        }
        src = s.chunk;
        off = (b - s.chunkFirstBlock) * s.blksize;
      }
      sender.takeNext();
      const payload = src.subarray(off, off + (end - start));
      const h = s.headers[b % s.windowsize]!;
      writeDataHeader(h, b);
      this.sendTo(sock, [h, payload], s.port, s.address, s);
    }
  }

  /**
   * The hot path's pump: gathers what the window allows as iovecs ([header | payload] per block,
   * the payload straight from the file's buffer: no copy) and sends it with one sendmsg when the
   * socket has GSO (the kernel splits it into one datagram per block), else one per block.
   */
  private pumpFast(s: Session): void {
    const sender = s.sender!;
    const sb = this.sbuf!;
    const w = sb.u32;
    const seg = 4 + s.blksize;
    const maxSegs = s.gso ? Math.min(GSO_MAX_SEGMENTS, Math.floor(GSO_MAX_BYTES / seg)) : 1;
    let bytes = 0;
    let segs = 0;
    for (;;) {
      const b = sender.peekNext();
      if (b < 0) break;
      if (b === 0) {
        sender.takeNext();
        this.sendOack(s);
        continue;
      }
      const start = (b - 1) * s.blksize;
      const len = Math.min(s.size - start, s.blksize);
      let addr: number;
      if (s.data !== undefined) {
        addr = s.dataAddr + start;
      } else {
        if (s.chunk === undefined || b < s.chunkFirstBlock || b >= s.chunkFirstBlock + s.chunkBlocks) {
          if (segs > 0) this.flush(s, bytes, segs);
          this.fill(s, b);
          return;
        }
        addr = s.chunkAddr + (b - s.chunkFirstBlock) * s.blksize;
      }
      if (segs >= maxSegs) {
        this.flush(s, bytes, segs);
        bytes = 0;
        segs = 0;
      }
      sender.takeNext();
      writeDataHeader(sb.buf, b, SB_HDR + 4 * segs);
      // The payload iovec of segment `segs` (its header iovec is preset): base and length.
      const iv = (SB_IOV >>> 2) + 8 * segs + 4;
      w[iv] = addr >>> 0;
      w[iv + 1] = (addr / 4294967296) >>> 0;
      w[iv + 2] = len;
      bytes += 4 + len;
      segs++;
    }
    if (segs > 0) this.flush(s, bytes, segs);
    if (s.slot >= 0) this.queueArm(s);
  }

  private sendOack(s: Session): void {
    const sb = this.sbuf!;
    const oack = s.oack!;
    const n = Math.min(oack.length, SB_OACK_BYTES);
    oack.copy(sb.buf, SB_OACK, 0, n);
    sb.u32[(SB_IOV_OACK >>> 2) + 2] = n;
    if (this.sendIov(s, SB_IOV_OACK, 1, n, 1) < 0 && this.gsoFailed(s)) this.sendIov(s, SB_IOV_OACK, 1, n, 1, false);
  }

  /** Sends `segs` gathered datagrams (each 4 + blksize octets, the last maybe shorter). */
  private flush(s: Session, bytes: number, segs: number): void {
    if (this.sendIov(s, SB_IOV, 2 * segs, bytes, segs) >= 0) {
      if (segs > 1) this.m.gsoSends++;
      return;
    }
    if (!this.gsoFailed(s)) return;
    const w = this.sbuf!.u32;
    for (let i = 0; i < segs; i++) this.sendIov(s, SB_IOV + 2 * IOVEC_BYTES * i, 2, 4 + w[(SB_IOV >>> 2) + 8 * i + 6]!, 1, false);
  }

  /**
   * After a failed send: true when GSO was on and the kernel refused it (EIO: no checksum
   * offload on the path; EINVAL: a segment above the MTU, or checksums off). GSO is then off for
   * this transfer and the caller sends the same datagrams again, one per send, so no block is
   * lost. Anything else (EAGAIN, ENOBUFS) is a lost datagram like any other: the timer resends.
   */
  private gsoFailed(s: Session): boolean {
    if (!s.gso) return false;
    const errno = this.fast!.errno();
    if (errno !== EIO && errno !== EINVAL) return false;
    this.m.gsoFallbacks++;
    s.gso = false;
    this.fast!.setSegment(s.fd, 0);
    this.remoteLog.warn('gso-fallback', { client: s.key, errno }, 'BH_TFTP_GSO: the kernel refused a GSO send; this transfer goes on one datagram per send (nothing to do unless it happens on every transfer: then check the interface\'s checksum offload and MTU)');
    return true;
  }

  /** sendmsg of `iovcnt` iovecs starting at `iovOff` of the send buffer, to the session's client; counts `datagrams` (unless count is false). */
  private sendIov(s: Session, iovOff: number, iovcnt: number, bytes: number, datagrams: number, count = true): number {
    const sb = this.sbuf!;
    const w = sb.u32;
    w[SB_TO >>> 2] = s.peer0;
    w[(SB_TO >>> 2) + 1] = s.peer1;
    const iov = sb.addr + iovOff;
    w[(SB_MSG + 16) >>> 2] = iov >>> 0;
    w[(SB_MSG + 20) >>> 2] = (iov / 4294967296) >>> 0;
    w[(SB_MSG + 24) >>> 2] = iovcnt;
    if (count) {
      s.bytesOut += bytes;
      this.m.bytesSent += bytes;
      this.m.packetsSent += datagrams;
    }
    return this.fast!.sendMsg(s.fd, sb.addr + SB_MSG);
  }

  /** Reads the window starting at block `b` of a file not held in memory, then resumes sending. */
  private fill(s: Session, b: number): void {
    if (s.reading) return;
    s.reading = true;
    const blocks = Math.max(s.windowsize, Math.ceil(65536 / s.blksize));
    const start = (b - 1) * s.blksize;
    const len = Math.max(0, Math.min(s.size - start, blocks * s.blksize));
    // A fresh buffer: sends of the previous chunk may still be queued in the kernel path.
    s.file!.read(start, len, Buffer.allocUnsafe(len)).then(
      (buf) => {
        s.reading = false;
        if (s.phase !== 'sending') return;
        if (buf.length !== len) return this.fail(s, 'file-changed');
        s.chunk = buf;
        if (s.fd >= 0) s.chunkAddr = this.fast!.addressOf(buf);
        s.chunkFirstBlock = b;
        s.chunkBlocks = blocks;
        this.pump(s);
      },
      (err: unknown) => {
        s.reading = false;
        this.log.warn({ err, file: s.filename }, 'BH_TFTP_READ: reading the file failed mid-transfer: check the disk');
        this.fail(s, 'read-error');
      },
    );
  }

  private sendTo(sock: Socket, msg: Buffer | Buffer[], port: number, address: string, s?: Session): void {
    let n = 0;
    if (Array.isArray(msg)) for (const b of msg) n += b.length;
    else n = msg.length;
    if (s !== undefined) s.bytesOut += n;
    this.m.bytesSent += n;
    this.m.packetsSent++;
    try {
      sock.send(msg, port, address);
    } catch {
      // Socket already closed: the session is ending.
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
    for (const s of this.sessions.values()) {
      this.sync(s);
      if (now - s.lastActivity > this.limits.idleTimeoutMs) {
        this.fail(s, 'idle');
        continue;
      }
      if (s.phase !== 'sending' || s.reading) continue;
      const sender = s.sender!;
      if (now < sender.deadline) continue;
      const before = sender.retransmits;
      const r = sender.onTimeout(now);
      if (r === 'give-up') {
        this.fail(s, sender.everAcked ? 'timeout' : 'no-ack');
      } else if (r === 'retransmit') {
        if (!sender.everAcked) {
          // Amplification bound: a client that never ACKed gets no more than factor × what it sent.
          const next = sender.peekNext();
          const size = next === 0 ? s.oack!.length : Math.min(s.blksize, s.size) + 4;
          if (s.bytesOut + size > this.limits.amplificationFactor * s.bytesIn) {
            this.fail(s, 'no-ack');
            continue;
          }
        }
        this.hotRemove(s); // stalled: dgram wakes it up again
        this.pump(s);
        this.m.retransmits += sender.retransmits - before;
      }
    }
    if (this.sessions.size === 0) this.stopTimer();
    else this.drive();
  }

  // ---- endings ----

  private detail(s: Session, extra: Record<string, unknown> = {}): Record<string, unknown> {
    const durationMs = Math.max(0, this.now() - s.startedAt);
    const sent = s.sender === undefined ? 0 : Math.min(s.size, Math.max(0, s.sender.acked) * s.blksize);
    return {
      file: s.filename,
      size: s.size,
      blksize: s.blksize,
      windowsize: s.windowsize,
      client: s.key,
      durationMs: Math.round(durationMs),
      retransmits: s.sender?.retransmits ?? 0,
      bytesAcked: sent,
      throughputBps: durationMs > 0 ? Math.round((sent * 1000) / durationMs) : 0,
      ...extra,
    };
  }

  private finish(s: Session): void {
    this.m.finished++;
    this.events.emit({ host: s.address, stage: 'tftp', kind: 'transfer-finish', detail: this.detail(s) });
    this.release(s);
  }

  /** Ends a transfer quietly without counting it as failed (EDK2's ERROR 8 size probe). */
  private close(s: Session, reason: string, emit: boolean): void {
    if (s.phase === 'closed') return;
    if (emit) this.events.emit({ host: s.address, stage: 'tftp', kind: 'transfer-finish', detail: this.detail(s, { reason }) });
    this.m.optionsDeclined++;
    this.release(s);
  }

  private fail(s: Session, reason: string, extra: Record<string, unknown> = {}): void {
    if (s.phase === 'closed') return;
    if (s.sender !== undefined) {
      this.m.failed++;
      this.events.emit({ host: s.address, stage: 'tftp', kind: 'transfer-fail', detail: this.detail(s, { reason, ...extra }) });
    }
    this.release(s);
  }

  /** Frees a session that never started (the request was refused). */
  private abandon(s: Session): void {
    this.release(s);
  }

  private release(s: Session): void {
    if (s.phase === 'closed') return;
    if (s.phase === 'opening') this.opening--;
    s.phase = 'closed';
    if (this.sessions.get(s.key) === s) this.sessions.delete(s.key);
    const n = (this.perIp.get(s.address) ?? 1) - 1;
    if (n <= 0) this.perIp.delete(s.address);
    else this.perIp.set(s.address, n);
    if (s.fd >= 0) {
      this.unblock(s);
      this.hotRemove(s);
      s.fd = -1;
    }
    if (s.socket !== undefined) {
      try {
        s.socket.close();
      } catch {
        /* already closed */
      }
    }
    void s.file?.close();
    s.chunk = undefined;
  }
}

/** dgram lookup for IP literals (all this server sends to): answers at once, where the default goes through dns.lookup and a nextTick per send. */
function literalLookup(address: string, _opts: unknown, cb: (err: Error | null, address: string, family: number) => void): void {
  cb(null, address, 4);
}

// Layout of the hot path's raw memory: receive buffer, source sockaddr_in, its length word (16),
// the destination sockaddr_in of the next send, and epoll events.
const RECV_BYTES = 65536;
/** The hot path's slice while a transfer is being set up (see slice()). */
const OPENING_SLICE_MS = 0.25;
const MEM_FROM = RECV_BYTES;
const MEM_FROMLEN = MEM_FROM + SOCKADDR_BYTES;
const MEM_TO = MEM_FROMLEN + 16;
const MEM_EVENTS = MEM_TO + SOCKADDR_BYTES;
const MAX_EVENTS = 256;
const MEM_BYTES = MEM_EVENTS + MAX_EVENTS * EPOLL_EVENT_BYTES;
/** Smallest segment (4 + blksize) sent with GSO; see where UDP_SEGMENT is set. */
const GSO_MIN_SEGMENT = 512;
// Layout of the send area: a struct msghdr (name → SB_TO; iov and iovlen set per send), the
// destination, DATA headers, the OACK, and iovecs: two per segment (header, payload), the header
// ones preset, and one for the OACK.
const SB_MSG = 0;
const SB_TO = 64;
const SB_HDR = SB_TO + SOCKADDR_BYTES;
const SB_OACK = SB_HDR + 4 * GSO_MAX_SEGMENTS;
const SB_OACK_BYTES = 1024;
const SB_IOV = SB_OACK + SB_OACK_BYTES;
const SB_IOV_OACK = SB_IOV + 2 * GSO_MAX_SEGMENTS * IOVEC_BYTES;
const SEND_BYTES = SB_IOV_OACK + IOVEC_BYTES;

/** The constant parts of the send area: msghdr name and namelen, header iovecs, the OACK iovec's base. */
/** A non-negative int64 (below 2^53) at `offset`, little-endian, without a BigInt. */
function writeNs(view: DataView, offset: number, ns: number): void {
  view.setUint32(offset, ns % 4294967296, true);
  view.setUint32(offset + 4, Math.floor(ns / 4294967296), true);
}

function presetSendArea(sb: RawBuffer): void {
  const w = sb.u32;
  const put64 = (off: number, v: number): void => {
    w[off >>> 2] = v >>> 0;
    w[(off >>> 2) + 1] = (v / 4294967296) >>> 0;
  };
  put64(SB_MSG, sb.addr + SB_TO);
  w[(SB_MSG + 8) >>> 2] = SOCKADDR_BYTES;
  for (let i = 0; i < GSO_MAX_SEGMENTS; i++) {
    put64(SB_IOV + 2 * IOVEC_BYTES * i, sb.addr + SB_HDR + 4 * i);
    w[(SB_IOV + 2 * IOVEC_BYTES * i + 8) >>> 2] = 4;
  }
  put64(SB_IOV_OACK, sb.addr + SB_OACK);
}

/** Reads the phase afresh (it changes across awaits). */
function isClosed(s: Session): boolean {
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
