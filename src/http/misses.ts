// Aggregates file misses (404s and refusals) per client, so that a scanner cannot flood the event
// log and the store: the first `burst` misses of a client in each window are boot events of their
// own (a real boot misses a few optional files), the rest are counted and reported as one
// `file-misses` event per client when the window ends (or when the server stops). Bounded: at most
// `maxClients` clients are tracked; past that, the oldest is reported early. No I/O, injected clock.
import type { BootEvent } from '../events/bus.ts';

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

interface Window {
  start: number;
  seen: number;
  suppressed: number;
  sample: string[];
  statuses: Record<string, number>;
}

export class MissAggregator {
  private readonly emitFn: MissAggregatorOptions['emit'];
  private readonly burst: number;
  private readonly windowMs: number;
  private readonly maxClients: number;
  private readonly samples: number;
  private readonly now: () => number;
  private readonly clients = new Map<string, Window>();

  constructor(opts: MissAggregatorOptions) {
    this.emitFn = opts.emit;
    this.burst = opts.burst ?? 20;
    this.windowMs = opts.windowMs ?? 10_000;
    this.maxClients = opts.maxClients ?? 4096;
    this.samples = opts.samples ?? 5;
    this.now = opts.now ?? Date.now;
  }

  /**
   * Records a miss by `client`. Returns true when the caller should emit its own event for it,
   * false when it was counted into the client's summary.
   */
  miss(client: string, path: string, status: number): boolean {
    const t = this.now();
    let w = this.clients.get(client);
    if (w !== undefined && t - w.start >= this.windowMs) {
      this.report(client, w);
      w = undefined;
    }
    if (w === undefined) {
      if (this.clients.size >= this.maxClients) this.evictOldest();
      w = { start: t, seen: 0, suppressed: 0, sample: [], statuses: {} };
      this.clients.set(client, w);
    }
    w.seen++;
    if (w.seen <= this.burst) return true;
    w.suppressed++;
    if (w.sample.length < this.samples) w.sample.push(path);
    const k = String(status);
    w.statuses[k] = (w.statuses[k] ?? 0) + 1;
    return false;
  }

  /** Reports every window that has ended (all of them with `all`). Call it from a timer and on close. */
  sweep(all = false): void {
    const t = this.now();
    for (const [client, w] of this.clients) {
      if (all || t - w.start >= this.windowMs) this.report(client, w);
    }
  }

  /** Clients tracked right now. */
  get size(): number {
    return this.clients.size;
  }

  private evictOldest(): void {
    const first = this.clients.entries().next().value;
    if (first !== undefined) this.report(first[0], first[1]);
  }

  private report(client: string, w: Window): void {
    this.clients.delete(client);
    if (w.suppressed === 0) return;
    this.emitFn({
      host: client,
      stage: 'http',
      kind: 'file-misses',
      detail: { client, count: w.suppressed, statuses: w.statuses, sample: w.sample, window_s: Math.round((this.now() - w.start) / 100) / 10 },
    });
  }
}
