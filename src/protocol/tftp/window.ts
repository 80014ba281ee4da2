// The sending side of one read transfer as a pure state machine (RFC 1350 lock-step, RFC 7440
// windows). No I/O and no clock: the caller passes the time in milliseconds and sends what
// takeNext() hands out.
//
// Blocks are numbered absolutely: 0 is the OACK (when there is one), 1..totalBlocks are DATA.
// On the wire a block number is the absolute number mod 65536, so block numbers roll over to 0.
//
// Rules (SECURITY.md short list item 5):
// - a duplicate ACK (for the block already acknowledged) never triggers a resend (Sorcerer's Apprentice);
// - an ACK for a block not yet sent is ignored;
// - an ACK inside the window slides it and the next window starts after the acknowledged block
//   (RFC 7440 §4: a receiver that lost a block acknowledges the last block it got in order);
// - after a timeout the unacknowledged window is resent, with backoff, at most maxRetries times.

export interface WindowSenderConfig {
  /** Number of DATA blocks: floor(size / blksize) + 1 (the last one is short, maybe empty). */
  totalBlocks: number;
  windowsize: number;
  /** True when an OACK is sent first and DATA waits for ACK 0. */
  oack: boolean;
  /** Retransmissions allowed without progress before the transfer is given up. */
  maxRetries: number;
  /** First retransmission timeout. */
  initialRtoMs: number;
  minRtoMs: number;
  /** Upper bound of the adaptive timeout (the backoff may double it up to 4×). */
  maxRtoMs: number;
}

export type AckOutcome = 'progress' | 'done' | 'duplicate' | 'future' | 'finished-already';
export type TimeoutOutcome = 'not-yet' | 'retransmit' | 'give-up';

export class WindowSender {
  readonly totalBlocks: number;
  readonly windowsize: number;
  private readonly cfg: WindowSenderConfig;
  /** Highest absolute block acknowledged; -1 while the OACK is unacknowledged. */
  acked: number;
  /** Next absolute block takeNext() hands out. */
  next: number;
  /** Highest absolute block ever handed out; anything at or below it is a retransmission. */
  highestSent: number;
  retries = 0;
  /** Blocks handed out a second (or later) time. */
  retransmits = 0;
  /** Time by which progress must happen, else onTimeout retransmits. */
  deadline: number;
  rtoMs: number;
  private srtt = 0;
  private windowStart = 0;
  private windowRetransmitted = false;

  constructor(cfg: WindowSenderConfig, now: number) {
    if (!(cfg.totalBlocks >= 1) || !(cfg.windowsize >= 1)) throw new RangeError('totalBlocks and windowsize must be ≥ 1');
    this.cfg = cfg;
    this.totalBlocks = cfg.totalBlocks;
    this.windowsize = cfg.windowsize;
    this.acked = cfg.oack ? -1 : 0;
    this.next = cfg.oack ? 0 : 1;
    this.highestSent = this.next - 1;
    this.rtoMs = cfg.initialRtoMs;
    this.deadline = now + this.rtoMs;
    this.windowStart = now;
  }

  get done(): boolean {
    return this.acked >= this.totalBlocks;
  }

  /** True once the client acknowledged anything (it proved it receives at its address). */
  get everAcked(): boolean {
    return this.acked > (this.cfg.oack ? -1 : 0);
  }

  /** The block takeNext() would hand out, without taking it; -1 when the window is full (or all is sent). */
  peekNext(): number {
    const limit = this.acked < 0 ? 0 : Math.min(this.totalBlocks, this.acked + this.windowsize);
    return this.next > limit ? -1 : this.next;
  }

  /** The next absolute block to send now, or -1 when the window is full (or all is sent). */
  takeNext(): number {
    if (this.peekNext() < 0) return -1;
    const b = this.next++;
    if (b <= this.highestSent) {
      this.retransmits++;
      this.windowRetransmitted = true;
    } else {
      this.highestSent = b;
    }
    return b;
  }

  /** Handles an ACK carrying the 16-bit block number `block16`. */
  onAck(block16: number, now: number): AckOutcome {
    if (this.done) return 'finished-already';
    if (this.acked < 0) {
      if (block16 !== 0) return 'future';
      this.advance(0, now);
      return 'progress';
    }
    const diff = (block16 - (this.acked & 0xffff)) & 0xffff;
    if (diff === 0) return 'duplicate';
    const abs = this.acked + diff;
    if (abs > this.highestSent) return 'future';
    this.advance(abs, now);
    return this.done ? 'done' : 'progress';
  }

  private advance(abs: number, now: number): void {
    if (!this.windowRetransmitted) {
      const sample = Math.max(0, now - this.windowStart);
      this.srtt = this.srtt === 0 ? sample : (7 * this.srtt + sample) / 8;
      this.rtoMs = Math.min(this.cfg.maxRtoMs, Math.max(this.cfg.minRtoMs, 2 * this.srtt + 10));
    }
    this.acked = abs;
    // A full-window ACK leaves next where it is; a partial one restarts the window after it.
    this.next = abs + 1;
    this.retries = 0;
    this.windowStart = now;
    this.windowRetransmitted = false;
    this.deadline = now + this.rtoMs;
  }

  /**
   * Takes in `rounds` lock-step rounds completed outside this object (the compiled loop,
   * src/tftp/native.ts): in each, the ACK of the one block in flight came and the next block was
   * sent. The state afterwards is that of `rounds` × (onAck of the block in flight, takeNext),
   * each round's time sample being `rttMs` and the last at `now`.
   * Only in lock-step (windowsize 1) with exactly one block in flight, and never past the last block.
   */
  lockstepRounds(rounds: number, now: number, rttMs: number): void {
    if (!(rounds >= 0) || this.windowsize !== 1 || this.acked < 0 || this.next !== this.acked + 2 || this.acked + 1 + rounds > this.totalBlocks) {
      throw new RangeError(`lockstepRounds(${rounds}) does not fit the state (acked ${this.acked}, next ${this.next}, window ${this.windowsize}, blocks ${this.totalBlocks})`);
    }
    if (rounds === 0) return;
    // advance() takes a sample unless the block acknowledged was a retransmission: that can be
    // only the first round's. The average of n equal samples s: srtt' = s + (srtt - s)(7/8)^n.
    let samples = this.windowRetransmitted ? rounds - 1 : rounds;
    const sample = Math.max(0, rttMs);
    if (samples > 0) {
      if (this.srtt === 0) {
        this.srtt = sample;
        samples--;
      }
      this.srtt = sample + (this.srtt - sample) * Math.pow(7 / 8, samples);
      this.rtoMs = Math.min(this.cfg.maxRtoMs, Math.max(this.cfg.minRtoMs, 2 * this.srtt + 10));
    }
    this.acked += rounds;
    this.next = this.acked + 2;
    this.highestSent = Math.max(this.highestSent, this.acked + 1);
    this.retries = 0;
    this.windowStart = now;
    this.windowRetransmitted = false;
    this.deadline = now + this.rtoMs;
  }

  /** Call when the clock passes `deadline`. */
  onTimeout(now: number): TimeoutOutcome {
    if (this.done || now < this.deadline) return 'not-yet';
    if (this.retries >= this.cfg.maxRetries) return 'give-up';
    this.retries++;
    this.next = this.acked < 0 ? 0 : this.acked + 1;
    this.rtoMs = Math.min(this.rtoMs * 2, this.cfg.maxRtoMs * 4);
    this.deadline = now + this.rtoMs;
    this.windowStart = now;
    return 'retransmit';
  }
}

/** Number of DATA blocks for a file of `size` octets: the last block is shorter than blksize, maybe empty. */
export function blockCount(size: number, blksize: number): number {
  return Math.floor(size / blksize) + 1;
}
