// Per-key bursts, then summaries: the first `burst` occurrences of a key (a client, a client and
// a script) in each window are events of their own; the rest are only counted, and reported as one
// summary when the window ends, when the key is evicted, or on sweep(true) at shutdown. A client
// that repeats itself (a boot loop, a scanner, a benchmark) thus costs one log line and one stored
// row per window instead of one per request (SECURITY.md TM-19, log flooding). Bounded: at most
// `maxKeys` keys are tracked; past that, the oldest is reported early. No I/O, injected clock.

export interface BurstSummary {
  /** Occurrences past the burst, counted instead of recorded. */
  count: number;
  /** The first few labels of the counted occurrences (paths, for instance). */
  sample: string[];
  /** Counted occurrences by class (status codes, plan actions...). */
  counts: Record<string, number>;
  /** How long the window ran, in seconds (one decimal). */
  window_s: number;
}

export interface BurstLimiterOptions {
  /** Called once per key and window in which anything was counted. */
  report: (key: string, summary: BurstSummary) => void;
  /** Occurrences per key per window that are events of their own (default 20); 0: no limit. */
  burst?: number;
  /** Window length in ms (default 10 s). */
  windowMs?: number;
  /** Keys tracked at once (default 4096). */
  maxKeys?: number;
  /** Labels kept in a summary's sample (default 5). */
  samples?: number;
  now?: () => number;
}

interface Window {
  start: number;
  seen: number;
  suppressed: number;
  sample: string[];
  counts: Record<string, number>;
}

export class BurstLimiter {
  private readonly reportFn: BurstLimiterOptions['report'];
  private readonly burst: number;
  private readonly windowMs: number;
  private readonly maxKeys: number;
  private readonly samples: number;
  private readonly now: () => number;
  private readonly windows = new Map<string, Window>();

  constructor(opts: BurstLimiterOptions) {
    this.reportFn = opts.report;
    this.burst = opts.burst ?? 20;
    this.windowMs = opts.windowMs ?? 10_000;
    this.maxKeys = opts.maxKeys ?? 4096;
    this.samples = opts.samples ?? 5;
    this.now = opts.now ?? Date.now;
  }

  /**
   * One occurrence of `key`. True: the caller records it as an event of its own. False: it was
   * counted (under `countAs`, with `label` perhaps kept as a sample) into the key's summary.
   */
  offer(key: string, label?: string, countAs?: string): boolean {
    if (this.burst <= 0) return true;
    const t = this.now();
    let w = this.windows.get(key);
    if (w !== undefined && t - w.start >= this.windowMs) {
      this.report(key, w);
      w = undefined;
    }
    if (w === undefined) {
      if (this.windows.size >= this.maxKeys) this.evictOldest();
      w = { start: t, seen: 0, suppressed: 0, sample: [], counts: {} };
      this.windows.set(key, w);
    }
    w.seen++;
    if (w.seen <= this.burst) return true;
    w.suppressed++;
    if (label !== undefined && w.sample.length < this.samples) w.sample.push(label);
    if (countAs !== undefined) w.counts[countAs] = (w.counts[countAs] ?? 0) + 1;
    return false;
  }

  /** Reports every window that has ended (all of them with `all`). Call it from a timer and on close. */
  sweep(all = false): void {
    const t = this.now();
    for (const [key, w] of this.windows) {
      if (all || t - w.start >= this.windowMs) this.report(key, w);
    }
  }

  /** Keys tracked right now. */
  get size(): number {
    return this.windows.size;
  }

  private evictOldest(): void {
    const first = this.windows.entries().next().value;
    if (first !== undefined) this.report(first[0], first[1]);
  }

  private report(key: string, w: Window): void {
    this.windows.delete(key);
    if (w.suppressed === 0) return;
    this.reportFn(key, { count: w.suppressed, sample: w.sample, counts: w.counts, window_s: Math.round((this.now() - w.start) / 100) / 10 });
  }
}
