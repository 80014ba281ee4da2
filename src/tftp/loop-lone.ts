// The lone transfer's wait: with one transfer hot, its socket goes into blocking mode for the
// duration (libuv needs it non-blocking, and gets it back before anything else runs), and each
// receive waits for the next ACK itself, as atftpd does: two calls per lock-step round instead of
// epoll_wait + recvfrom × 2. Whenever the transfer allows, its ordinary rounds run in the compiled
// lock-step loop (loop-lockstep.ts) instead of one recvfrom through koffi each.
import type { HotPath } from './hot-path.ts';
import { STEP_HIT, STEP_MISS, STEP_NEXT, STEP_YIELD } from './io.ts';
import type { HotLoop } from './io.ts';
import type { LockstepLoop } from './loop-lockstep.ts';
import { MEM_FROM, MEM_FROMLEN, RECV_BYTES } from './memory.ts';
import { LS_MISS, LS_PACKET, LS_SLOW, LS_YIELD } from './native.ts';
import type { RawTransfer } from './raw-transfer.ts';

export class LoneLoop implements HotLoop {
  private readonly hp: HotPath;
  private readonly lockstep: LockstepLoop | undefined;
  /** The transfer whose socket is in blocking mode right now (only inside step()). */
  private blocking: RawTransfer | undefined;

  constructor(hp: HotPath, lockstep: LockstepLoop | undefined) {
    this.hp = hp;
    this.lockstep = lockstep;
  }

  /**
   * Waits for and answers the only hot transfer's ACKs. STEP_MISS: nothing came within the
   * receive timeout (or it came late); STEP_YIELD: sliceMs is used up; STEP_NEXT: the transfer
   * ended or another one became hot.
   */
  step(_wait: number, _first: boolean, start: number): number {
    const hp = this.hp;
    const fast = hp.fast;
    const mem = hp.mem;
    const t = hp.hotSet.values().next().value!;
    if (!fast.setBlocking(t.fd, true)) return STEP_NEXT;
    this.blocking = t;
    try {
      let sent = start;
      for (;;) {
        let len: number;
        let now: number;
        let late: boolean;
        if (this.lockstep !== undefined && t.s.lockstepReady()) {
          // The ordinary rounds run in the compiled loop; the datagram it leaves is handled below.
          const st = this.lockstep.run(t, start);
          if (st === LS_YIELD) return STEP_YIELD | STEP_HIT;
          if (st === LS_MISS) return STEP_MISS;
          if (st !== LS_PACKET && st !== LS_SLOW) throw new Error(`the compiled TFTP loop refused its control block (${st})`);
          len = this.lockstep.len();
          now = hp.now();
          late = st === LS_SLOW;
        } else {
          len = fast.recvWait(t.fd, mem.addr, RECV_BYTES, mem.addr + MEM_FROM, mem.addr + MEM_FROMLEN);
          if (len < 0) return STEP_MISS;
          now = hp.now();
          // SO_RCVTIMEO counts in jiffies (a 1 ms timeout waits ~8 ms at HZ=250): an answer
          // slower than waitUs is a miss for the backoff, so a slow client does not keep this
          // thread waiting round after round. (The compiled loop makes the same check: LS_SLOW.)
          late = now - sent > hp.waitMs;
        }
        hp.dispatch(t, len, now);
        if (t.s.phase !== 'sending' || !t.hot || hp.hotCount !== 1) return STEP_NEXT;
        if (late) return STEP_MISS;
        if (now - start >= hp.slice()) return STEP_YIELD | STEP_HIT;
        sent = now;
      }
    } finally {
      this.unblock(t);
    }
  }

  /** Gives a socket put into blocking mode by step() back its O_NONBLOCK (before anything else may use or close it). */
  unblock(t: RawTransfer): void {
    if (this.blocking !== t) return;
    this.blocking = undefined;
    if (t.fd >= 0) this.hp.fast.setBlocking(t.fd, false);
  }
}
