// One transfer's socket on the hot path: made through libc (udp-fast.ts), adopted by node:dgram
// (which still delivers what arrives while the hot path does not read it), and written with
// sendmsg from the send area (memory.ts): [header | payload] iovecs, the payload straight from
// the file's buffer (no copy), a window as one UDP GSO send where the socket has GSO.
import type { Socket } from 'node:dgram';
import { EINVAL, EIO, IOVEC_BYTES } from '../net/libc.ts';
import { writeDataHeader } from '../protocol/tftp/packets.ts';
import type { HotPath } from './hot-path.ts';
import { SB_HDR, SB_IOV, SB_IOV_OACK, SB_MSG, SB_OACK, SB_OACK_BYTES, SB_TO } from './memory.ts';
import type { TftpSession, TransferIo } from './session.ts';
import type { TftpMetrics } from './types.ts';
import { GSO_MAX_BYTES, GSO_MAX_SEGMENTS } from './udp-fast.ts';
import type { DgramWatch, FastUdp, RawBuffer } from './udp-fast.ts';

export class RawTransfer implements TransferIo {
  readonly s: TftpSession;
  readonly socket: Socket;
  /** The socket's descriptor once bound (until closed), else -1. */
  fd = -1;
  /** The client's sockaddr_in as two words: the hot path's peer check. */
  peer0 = 0;
  peer1 = 0;
  /** In the hot path's epoll set. */
  hot = false;
  /** UDP_SEGMENT (4 + blksize) is set on the socket. */
  gso = false;
  /** Its slot while hot (the epoll event's data; with the compiled loop also its struct ms_slot), else -1. */
  slot = -1;
  /** Queued for arming its slot before the compiled loop runs again. */
  armQueued = false;
  /** libuv's watch over `socket` (undefined: Node's internals changed, libuv always watches; off while in the hot path's `unwatched`). */
  watch: DgramWatch | undefined;
  /** Address of the buffer data() offsets refer to. */
  private srcAddr = 0;
  /** Segments one send may carry: GSO's bound, or 1. */
  private maxSegs = 1;
  /** DATA queued in the send area for the next send. */
  private segs = 0;
  private readonly hp: HotPath;
  private readonly fast: FastUdp;
  private readonly sb: RawBuffer;
  private readonly m: TftpMetrics;

  constructor(hp: HotPath, s: TftpSession, socket: Socket) {
    this.hp = hp;
    this.fast = hp.fast;
    this.sb = hp.sbuf;
    this.m = hp.m;
    this.s = s;
    this.socket = socket;
  }

  /** The socket is bound to `fd`: the client's address words, and GSO for segments of `gsoSegment` octets (0: none). */
  ready(fd: number, peer: [number, number], watch: DgramWatch | undefined, gsoSegment: number): void {
    this.fd = fd;
    this.watch = watch;
    [this.peer0, this.peer1] = peer;
    if (gsoSegment > 0) this.gso = this.fast.setSegment(fd, gsoSegment);
    this.maxSegs = this.gso ? Math.min(GSO_MAX_SEGMENTS, Math.floor(GSO_MAX_BYTES / gsoSegment)) : 1;
  }

  oack(packet: Buffer): void {
    const sb = this.sb;
    const n = Math.min(packet.length, SB_OACK_BYTES);
    packet.copy(sb.buf, SB_OACK, 0, n);
    sb.u32[(SB_IOV_OACK >>> 2) + 2] = n;
    if (this.sendIov(SB_IOV_OACK, 1) < 0 && this.gsoFailed()) this.sendIov(SB_IOV_OACK, 1);
  }

  data(block: number, offset: number, len: number): void {
    if (this.segs >= this.maxSegs) this.send();
    const sb = this.sb;
    const w = sb.u32;
    const segs = this.segs;
    const addr = this.srcAddr + offset;
    writeDataHeader(sb.buf, block, SB_HDR + 4 * segs);
    // The payload iovec of segment `segs` (its header iovec is preset): base and length.
    const iv = (SB_IOV >>> 2) + 8 * segs + 4;
    w[iv] = addr >>> 0;
    w[iv + 1] = (addr / 4294967296) >>> 0;
    w[iv + 2] = len;
    this.segs = segs + 1;
  }

  flush(done: boolean): void {
    if (this.segs > 0) this.send();
    if (done && this.slot >= 0) this.hp.many?.queueArm(this);
  }

  source(buf: Buffer): void {
    this.srcAddr = this.fast.addressOf(buf);
  }

  reply(packet: Buffer, address: string, port: number): void {
    try {
      this.socket.send(packet, port, address);
    } catch {
      // Socket already closed: the session is ending.
    }
  }

  sync(): void {
    if (this.slot >= 0) this.hp.many?.sync(this);
  }

  stalled(): void {
    this.hp.remove(this); // dgram wakes it up again
  }

  close(): void {
    if (this.fd >= 0) {
      this.hp.lone.unblock(this);
      this.hp.remove(this);
      this.fd = -1;
    }
    try {
      this.socket.close();
    } catch {
      /* already closed */
    }
  }

  /** Where its payload is in memory, for the compiled loops: base address, octets to the end of the file, first and last block held. */
  writePayload(v: DataView, base: number, end: number, baseBlock: number, availLast: number): void {
    const s = this.s;
    const total = s.sender!.totalBlocks;
    v.setBigUint64(base, BigInt(this.srcAddr), true);
    if (s.data !== undefined) {
      v.setBigUint64(end, BigInt(s.size), true);
      v.setUint32(baseBlock, 1, true);
      v.setUint32(availLast, total, true);
    } else {
      v.setBigUint64(end, BigInt(s.size - (s.chunkFirstBlock - 1) * s.blksize), true);
      v.setUint32(baseBlock, s.chunkFirstBlock, true);
      v.setUint32(availLast, Math.min(total, s.chunkFirstBlock + s.chunkBlocks - 1), true);
    }
  }

  /** Sends the queued DATA: one sendmsg (the kernel splits it into one datagram per block with GSO). */
  private send(): void {
    const segs = this.segs;
    this.segs = 0;
    if (this.sendIov(SB_IOV, 2 * segs) >= 0) {
      if (segs > 1) this.m.gsoSends++;
      return;
    }
    if (!this.gsoFailed()) return;
    for (let i = 0; i < segs; i++) this.sendIov(SB_IOV + 2 * IOVEC_BYTES * i, 2);
  }

  /**
   * After a failed send: true when GSO was on and the kernel refused it (EIO: no checksum
   * offload on the path; EINVAL: a segment above the MTU, or checksums off). GSO is then off for
   * this transfer and the caller sends the same datagrams again, one per send, so no block is
   * lost. Anything else (EAGAIN, ENOBUFS) is a lost datagram like any other: the timer resends.
   */
  private gsoFailed(): boolean {
    if (!this.gso) return false;
    const errno = this.fast.errno();
    if (errno !== EIO && errno !== EINVAL) return false;
    this.m.gsoFallbacks++;
    this.gso = false;
    this.maxSegs = 1;
    this.fast.setSegment(this.fd, 0);
    this.hp.remoteLog.warn('gso-fallback', { client: this.s.key, errno }, 'BH_TFTP_GSO: the kernel refused a GSO send; this transfer goes on one datagram per send (nothing to do unless it happens on every transfer: then check the interface\'s checksum offload and MTU)');
    return true;
  }

  /** sendmsg of `iovcnt` iovecs starting at `iovOff` of the send area, to the client. */
  private sendIov(iovOff: number, iovcnt: number): number {
    const sb = this.sb;
    const w = sb.u32;
    w[SB_TO >>> 2] = this.peer0;
    w[(SB_TO >>> 2) + 1] = this.peer1;
    const iov = sb.addr + iovOff;
    w[(SB_MSG + 16) >>> 2] = iov >>> 0;
    w[(SB_MSG + 20) >>> 2] = (iov / 4294967296) >>> 0;
    w[(SB_MSG + 24) >>> 2] = iovcnt;
    return this.fast.sendMsg(this.fd, sb.addr + SB_MSG);
  }
}
