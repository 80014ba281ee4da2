// The compiled many-transfer loop (native/tftp-fast.c, decisions 0013 and 0014): several hot
// transfers in one epoll set, each lock-step transfer's ordinary ACK answered with its next DATA
// in C, through its slot (struct ms_slot, laid out in native.ts); each batch's blocks leave with
// one io_uring_enter where the kernel allows it. Every other datagram, and every decision, is
// left to JavaScript: a slot is armed only while the session is in a state the loop can serve,
// and disarmed (its rounds taken in) before JavaScript changes that state itself.
import { EINTR } from '../net/libc.ts';
import type { HotPath } from './hot-path.ts';
import { STEP_HIT, STEP_HOLD, STEP_MISS, STEP_NEXT, STEP_POLLED, STEP_STOP, STEP_YIELD } from './io.ts';
import type { HotLoop } from './io.ts';
import { MAX_EVENTS, MEM_EVENTS, MEM_FROM, RECV_BYTES, writeNs } from './memory.ts';
import {
  MANY_MAX_EVENTS,
  MP_BYTES_OUT,
  MP_CTL_BYTES,
  MP_EMPTY,
  MP_EPFD,
  MP_ERR,
  MP_ERROR,
  MP_EVENTS,
  MP_F_URING,
  MP_FLAGS,
  MP_FROM,
  MP_IDLE,
  MP_LEN,
  MP_LISTEN,
  MP_MAX_EVENTS,
  MP_NSLOTS,
  MP_PACKET,
  MP_RBUF,
  MP_RCAP,
  MP_ROUNDS,
  MP_SLICE_NS,
  MP_SLOT,
  MP_SLOTS,
  MP_WAIT_NS,
  MP_WAITS,
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
} from './native.ts';
import type { NativeLoop } from './native.ts';
import type { RawTransfer } from './raw-transfer.ts';
import type { RawBuffer } from './udp-fast.ts';

export class ManyLoop implements HotLoop {
  /** Each batch's blocks leave through an io_uring (see HotPath.batchSendPath). */
  readonly ring: boolean;
  /** Slots there are (one per session the server allows). */
  readonly nslots: number;
  private readonly hp: HotPath;
  private readonly native: NativeLoop;
  /** The slots (struct ms_slot each) and the control block (struct mp_ctl). */
  private readonly slots: { raw: RawBuffer; view: DataView; i32: Int32Array };
  private readonly mp: { raw: RawBuffer; view: DataView };
  /** Hot transfers whose slot is to be armed (again) before the loop runs. */
  private readonly toArm = new Set<RawTransfer>();

  constructor(hp: HotPath, native: NativeLoop, maxSessions: number, ioUring: boolean) {
    this.hp = hp;
    this.native = native;
    this.nslots = maxSessions;
    const mem = hp.mem;
    const slotRaw = hp.fast.alloc(maxSessions * SLOT_BYTES);
    this.slots = { raw: slotRaw, view: new DataView(slotRaw.buf.buffer, slotRaw.buf.byteOffset, slotRaw.buf.length), i32: new Int32Array(slotRaw.buf.buffer, slotRaw.buf.byteOffset, slotRaw.buf.length >>> 2) };
    const mpRaw = hp.fast.alloc(MP_CTL_BYTES);
    const mpView = new DataView(mpRaw.buf.buffer, mpRaw.buf.byteOffset, MP_CTL_BYTES);
    mpView.setUint32(MP_NSLOTS, maxSessions, true);
    mpView.setBigUint64(MP_SLOTS, BigInt(slotRaw.addr), true);
    mpView.setBigUint64(MP_EVENTS, BigInt(mem.addr + MEM_EVENTS), true);
    mpView.setUint32(MP_MAX_EVENTS, Math.min(MAX_EVENTS, MANY_MAX_EVENTS), true);
    mpView.setUint32(MP_RCAP, RECV_BYTES, true);
    mpView.setBigUint64(MP_RBUF, BigInt(mem.addr), true);
    mpView.setBigUint64(MP_FROM, BigInt(mem.addr + MEM_FROM), true);
    this.ring = ioUring && native.batchRing?.() === true;
    mpView.setUint32(MP_FLAGS, this.ring ? MP_F_URING : 0, true);
    this.mp = { raw: mpRaw, view: mpView };
  }

  setEpoll(epfd: number): void {
    this.mp.view.setInt32(MP_EPFD, epfd, true);
  }

  /** A transfer got `t.slot` in the epoll set: the slot's fixed fields, disarmed, and queued for arming. */
  added(t: RawTransfer): void {
    const v = this.slots.view;
    const o = t.slot * SLOT_BYTES;
    v.setUint32(o + SLOT_ARMED, 0, true);
    v.setInt32(o + SLOT_FD, t.fd, true);
    v.setUint32(o + SLOT_PEER0, t.peer0, true);
    v.setUint32(o + SLOT_PEER1, t.peer1, true);
    v.setUint32(o + SLOT_BLKSIZE, t.s.blksize, true);
    v.setUint32(o + SLOT_ROUNDS, 0, true);
    v.setUint32(o + SLOT_BYTES_IN, 0, true);
    v.setUint32(o + SLOT_BYTES_OUT, 0, true);
    this.queueArm(t);
  }

  /** A transfer leaves the epoll set: its rounds are taken in and its slot stays disarmed. */
  removed(t: RawTransfer): void {
    this.own(t);
    this.toArm.delete(t);
    t.armQueued = false;
  }

  /**
   * Takes in the rounds the loop ran for this transfer since the last time (sender, counters,
   * activity). The slot stays armed: its fields still match the session.
   */
  sync(t: RawTransfer): void {
    if (t.slot < 0) return;
    const slots = this.slots;
    const v = slots.view;
    const o = t.slot * SLOT_BYTES;
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
      t.s.takeRounds(rounds, this.hp.now(), rttNs / 1e6, bytesIn, bytesOut);
    } catch (err) {
      // Cannot happen while arming follows own(); if it ever does, the slot stays disarmed and
      // the transfer goes on (or times out) on the JavaScript path instead of taking the process down.
      v.setUint32(o + SLOT_ARMED, 0, true);
      this.hp.log.error({ err, client: t.s.key }, 'BH_TFTP_INTERNAL: the compiled loop and the transfer disagree; this transfer continues without it; please report it');
    }
  }

  /**
   * Before JavaScript changes a hot transfer's state itself: takes in the loop's rounds and
   * disarms the slot, so the loop leaves every packet of it to JavaScript until it is armed again.
   */
  own(t: RawTransfer): void {
    if (t.slot < 0) return;
    const o = t.slot * SLOT_BYTES + SLOT_ARMED;
    if (this.slots.view.getUint32(o, true) === 0) return;
    this.sync(t);
    this.slots.view.setUint32(o, 0, true);
    this.queueArm(t);
  }

  queueArm(t: RawTransfer): void {
    if (t.armQueued || t.slot < 0) return;
    t.armQueued = true;
    this.toArm.add(t);
  }

  /**
   * One run of the loop (it answers armed slots' ordinary ACKs itself), then the one thing it
   * left: a datagram for JavaScript, a socket to take out of the set, a wait that timed out, the
   * slice used up, or a request waiting on a listening socket.
   */
  step(wait: number, first: boolean, start: number): number {
    const hp = this.hp;
    const { raw, view } = this.mp;
    if (this.toArm.size > 0) this.armQueued();
    writeNs(view, MP_WAIT_NS, wait);
    writeNs(view, MP_SLICE_NS, hp.sliceLeftNs(start));
    const st = this.native.many(raw.addr);
    const rounds = view.getUint32(MP_ROUNDS, true);
    if (rounds > 0) hp.countRounds(rounds, Number(view.getBigUint64(MP_BYTES_OUT, true)));
    const waits = view.getUint32(MP_WAITS, true);
    const hit = wait > 0 && waits > 0 ? STEP_HIT : 0;
    if (st === MP_PACKET || st === MP_EMPTY) {
      const t = hp.bySlot[view.getInt32(MP_SLOT, true)];
      if (t !== undefined) {
        if (st === MP_PACKET) hp.dispatch(t, view.getInt32(MP_LEN, true), hp.now());
        else hp.remove(t); // readable but nothing to read (an error condition): leave it to dgram
      }
      return hit | (hp.now() - start < hp.slice() ? STEP_NEXT : STEP_YIELD);
    }
    if (st === MP_IDLE) return hit | (wait > 0 ? STEP_MISS : first && waits === 0 ? STEP_POLLED : STEP_STOP);
    if (st === MP_YIELD) return hit | STEP_YIELD;
    // A request waits on a listening socket: let this event-loop turn read it before any more slices.
    if (st === MP_LISTEN) return hit | STEP_HOLD;
    if (st === MP_ERROR && view.getInt32(MP_ERR, true) === EINTR) return hit | STEP_STOP;
    throw new Error(`the compiled TFTP loop failed (${st}, errno ${view.getInt32(MP_ERR, true)})`);
  }

  /** Arms the queued transfers' slots that the loop can serve (lock-step, one block in flight, its payload in memory). */
  private armQueued(): void {
    const v = this.slots.view;
    const sentNs = process.hrtime.bigint(); // CLOCK_MONOTONIC, the loop's clock
    for (const t of this.toArm) {
      t.armQueued = false;
      if (t.slot < 0 || !t.hot || !t.s.lockstepReady()) continue;
      const sender = t.s.sender!;
      const o = t.slot * SLOT_BYTES;
      v.setUint32(o + SLOT_TOTAL, sender.totalBlocks, true);
      v.setUint32(o + SLOT_CUR, sender.acked + 1, true);
      t.writePayload(v, o + SLOT_BASE, o + SLOT_END, o + SLOT_BASE_BLOCK, o + SLOT_AVAIL_LAST);
      v.setBigInt64(o + SLOT_SENT_NS, sentNs, true);
      v.setUint32(o + SLOT_ARMED, 1, true);
    }
    this.toArm.clear();
  }
}
