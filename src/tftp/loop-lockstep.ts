// The compiled lock-step loop (native/tftp-fast.c, decision 0013): for the lone hot transfer in
// lock-step, it answers each ordinary ACK with the next DATA in C, and leaves every other datagram
// (and every decision) to JavaScript. Its control block (struct ls_ctl) is laid out in native.ts.
import type { HotPath } from './hot-path.ts';
import { RECV_BYTES, MEM_FROM, writeNs } from './memory.ts';
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
} from './native.ts';
import type { NativeLoop } from './native.ts';
import type { RawTransfer } from './raw-transfer.ts';
import type { RawBuffer } from './udp-fast.ts';

export class LockstepLoop {
  private readonly hp: HotPath;
  private readonly native: NativeLoop;
  private readonly raw: RawBuffer;
  private readonly view: DataView;

  constructor(hp: HotPath, native: NativeLoop) {
    this.hp = hp;
    this.native = native;
    this.raw = hp.fast.alloc(CTL_BYTES);
    const view = new DataView(this.raw.buf.buffer, this.raw.buf.byteOffset, CTL_BYTES);
    view.setBigUint64(CTL_RBUF, BigInt(hp.mem.addr), true);
    view.setUint32(CTL_RCAP, RECV_BYTES, true);
    view.setBigUint64(CTL_FROM, BigInt(hp.mem.addr + MEM_FROM), true);
    view.setBigInt64(CTL_WAIT_NS, BigInt(hp.waitNs), true);
    this.view = view;
  }

  /**
   * Runs the compiled loop on the lone hot transfer (lock-step, in the blocking wait of
   * loop-lone.ts), then takes its completed rounds into the session and the counters. Returns its
   * LS_* code; with LS_PACKET and LS_SLOW the datagram it left is in the receive buffer (len()).
   */
  run(t: RawTransfer, start: number): number {
    const hp = this.hp;
    const { raw, view } = this;
    hp.many?.own(t);
    const sender = t.s.sender!;
    view.setInt32(CTL_FD, t.fd, true);
    view.setUint32(CTL_PEER0, t.peer0, true);
    view.setUint32(CTL_PEER1, t.peer1, true);
    view.setUint32(CTL_BLKSIZE, t.s.blksize, true);
    view.setUint32(CTL_TOTAL, sender.totalBlocks, true);
    view.setUint32(CTL_CUR, sender.acked + 1, true);
    t.writePayload(view, CTL_BASE, CTL_END, CTL_BASE_BLOCK, CTL_AVAIL_LAST);
    writeNs(view, CTL_SLICE_NS, hp.sliceLeftNs(start));
    const st = this.native.lockstep(raw.addr);
    const rounds = view.getUint32(CTL_ROUNDS, true);
    if (rounds > 0) {
      const out = Number(view.getBigUint64(CTL_BYTES_OUT, true));
      t.s.takeRounds(rounds, hp.now(), Number(view.getBigInt64(CTL_LAST_RTT_NS, true)) / 1e6, Number(view.getBigUint64(CTL_BYTES_IN, true)), out);
      hp.countRounds(rounds, out);
    }
    return st;
  }

  /** Length of the datagram the last run() left in the receive buffer. */
  len(): number {
    return this.view.getInt32(CTL_LEN, true);
  }
}
