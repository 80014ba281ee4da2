// The hot path: transfer sockets made and written through libc (raw-transfer.ts), and after
// sending, the server waits for the next ACKs itself instead of going back to the event loop:
// up to fastPath.waitUs per wait, for at most fastPath.sliceMs at a time, backing off when the
// ACKs do not come in time. Each round is one HotLoop (io.ts): the lone transfer's blocking
// receive (loop-lone.ts, with the compiled lock-step rounds of loop-lockstep.ts), or one epoll set
// for several (loop-many.ts in the compiled loop, else loop-epoll.ts). Why and the numbers:
// docs/decisions/0009, 0011, 0013 and 0014.
import dgram from 'node:dgram';
import type { Socket } from 'node:dgram';
import type { Logger, RateLimitedLog } from '../log/logger.ts';
import { SOCKADDR_BYTES } from '../net/libc.ts';
import { bindSocket, DgramTransport } from './io-dgram.ts';
import { STEP_HIT, STEP_HOLD, STEP_MASK, STEP_MISS, STEP_NEXT, STEP_POLLED, STEP_YIELD } from './io.ts';
import type { HotLoop, Transport } from './io.ts';
import { EpollLoop } from './loop-epoll.ts';
import { LockstepLoop } from './loop-lockstep.ts';
import { LoneLoop } from './loop-lone.ts';
import { ManyLoop } from './loop-many.ts';
import { MEM_BYTES, MEM_FROM, MEM_FROMLEN, presetSendArea, RECV_BYTES, SEND_BYTES } from './memory.ts';
import { LISTEN_MARK, loadNativeLoop, nativeLoopError } from './native.ts';
import type { NativeLoop } from './native.ts';
import { RawTransfer } from './raw-transfer.ts';
import type { TftpSession } from './session.ts';
import { literalLookup } from './types.ts';
import type { TftpMetrics } from './types.ts';
import { dgramFd, dgramWatch, fromSockaddr, sockaddrIn, sockaddrWords } from './udp-fast.ts';
import type { FastUdp, RawBuffer } from './udp-fast.ts';

export interface HotPathOptions {
  /** Longest wait for the next ACK, in microseconds (default 1000). */
  waitUs?: number;
  /** Longest time the hot path keeps the thread at once, in milliseconds (default 2). */
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
}

/** The hot path's slice while a transfer is being set up (see slice()). */
const OPENING_SLICE_MS = 0.25;
/** Smallest segment (4 + blksize) sent with GSO; see open(). */
const GSO_MIN_SEGMENT = 512;

export class HotPath implements Transport {
  readonly fast: FastUdp;
  readonly m: TftpMetrics;
  readonly remoteLog: RateLimitedLog;
  readonly now: () => number;
  readonly waitNs: number;
  readonly waitMs: number;
  opening = 0;
  /** Raw memory (memory.ts): receive buffer, source address, epoll events; and the send area. */
  readonly mem: RawBuffer;
  readonly rbuf: Buffer;
  readonly sbuf: RawBuffer;
  /** The epoll set of the hot transfers' descriptors, and slot (the epoll event's data) → transfer. */
  epfd = -1;
  hotCount = 0;
  readonly bySlot: (RawTransfer | undefined)[] = [];
  readonly hotSet = new Set<RawTransfer>();
  readonly lone: LoneLoop;
  /** The compiled many-transfer loop, when the compiled module is there (and nativeLoop is not false). */
  readonly many: ManyLoop | undefined;
  private readonly loop: HotLoop;
  readonly log: Logger;
  private readonly blockingWait: boolean;
  private readonly sliceMs: number;
  private readonly gsoEnabled: boolean;
  private readonly fallback: DgramTransport;
  private readonly listeners: Socket[] = [];
  private readonly freeSlots: number[] = [];
  /** Hot transfers whose socket libuv does not read right now (see updateWatch()). */
  private readonly unwatchedSet = new Set<RawTransfer>();
  private stopped = false;
  private driving = false;
  private driveQueued = false;
  /** A request is waiting: drive() waits for the setImmediate that yieldDrive(true) queued. */
  private sliceSpent = false;
  /** Waits in a row that timed out, and drive() entries left that poll without waiting (backoff). */
  private waitMisses = 0;
  private skipWaits = 0;

  constructor(fast: FastUdp, opts: HotPathOptions, maxSessions: number, log: Logger, remoteLog: RateLimitedLog, m: TftpMetrics, now: () => number) {
    this.fast = fast;
    this.log = log;
    this.remoteLog = remoteLog;
    this.m = m;
    this.now = now;
    this.waitNs = Math.max(0, Math.round((opts.waitUs ?? 1000) * 1000));
    this.waitMs = this.waitNs / 1e6;
    this.blockingWait = opts.blockingWait ?? true;
    this.sliceMs = Math.max(0, opts.sliceMs ?? 2);
    this.gsoEnabled = opts.gso ?? true;
    // For a transfer the hot path cannot take (no descriptor left, not IPv4): plain dgram.
    this.fallback = new DgramTransport(log, () => dgram.createSocket({ type: 'udp4', lookup: literalLookup }), now, () => this.drive());
    this.mem = fast.alloc(MEM_BYTES);
    this.sbuf = fast.alloc(SEND_BYTES);
    this.mem.u32[MEM_FROMLEN >>> 2] = SOCKADDR_BYTES;
    presetSendArea(this.sbuf);
    this.rbuf = this.mem.buf.subarray(0, RECV_BYTES);
    const native = opts.nativeLoop === false ? undefined : (opts.native ?? loadNativeLoop());
    if (native !== undefined) {
      this.lone = new LoneLoop(this, new LockstepLoop(this, native));
      const many = new ManyLoop(this, native, maxSessions, opts.ioUring !== false);
      if (opts.ioUring !== false && !many.ring && opts.native === undefined) {
        log.info('BH_TFTP_IO_URING: no io_uring for the compiled loop\'s batch sends (Linux before 5.11, sysctl kernel.io_uring_disabled set, or a seccomp filter without io_uring_setup); each block goes out by its own sendmsg, which costs the server more CPU with many concurrent clients. Allow io_uring for this service, or set tftp.io_uring: false to silence this');
      }
      this.many = many;
      this.loop = many;
    } else {
      if (opts.nativeLoop !== false && opts.native === undefined) {
        log.info({ reason: nativeLoopError() }, 'BH_TFTP_NATIVE: the compiled TFTP loop is not built; lock-step transfers run through JavaScript (a few percent slower). To build it: install a C compiler (Debian: gcc libc6-dev), then npm run build:native and restart');
      }
      this.lone = new LoneLoop(this, undefined);
      this.many = undefined;
      this.loop = new EpollLoop(this);
    }
  }

  get lockstepPath(): 'compiled' | 'javascript' {
    return this.many !== undefined ? 'compiled' : 'javascript';
  }

  get batchSendPath(): 'io_uring' | 'sendmsg' {
    return this.many?.ring === true ? 'io_uring' : 'sendmsg';
  }

  get unwatched(): number {
    return this.unwatchedSet.size;
  }

  async open(s: TftpSession): Promise<void> {
    // The hot path needs the descriptor: make it here and hand it to dgram (which owns it).
    const peer = sockaddrIn(s.address, s.port);
    const fd = peer === undefined ? -1 : this.fast.openBound(s.listener.address);
    if (fd < 0) return this.fallback.open(s);
    const socket = dgram.createSocket({ type: 'udp4', lookup: literalLookup });
    const t = new RawTransfer(this, s, socket);
    s.io = t;
    socket.on('message', (msg, rinfo) => {
      if (rinfo.port !== s.port || rinfo.address !== s.address) {
        s.onStranger(msg, rinfo.address, rinfo.port);
      } else {
        this.many?.own(t);
        s.onPacket(msg, msg.length, this.now());
        if (t.fd >= 0 && s.phase === 'sending' && !t.hot) this.add(t);
      }
      this.drive();
    });
    socket.on('error', (err) => {
      this.log.warn({ err, client: s.key }, 'BH_TFTP_SOCKET: transfer socket error');
      s.fail('socket-error');
    });
    await bindSocket(socket, { fd });
    if (s.phase === 'closed') return;
    // GSO pays only for windows: a lock-step DATA is one datagram anyway. UDP_SEGMENT splits
    // *every* send longer than a segment, so it is set only when segments are far longer than
    // anything else this socket sends (the OACK, ERROR 5, ERROR 0 at shutdown: < 200 octets).
    const seg = 4 + s.blksize;
    const gso = this.gsoEnabled && s.windowsize > 1 && s.size > s.blksize && seg >= GSO_MIN_SEGMENT && (s.oack?.length ?? 0) < seg;
    t.ready(fd, sockaddrWords(peer!), dgramWatch(socket), gso ? seg : 0);
    this.fast.setRecvTimeout(fd, Math.max(1, Math.round(this.waitNs / 1000)));
    this.add(t);
  }

  listen(socket: Socket): void {
    this.listeners.push(socket);
    if (this.epfd >= 0) this.watchListener(socket);
    this.stopped = false;
  }

  kick(): void {
    this.drive();
  }

  stop(): void {
    this.stopped = true;
    this.listeners.length = 0;
    if (this.epfd >= 0) {
      this.fast.close(this.epfd);
      this.epfd = -1;
    }
  }

  /** Puts a transfer's descriptor into the epoll set the hot path waits on. */
  add(t: RawTransfer): void {
    const fast = this.fast;
    if (this.epfd < 0) {
      this.epfd = fast.epollCreate();
      this.many?.setEpoll(this.epfd);
      for (const l of this.listeners) this.watchListener(l);
    }
    if (this.epfd < 0) return;
    const slot = this.freeSlots.pop() ?? this.bySlot.length;
    if (this.many !== undefined && slot >= this.many.nslots) return; // cannot happen: one slot per session at most
    if (!fast.epollCtl(this.epfd, true, t.fd, slot)) {
      this.freeSlots.push(slot);
      return; // dgram alone serves it
    }
    t.hot = true;
    t.slot = slot;
    this.bySlot[slot] = t;
    this.hotSet.add(t);
    this.hotCount++;
    this.many?.added(t);
  }

  /** Takes a transfer out of the epoll set: dgram alone reads it until its client answers again. */
  remove(t: RawTransfer): void {
    if (!t.hot) return;
    this.many?.removed(t);
    t.hot = false;
    this.watchAgain(t);
    this.fast.epollCtl(this.epfd, false, t.fd);
    this.bySlot[t.slot] = undefined;
    this.freeSlots.push(t.slot);
    t.slot = -1;
    this.hotSet.delete(t);
    this.hotCount--;
  }

  /**
   * Reads the hot transfers' sockets directly: waits for any of them to become readable, handles
   * what arrived (which sends the next DATA), and repeats; returns to the event loop when nothing
   * arrives in time, and yields after sliceMs (resuming from setImmediate).
   */
  drive(): void {
    if (this.driving || this.stopped || this.sliceSpent) return;
    this.driving = true;
    const start = this.now();
    try {
      for (let round = 1; ; round++) {
        if (this.hotCount === 0) return;
        // Back off from waiting when the ACKs do not come in time (a slow link, or a client in
        // this very process, which cannot answer while this thread waits).
        const wait = this.skipWaits > 0 ? 0 : this.waitNs;
        // One transfer: block in its recvfrom (the socket's SO_RCVTIMEO bounds the wait), as
        // atftpd does; two calls per lock-step round instead of epoll_wait + recvfrom × 2.
        const r = this.hotCount === 1 && wait > 0 && this.blockingWait ? this.lone.step(wait, round === 1, start) : this.loop.step(wait, round === 1, start);
        if ((r & STEP_HIT) !== 0) this.waitMisses = 0;
        switch (r & STEP_MASK) {
          case STEP_NEXT:
            continue;
          case STEP_MISS:
            this.missed();
            return;
          case STEP_POLLED:
            this.skipWaits--;
            this.m.skippedWaits++;
            return;
          case STEP_YIELD:
            this.yieldDrive();
            return;
          case STEP_HOLD:
            this.yieldDrive(true);
            return;
          default:
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

  /** Hands the datagram of `len` octets in the receive buffer to the transfer's session (its client, or a stranger). */
  dispatch(t: RawTransfer, len: number, now: number): void {
    const w = this.mem.u32;
    // The buffer is reused: handlers read it now and keep nothing of it.
    if (w[MEM_FROM >>> 2] === t.peer0 && w[(MEM_FROM >>> 2) + 1] === t.peer1) {
      this.many?.own(t);
      t.s.onPacket(this.rbuf, len, now);
    } else {
      const from = fromSockaddr(this.mem.buf.subarray(MEM_FROM, MEM_FROM + SOCKADDR_BYTES));
      t.s.onStranger(this.rbuf.subarray(0, len), from.address, from.port);
    }
  }

  /** Server-wide counters for rounds run in the compiled loops (one DATA datagram each). */
  countRounds(rounds: number, bytesOut: number): void {
    this.m.bytesSent += bytesOut;
    this.m.packetsSent += rounds;
    this.m.nativeRounds += rounds;
  }

  /**
   * How long the hot path may keep the thread: sliceMs, or less while transfers are being set
   * up. Their file opens and socket binds complete on the event loop, one turn per step; with
   * full slices a client that asks while others are sending would wait a slice per step.
   */
  slice(): number {
    return this.opening > 0 ? Math.min(this.sliceMs, OPENING_SLICE_MS) : this.sliceMs;
  }

  /** What is left of the slice that began at `start` (drive()'s), in nanoseconds: the compiled loops return once it is used up. */
  sliceLeftNs(start: number): number {
    return Math.max(0, Math.round((this.slice() - (this.now() - start)) * 1e6));
  }

  /**
   * Puts a listening socket into the epoll set (with the compiled loop only): a new request then
   * ends the loop's slice at once, instead of waiting behind it.
   */
  private watchListener(socket: Socket): void {
    if (this.many === undefined) return;
    const fd = dgramFd(socket);
    if (fd >= 0) this.fast.epollCtl(this.epfd, true, fd, LISTEN_MARK);
  }

  /** A wait that ended without an ACK. A busy machine delays a client now and then: back off only after misses in a row. */
  private missed(): void {
    this.m.waitMisses++;
    this.waitMisses = Math.min(this.waitMisses + 1, 8);
    if (this.waitMisses >= 3) this.skipWaits = 1 << (this.waitMisses - 2);
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
      for (const t of this.unwatchedSet) this.watchAgain(t);
    } else if (this.unwatchedSet.size < this.hotCount && this.now() - start >= this.slice()) {
      for (const t of this.hotSet) {
        if (t.watch === undefined || this.unwatchedSet.has(t)) continue;
        this.unwatchedSet.add(t);
        this.m.watchPauses++;
        t.watch.stop();
      }
    }
  }

  /** libuv reads this transfer's socket again (if it had stopped: updateWatch()). */
  private watchAgain(t: RawTransfer): void {
    if (this.unwatchedSet.delete(t)) t.watch!.start();
  }
}
