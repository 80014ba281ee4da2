// A TftpSession (src/tftp/session.ts) on a fake clock with fake I/O: what its client receives
// (the datagrams, decoded) and when, with no socket and no timer. The server's coarse timer is
// stood in for by advance(), which calls onTimer() every tickMs of fake time, as the server does.
import { silentLogger } from '../../src/log/logger.ts';
import type { OpenFile } from '../../src/files/resolver.ts';
import { decodePacket, encodeAck, encodeRequest, writeDataHeader } from '../../src/protocol/tftp/packets.ts';
import type { RequestOption, RequestPacket, TftpPacket } from '../../src/protocol/tftp/packets.ts';
import { TftpSession } from '../../src/tftp/session.ts';
import type { EndKind, SessionHost, TransferIo } from '../../src/tftp/session.ts';
import { DEFAULT_TFTP_LIMITS, newMetrics } from '../../src/tftp/types.ts';
import type { Listener, TftpLimits, TftpMetrics } from '../../src/tftp/types.ts';

export const CLIENT = { address: '192.0.2.10', port: 40000 };

/** One datagram the session sent. */
export interface Sent {
  /** Fake time it left at (ms). */
  at: number;
  address: string;
  port: number;
  bytes: Buffer;
  packet: TftpPacket | undefined;
}

/** The transfer's socket, faked: DATA queued by data() leaves on flush(), as on the GSO path. */
export class FakeTransfer implements TransferIo {
  readonly sent: Sent[] = [];
  queued: Buffer[] = [];
  src: Buffer | undefined;
  closed = false;
  stalls = 0;
  private readonly clock: () => number;

  constructor(clock: () => number) {
    this.clock = clock;
  }

  oack(packet: Buffer): void {
    this.record(Buffer.from(packet), CLIENT.address, CLIENT.port);
  }

  data(block: number, offset: number, len: number): void {
    const b = Buffer.alloc(4 + len);
    writeDataHeader(b, block);
    this.src!.copy(b, 4, offset, offset + len);
    this.queued.push(b);
  }

  flush(): void {
    for (const b of this.queued) this.record(b, CLIENT.address, CLIENT.port);
    this.queued = [];
  }

  source(buf: Buffer): void {
    this.src = buf;
  }

  reply(packet: Buffer, address: string, port: number): void {
    this.record(Buffer.from(packet), address, port);
  }

  sync(): void {}

  stalled(): void {
    this.stalls++;
  }

  close(): void {
    this.closed = true;
  }

  private record(bytes: Buffer, address: string, port: number): void {
    if (this.closed) throw new Error('a send after close()');
    const d = decodePacket(bytes);
    this.sent.push({ at: this.clock(), address, port, bytes, packet: d.ok ? d.packet : undefined });
  }
}

export interface FileSpec {
  content: Buffer;
  /** Held in memory (the cache): default true. False: read window by window through read(). */
  inMemory?: boolean;
  /** read() rejects (a disk error), or returns fewer octets (the file shrank). */
  readFault?: 'error' | 'short';
}

/** An OpenFile over a Buffer; counts its reads. */
export function fakeFile(spec: FileSpec): OpenFile & { reads: number; closed: boolean } {
  const { content } = spec;
  const f = {
    path: 'f.bin',
    size: content.length,
    mtime: new Date(0),
    generated: false,
    data: spec.inMemory === false ? undefined : content,
    reads: 0,
    closed: false,
    async read(position: number, length: number, target?: Buffer): Promise<Buffer> {
      f.reads++;
      if (spec.readFault === 'error') throw new Error('EIO (fake)');
      const n = Math.max(0, Math.min(length, content.length - position) - (spec.readFault === 'short' ? 1 : 0));
      const out = target ?? Buffer.alloc(n);
      content.copy(out, 0, position, position + n);
      return out.subarray(0, n);
    },
    stream(): never {
      throw new Error('not used');
    },
    async close(): Promise<void> {
      f.closed = true;
    },
  };
  return f;
}

export interface Ended {
  how: EndKind;
  reason: string;
  extra: Record<string, unknown> | undefined;
  at: number;
}

export interface StartOptions {
  options?: RequestOption[];
  mode?: 'octet' | 'netascii';
  /** The whole RRQ as sent (overrides options and mode). */
  rrq?: Buffer;
  /** The server's blksize cap for this link (default 1468: a 1500-octet MTU). */
  maxBlksize?: number;
}

export class SessionHarness {
  now = 0;
  /** Period of the server's timer (the server's default). */
  readonly tickMs = 20;
  readonly limits: TftpLimits;
  readonly counters: TftpMetrics = newMetrics();
  readonly ended: Ended[] = [];
  readonly drops: string[] = [];
  readonly io: FakeTransfer;
  readonly session: TftpSession;
  readonly file: ReturnType<typeof fakeFile>;
  private readonly req: RequestPacket;
  private readonly maxBlksize: number;
  private seen = 0;

  constructor(file: FileSpec, opts: StartOptions = {}, limits: Partial<TftpLimits> = {}) {
    this.limits = { ...DEFAULT_TFTP_LIMITS, ...limits };
    this.io = new FakeTransfer(() => this.now);
    this.file = fakeFile(file);
    const rrq = opts.rrq ?? encodeRequest('rrq', 'f.bin', opts.mode ?? 'octet', opts.options ?? []);
    const d = decodePacket(rrq);
    if (!d.ok || d.packet.op !== 'rrq') throw new Error(`not an RRQ: ${d.ok ? d.packet.op : d.reason}`);
    this.req = d.packet;
    const host: SessionHost = {
      limits: this.limits,
      counters: this.counters,
      log: silentLogger(),
      now: () => this.now,
      end: (s, how, reason, extra) => {
        // What the server does: count once, then free the session (its socket closes).
        if (s.phase === 'closed') return;
        this.ended.push({ how, reason, extra, at: this.now });
        s.phase = 'closed';
        s.io?.close();
      },
      drop: (reason) => {
        this.drops.push(reason);
      },
    };
    const listener = { socket: undefined, address: '192.0.2.1', owned: false } as unknown as Listener;
    this.session = new TftpSession(host, listener, CLIENT.address, CLIENT.port, 'f.bin', this.now, rrq.length);
    this.maxBlksize = opts.maxBlksize ?? 1468;
  }

  /** Negotiates and starts (the first packet leaves); false when the session refuses the file (netascii too large). */
  async start(): Promise<boolean> {
    if (!(await this.session.prepare(this.req, this.file, this.maxBlksize))) return false;
    this.session.io = this.io;
    this.session.start(this.now);
    await settle();
    return true;
  }

  /** The client sends `bytes` from its own address and port. */
  async send(bytes: Buffer): Promise<void> {
    this.session.onPacket(bytes, bytes.length, this.now);
    await settle();
  }

  async ack(block: number): Promise<void> {
    await this.send(encodeAck(block & 0xffff));
  }

  /** Someone else sends `bytes` to the transfer's port. */
  stranger(bytes: Buffer, address: string, port: number): void {
    this.session.onStranger(bytes, address, port);
  }

  /** Moves the fake clock on by `ms`, running the server's timer on the way (it fires at every multiple of tickMs). */
  async advance(ms: number): Promise<void> {
    const end = this.now + ms;
    for (let t = (Math.floor(this.now / this.tickMs) + 1) * this.tickMs; t <= end; t += this.tickMs) {
      this.now = t;
      this.session.onTimer(t);
      await settle();
    }
    this.now = end;
  }

  /** What the client got since the last take(). */
  take(): Sent[] {
    const out = this.io.sent.slice(this.seen);
    this.seen = this.io.sent.length;
    return out;
  }

  /** Block numbers (as on the wire) of the DATA in `sent`. */
  static blocks(sent: Sent[]): number[] {
    return sent.flatMap((x) => (x.packet?.op === 'data' ? [x.packet.block] : []));
  }
}

/** Lets the fake file's reads (promises) complete. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** The options of an OACK as name → value. */
export function oackOf(sent: Sent | undefined): Record<string, string> | undefined {
  return sent?.packet?.op === 'oack' ? Object.fromEntries(sent.packet.options.map((o) => [o.name, o.value])) : undefined;
}
