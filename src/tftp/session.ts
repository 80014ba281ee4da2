// One read transfer as a protocol state machine: negotiation, the window (WindowSender), the
// retransmissions with backoff, block numbers rolling over, the client's ERRORs, strangers,
// timeouts and the amplification bound. It does no I/O itself: its packets leave through its
// TransferIo (a dgram socket, the hot path's raw sends, or a test's fake), the time of a packet is
// passed in, and the server's coarse timer calls onTimer(). test/unit/tftp/session.test.ts drives
// it on a fake clock.
import type { OpenFile } from '../files/resolver.ts';
import type { Logger } from '../log/logger.ts';
import { decodePacket, encodeError, encodeOack, ERR_OPTIONS, ERR_UNKNOWN_TID, OP_ACK, OP_ERROR } from '../protocol/tftp/packets.ts';
import type { RequestPacket } from '../protocol/tftp/packets.ts';
import { negotiate } from '../protocol/tftp/options.ts';
import { toNetascii } from '../protocol/tftp/netascii.ts';
import { blockCount, WindowSender } from '../protocol/tftp/window.ts';
import { SERVICE_PORTS } from './types.ts';
import type { Listener, TftpLimits, TftpMetrics } from './types.ts';

export type Phase = 'opening' | 'sending' | 'closed';

/** How one transfer's packets leave: its socket (src/tftp/io-dgram.ts, raw-transfer.ts), or a test's fake. */
export interface TransferIo {
  /** Sends the OACK. */
  oack(packet: Buffer): void;
  /** Sends (or queues, for one GSO send) DATA `block` (absolute; the wire carries it mod 65536): `len` octets at `offset` of the source. */
  data(block: number, offset: number, len: number): void;
  /** Sends what data() queued; `done`: the window is out (nothing more until an ACK or a timeout). */
  flush(done: boolean): void;
  /** The buffer data() offsets refer to from now on: the whole content, or the window of the file just read. */
  source(buf: Buffer): void;
  /** Sends one packet (an ERROR) from the transfer's port to `address:port`: the client, or a stranger. */
  reply(packet: Buffer, address: string, port: number): void;
  /** Before a timer check: takes in the rounds run outside the session (the compiled loop). */
  sync(): void;
  /** A retransmission is due: the transfer stalled (the hot path leaves it to the event loop until its client answers). */
  stalled(): void;
  /** Closes the socket. */
  close(): void;
}

export type EndKind = 'finished' | 'failed' | 'declined';

/** What a session needs from the server. */
export interface SessionHost {
  readonly limits: TftpLimits;
  /** The server's counters; the session adds its packets, ACKs and retransmissions. */
  readonly counters: TftpMetrics;
  readonly log: Logger;
  /** Monotonic milliseconds. */
  now(): number;
  /** The transfer ended: the host counts it, emits its event and frees it (closing its io). */
  end(s: TftpSession, how: EndKind, reason: string, extra?: Record<string, unknown>): void;
  /** Counts and logs (rate-limited) a dropped packet. */
  drop(reason: string, address: string, port: number): void;
}

export class TftpSession {
  readonly key: string;
  readonly address: string;
  readonly port: number;
  readonly filename: string;
  readonly listener: Listener;
  readonly startedAt: number;
  phase: Phase = 'opening';
  /** Where its packets leave; set as soon as its socket exists (before it is bound). */
  io: TransferIo | undefined;
  file: OpenFile | undefined;
  /** Content in memory (cache, registry, netascii); undefined for a large file read window by window. */
  data: Buffer | undefined;
  size = 0;
  blksize = 512;
  windowsize = 1;
  sender: WindowSender | undefined;
  oack: Buffer | undefined;
  lastActivity: number;
  bytesIn: number;
  bytesOut = 0;
  strangerReplies = 0;
  // Window-by-window reading for files not held in memory.
  chunk: Buffer | undefined;
  chunkFirstBlock = 0;
  chunkBlocks = 0;
  reading = false;
  private readonly host: SessionHost;
  private readonly m: TftpMetrics;

  constructor(host: SessionHost, listener: Listener, address: string, port: number, filename: string, now: number, bytesIn: number) {
    this.host = host;
    this.m = host.counters;
    this.key = `${address}:${port}`;
    this.address = address;
    this.port = port;
    this.filename = filename;
    this.listener = listener;
    this.startedAt = now;
    this.lastActivity = now;
    this.bytesIn = bytesIn;
  }

  /**
   * Takes the opened file and the request: netascii conversion, option negotiation (blksize up
   * to `maxBlksize`), the window and the OACK. False when the file is too large for netascii.
   */
  async prepare(req: RequestPacket, file: OpenFile, maxBlksize: number): Promise<boolean> {
    const limits = this.host.limits;
    this.file = file;
    if (req.mode === 'netascii') {
      if (file.size > limits.netasciiMaxBytes) return false;
      this.data = toNetascii(file.data ?? (await file.read(0, file.size)));
    } else {
      this.data = file.data;
    }
    this.size = this.data?.length ?? file.size;
    const neg = negotiate(req.options, req.mode, this.size, { maxBlksize, maxWindowsize: limits.maxWindowsize });
    this.blksize = neg.blksize;
    this.windowsize = neg.windowsize;
    const maxRto = neg.timeoutS !== undefined ? neg.timeoutS * 1000 : limits.timeoutMs;
    this.sender = new WindowSender(
      {
        totalBlocks: blockCount(this.size, this.blksize),
        windowsize: this.windowsize,
        oack: neg.oack.length > 0,
        maxRetries: limits.maxRetries,
        initialRtoMs: maxRto,
        minRtoMs: Math.min(limits.minTimeoutMs, maxRto),
        maxRtoMs: maxRto,
      },
      this.host.now(),
    );
    if (neg.oack.length > 0) this.oack = encodeOack(neg.oack);
    return true;
  }

  /** Its socket is bound (io set): the transfer begins with the OACK or DATA 1. */
  start(now: number): void {
    this.phase = 'sending';
    this.lastActivity = now;
    if (this.data !== undefined) this.io!.source(this.data);
    this.pump();
  }

  /** A datagram from the client (`msg` may be a view of a reused buffer: nothing of it is kept). */
  onPacket(msg: Buffer, len: number, now: number): void {
    if (this.phase !== 'sending') return;
    const sender = this.sender!;
    this.bytesIn += len;
    // The common case: an ACK, read in place.
    if (len >= 4 && msg[0] === 0 && msg[1] === OP_ACK) {
      const r = sender.onAck((msg[2]! << 8) | msg[3]!, now);
      if (r === 'progress') {
        this.lastActivity = now;
        this.pump();
      } else if (r === 'done') {
        this.lastActivity = now;
        this.host.end(this, 'finished', 'done');
      } else if (r === 'duplicate') {
        this.m.duplicateAcks++; // never a resend (Sorcerer's Apprentice)
      } else if (r === 'future') {
        this.m.futureAcks++;
      }
      return;
    }
    const d = decodePacket(len === msg.length ? msg : msg.subarray(0, len));
    if (d.ok && d.packet.op === 'error') {
      if (d.packet.code === ERR_OPTIONS && sender.acked < 0) return this.host.end(this, 'declined', 'options-declined');
      return this.fail('client-error', { clientError: d.packet.code, clientMessage: JSON.stringify(d.packet.message.slice(0, 100)) });
    }
    this.host.drop('unexpected-in-transfer', this.address, this.port);
  }

  /** A datagram to the transfer's port from anyone but its client. */
  onStranger(msg: Buffer, address: string, port: number): void {
    if (this.phase !== 'sending') return;
    this.m.strangerPackets++;
    // RFC 1350 §4: ERROR 5 to the stranger, the transfer goes on. Never answer an ERROR; bounded.
    if (msg.length >= 2 && msg[1] !== OP_ERROR && msg[0] === 0 && this.strangerReplies < this.host.limits.maxStrangerReplies && !SERVICE_PORTS.has(port)) {
      this.strangerReplies++;
      const packet = encodeError(ERR_UNKNOWN_TID, 'Unknown transfer ID');
      this.m.bytesSent += packet.length;
      this.m.packetsSent++;
      this.io!.reply(packet, address, port);
    }
  }

  /** The server's timer: the idle limit, and the retransmission (or the end) once the deadline passed. */
  onTimer(now: number): void {
    const limits = this.host.limits;
    this.io?.sync();
    if (now - this.lastActivity > limits.idleTimeoutMs) return this.fail('idle');
    if (this.phase !== 'sending' || this.reading) return;
    const sender = this.sender!;
    if (now < sender.deadline) return;
    const before = sender.retransmits;
    const r = sender.onTimeout(now);
    if (r === 'give-up') return this.fail(sender.everAcked ? 'timeout' : 'no-ack');
    if (r !== 'retransmit') return;
    if (!sender.everAcked) {
      // Amplification bound: a client that never ACKed gets no more than factor × what it sent.
      const size = sender.peekNext() === 0 ? this.oack!.length : Math.min(this.blksize, this.size) + 4;
      if (this.bytesOut + size > limits.amplificationFactor * this.bytesIn) return this.fail('no-ack');
    }
    this.io!.stalled();
    this.pump();
    this.m.retransmits += sender.retransmits - before;
  }

  /** Sends `packet` (ERROR 0 at shutdown) to the client, if the transfer is under way. */
  abort(packet: Buffer): void {
    if (this.io === undefined || this.phase !== 'sending') return;
    this.sent(packet.length);
    this.io.reply(packet, this.address, this.port);
  }

  fail(reason: string, extra?: Record<string, unknown>): void {
    this.host.end(this, 'failed', reason, extra);
  }

  /** Sends what the window allows: the OACK (block 0), then DATA from memory or from the window read from the file. */
  pump(): void {
    const sender = this.sender!;
    const io = this.io!;
    for (;;) {
      const b = sender.peekNext();
      if (b < 0) break;
      if (b === 0) {
        sender.takeNext();
        this.sent(this.oack!.length);
        io.oack(this.oack!);
        continue;
      }
      const start = (b - 1) * this.blksize;
      const len = Math.min(this.size - start, this.blksize);
      let offset: number;
      if (this.data !== undefined) {
        offset = start;
      } else {
        if (this.chunk === undefined || b < this.chunkFirstBlock || b >= this.chunkFirstBlock + this.chunkBlocks) {
          io.flush(false);
          this.fill(b);
          return;
        }
        offset = (b - this.chunkFirstBlock) * this.blksize;
      }
      sender.takeNext();
      this.sent(4 + len);
      io.data(b, offset, len);
    }
    io.flush(true);
  }

  /**
   * Takes in `rounds` lock-step rounds the compiled loop ran (its ACK in, the next DATA out), the
   * last at `now`, each `rttMs` long, with the octets they carried (the server's counters are the caller's).
   */
  takeRounds(rounds: number, now: number, rttMs: number, bytesIn: number, bytesOut: number): void {
    this.sender!.lockstepRounds(rounds, now, rttMs);
    this.lastActivity = now;
    this.bytesIn += bytesIn;
    this.bytesOut += bytesOut;
  }

  /** True when the compiled loop may run its rounds: lock-step, one block in flight, its payload in memory. */
  lockstepReady(): boolean {
    const sender = this.sender!;
    if (this.windowsize !== 1 || this.phase !== 'sending' || sender.acked < 0 || sender.next !== sender.acked + 2) return false;
    return this.data !== undefined || (this.chunk !== undefined && !this.reading);
  }

  /** The detail of its boot events. */
  detail(now: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
    const durationMs = Math.max(0, now - this.startedAt);
    const sent = this.sender === undefined ? 0 : Math.min(this.size, Math.max(0, this.sender.acked) * this.blksize);
    return {
      file: this.filename,
      size: this.size,
      blksize: this.blksize,
      windowsize: this.windowsize,
      client: this.key,
      durationMs: Math.round(durationMs),
      retransmits: this.sender?.retransmits ?? 0,
      bytesAcked: sent,
      throughputBps: durationMs > 0 ? Math.round((sent * 1000) / durationMs) : 0,
      ...extra,
    };
  }

  /** Counts one datagram of `n` octets to the client. */
  private sent(n: number): void {
    this.bytesOut += n;
    this.m.bytesSent += n;
    this.m.packetsSent++;
  }

  /** Reads the window starting at block `b` of a file not held in memory, then resumes sending. */
  private fill(b: number): void {
    if (this.reading) return;
    this.reading = true;
    const blocks = Math.max(this.windowsize, Math.ceil(65536 / this.blksize));
    const start = (b - 1) * this.blksize;
    const len = Math.max(0, Math.min(this.size - start, blocks * this.blksize));
    // A fresh buffer: sends of the previous window may still be queued in the kernel path.
    this.file!.read(start, len, Buffer.allocUnsafe(len)).then(
      (buf) => {
        this.reading = false;
        if (this.phase !== 'sending') return;
        if (buf.length !== len) return this.fail('file-changed');
        this.chunk = buf;
        this.io!.source(buf);
        this.chunkFirstBlock = b;
        this.chunkBlocks = blocks;
        this.pump();
      },
      (err: unknown) => {
        this.reading = false;
        this.host.log.warn({ err, file: this.filename }, 'BH_TFTP_READ: reading the file failed mid-transfer: check the disk');
        this.fail('read-error');
      },
    );
  }
}
