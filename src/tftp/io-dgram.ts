// The portable I/O strategy: each transfer's socket is a plain node:dgram socket, read by the
// event loop and written with socket.send. It needs neither koffi nor a compiler; the server uses
// it with fastPath: false, with createSocket, and for any transfer the hot path cannot take.
import type { Socket } from 'node:dgram';
import type { Logger } from '../log/logger.ts';
import { writeDataHeader } from '../protocol/tftp/packets.ts';
import type { TftpSession, TransferIo } from './session.ts';
import type { Transport } from './io.ts';

/** Binds a dgram socket; rejects on its first error. */
export function bindSocket(socket: Socket, opts: { address: string; port: number } | { fd: number }): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(opts, () => {
      socket.off('error', reject);
      resolve();
    });
  });
}

export class DgramTransport implements Transport {
  readonly lockstepPath = 'javascript';
  readonly batchSendPath = 'sendmsg';
  opening = 0;
  readonly unwatched = 0;
  private readonly log: Logger;
  private readonly createSocket: () => Socket;
  private readonly now: () => number;
  private readonly afterPacket: (() => void) | undefined;

  /** `afterPacket`: called after each datagram a transfer socket received (the hot path's fallback runs the hot path then). */
  constructor(log: Logger, createSocket: () => Socket, now: () => number, afterPacket?: () => void) {
    this.log = log;
    this.createSocket = createSocket;
    this.now = now;
    this.afterPacket = afterPacket;
  }

  async open(s: TftpSession): Promise<void> {
    const socket = this.createSocket();
    s.io = new DgramTransfer(socket, s);
    socket.on('message', (msg, rinfo) => {
      if (rinfo.port !== s.port || rinfo.address !== s.address) s.onStranger(msg, rinfo.address, rinfo.port);
      else s.onPacket(msg, msg.length, this.now());
      this.afterPacket?.();
    });
    socket.on('error', (err) => {
      this.log.warn({ err, client: s.key }, 'BH_TFTP_SOCKET: transfer socket error');
      s.fail('socket-error');
    });
    await bindSocket(socket, { address: s.listener.address, port: 0 });
  }

  listen(): void {}
  kick(): void {}
  stop(): void {}
}

/** One transfer's dgram socket: each DATA leaves as [header, payload view] (no copy), one send each. */
export class DgramTransfer implements TransferIo {
  private readonly socket: Socket;
  private readonly s: TftpSession;
  /** One DATA header per block of a window (a send may still be queued when the next window starts). */
  private readonly headers: Buffer[] = [];
  private src: Buffer | undefined;

  constructor(socket: Socket, s: TftpSession) {
    this.socket = socket;
    this.s = s;
    for (let i = 0; i < s.windowsize; i++) this.headers.push(Buffer.alloc(4));
  }

  oack(packet: Buffer): void {
    this.send(packet, this.s.port, this.s.address);
  }

  data(block: number, offset: number, len: number): void {
    const h = this.headers[block % this.headers.length]!;
    writeDataHeader(h, block);
    this.send([h, this.src!.subarray(offset, offset + len)], this.s.port, this.s.address);
  }

  flush(): void {}

  source(buf: Buffer): void {
    this.src = buf;
  }

  reply(packet: Buffer, address: string, port: number): void {
    this.send(packet, port, address);
  }

  sync(): void {}
  stalled(): void {}

  close(): void {
    try {
      this.socket.close();
    } catch {
      /* already closed */
    }
  }

  private send(msg: Buffer | Buffer[], port: number, address: string): void {
    try {
      this.socket.send(msg, port, address);
    } catch {
      // Socket already closed: the session is ending.
    }
  }
}
