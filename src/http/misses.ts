// Aggregates file misses (404s and refusals) per client, so that a scanner cannot flood the event
// log and the store: the first `burst` misses of a client in each window are boot events of their
// own (a real boot misses a few optional files), the rest are counted and reported as one
// `file-misses` event per client when the window ends (or when the server stops). Bounded: at most
// `maxClients` clients are tracked; past that, the oldest is reported early. No I/O, injected clock.
// The counting is BurstLimiter's (src/events/burst.ts).
import type { BootEvent } from '../events/bus.ts';
import { BurstLimiter } from '../events/burst.ts';

export interface MissAggregatorOptions {
  emit: (e: Omit<BootEvent, 'time'>) => void;
  /** Misses per client per window that are events of their own (default 20). */
  burst?: number;
  /** Window length in ms (default 10 s). */
  windowMs?: number;
  /** Clients tracked at once (default 4096). */
  maxClients?: number;
  /** Sample paths kept in a summary (default 5). */
  samples?: number;
  now?: () => number;
}

export class MissAggregator {
  private readonly limiter: BurstLimiter;

  constructor(opts: MissAggregatorOptions) {
    const { emit, maxClients, ...rest } = opts;
    this.limiter = new BurstLimiter({
      ...rest,
      ...(maxClients !== undefined ? { maxKeys: maxClients } : {}),
      report: (client, s) => emit({ host: client, stage: 'http', kind: 'file-misses', detail: { client, count: s.count, statuses: s.counts, sample: s.sample, window_s: s.window_s } }),
    });
  }

  /**
   * Records a miss by `client`. Returns true when the caller should emit its own event for it,
   * false when it was counted into the client's summary.
   */
  miss(client: string, path: string, status: number): boolean {
    return this.limiter.offer(client, path, String(status));
  }

  /** Reports every window that has ended (all of them with `all`). Call it from a timer and on close. */
  sweep(all = false): void {
    this.limiter.sweep(all);
  }

  /** Clients tracked right now. */
  get size(): number {
    return this.limiter.size;
  }
}
