// The koffi epoll loop: several hot transfers in one epoll set, each ACK read with recvfrom and
// answered by JavaScript (the session's pump, the raw sends of raw-transfer.ts). The cost of a
// wait does not grow with the number of transfers. Used when the compiled loop is not there.
import type { HotPath } from './hot-path.ts';
import { STEP_HIT, STEP_MISS, STEP_NEXT, STEP_POLLED, STEP_STOP, STEP_YIELD } from './io.ts';
import type { HotLoop } from './io.ts';
import { MAX_EVENTS, MEM_EVENTS, MEM_FROM, MEM_FROMLEN, RECV_BYTES } from './memory.ts';
import type { RawTransfer } from './raw-transfer.ts';

export class EpollLoop implements HotLoop {
  private readonly hp: HotPath;

  constructor(hp: HotPath) {
    this.hp = hp;
  }

  step(wait: number, first: boolean, start: number): number {
    const hp = this.hp;
    const mem = hp.mem;
    const ev = mem.u32;
    const ready = hp.fast.epollWait(hp.epfd, mem.addr + MEM_EVENTS, MAX_EVENTS, wait);
    if (ready <= 0) return wait > 0 ? STEP_MISS : first ? STEP_POLLED : STEP_STOP;
    const now = hp.now();
    for (let i = 0; i < ready; i++) {
      // epoll_event i: events at word 3i, data (the transfer's slot) at word 3i + 1.
      const t = hp.bySlot[ev[(MEM_EVENTS >>> 2) + 3 * i + 1]!];
      if (t === undefined) continue;
      // Readable but nothing to read (an error condition): leave this one to dgram.
      if (!this.drain(t, now)) hp.remove(t);
    }
    return (wait > 0 ? STEP_HIT : 0) | (now - start >= hp.slice() ? STEP_YIELD : STEP_NEXT);
  }

  /**
   * Handles one datagram from a ready transfer's socket; false when it was readable but empty.
   * One per epoll round: epoll is level-triggered and reports the socket again while more is
   * queued, so no recvfrom is spent on learning that the queue is empty.
   */
  private drain(t: RawTransfer, now: number): boolean {
    const hp = this.hp;
    const mem = hp.mem;
    if (t.s.phase !== 'sending') return true;
    // fromlen stays 16: every source of an AF_INET socket is a sockaddr_in.
    const len = hp.fast.recvFrom(t.fd, mem.addr, RECV_BYTES, mem.addr + MEM_FROM, mem.addr + MEM_FROMLEN);
    if (len < 0) return false;
    hp.dispatch(t, len, now);
    return true;
  }
}
