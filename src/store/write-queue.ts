// Group commit. Writes queued while the previous commit was in flight (or in the same turn of the
// event loop) run in one transaction, and every caller's promise settles only after that transaction
// committed (or failed). A DHCP server that ACKs thousands of leases a second thus pays for a few
// fsyncs, not one per lease, and still ACKs a lease only once it is durable. A failing batch is
// retried job by job, so one bad write fails only its caller. Writes keep the order they were made in.
//
// A write is either a Kysely job (a function of the transaction) or an SqlWrite: the same write as
// data, SQL statements with parameters. On SQLite, SqlWrites run in the write worker (sqlite-writer.ts)
// with prepared statements and without blocking the event loop; a Kysely job runs on the main
// connection, after every SqlWrite queued before it has committed. On PostgreSQL (no worker), an
// SqlWrite runs as its `kysely` job.
//
// A write nobody waits on (a batch of boot events) may be queued with a delay: it waits up to that
// long for company, so a steady stream of them costs one commit per delay, not one per turn (each
// commit is a round trip to the worker and an fsync). Any other write, drain() and close take the
// waiting ones along at once, in order.
import type { Kysely, Transaction } from 'kysely';
import type { Database } from './schema.ts';
import type { SqlStatement, SqliteWriter, StatementResult } from './sqlite-writer.ts';

export type WriteJob<T> = (trx: Transaction<Database>) => Promise<T>;

/** A write as data, for the SQLite worker, with its Kysely form for the other backends. */
export interface SqlWrite<T> {
  /** SQLite statements, run in order in the batch's transaction. */
  statements: SqlStatement[];
  /** The caller's result from the statements' results. */
  result: (results: StatementResult[]) => T;
  /** The same write as a Kysely job (PostgreSQL). */
  kysely: WriteJob<T>;
}

interface Queued {
  job: WriteJob<unknown> | SqlWrite<unknown>;
  /** performance.now() by which it should be committed; 0: as soon as possible. */
  due: number;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

const isSql = (j: Queued['job']): j is SqlWrite<unknown> => typeof j !== 'function';

/**
 * Commit pacing for the write worker under load. When at least `busyBatch` writes arrived while a
 * commit was in flight (the load is high), the next commit starts once `enoughJobs` writes are queued
 * or `minGapMs` passed since the previous commit started, whichever comes first: bigger batches, fewer
 * fsyncs, less CPU taken from the thread answering packets. Otherwise (light load) the next commit
 * starts at once, so pacing adds no latency when the server is not busy.
 */
export interface CommitPacing {
  minGapMs: number;
  enoughJobs: number;
  busyBatch: number;
}

/** Measured in bench/dhcp (decision 0006, third round); null turns pacing off. */
export const DEFAULT_PACING: CommitPacing | null = { minGapMs: 8, enoughJobs: 256, busyBatch: 32 };

export class WriteQueue {
  readonly #db: Kysely<Database>;
  readonly #maxBatch: number;
  readonly #writer: SqliteWriter | undefined;
  #queue: Queued[] = [];
  #scheduled = false;
  #running = false;
  #idle: Array<() => void> = [];
  /** Queued writes with due 0. */
  #urgent = 0;
  /** Set while only delayed writes wait: fires at the earliest one's due time. */
  #timer: NodeJS.Timeout | undefined;
  /** drain() was called: delayed writes are due now. */
  #hurry = false;
  readonly #pacing: CommitPacing | undefined;
  /** Set while a paced commit waits: wakes it early once enough jobs are queued. */
  #wake: (() => void) | undefined;
  /** performance.now() before which the next worker commit waits (paced), 0 when not paced. */
  #notBefore = 0;
  /** Number of transactions committed so far (for tests and metrics). */
  batches = 0;

  /** `writer`: run SqlWrites in the SQLite write worker. maxBatch bounds one transaction. `pacing`: of the worker's commits (null: none). */
  constructor(db: Kysely<Database>, maxBatch = 512, writer?: SqliteWriter, pacing: CommitPacing | null = DEFAULT_PACING) {
    this.#db = db;
    this.#maxBatch = maxBatch;
    this.#writer = writer;
    this.#pacing = pacing ?? undefined;
  }

  /**
   * Queues a write; resolves with its result once the transaction holding it has committed.
   * `maxDelayMs`: the write may wait up to this long for other writes to share its commit (for
   * writes nobody waits on); 0, the default: committed as soon as possible.
   */
  push<T>(job: WriteJob<T> | SqlWrite<T>, maxDelayMs = 0): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const due = maxDelayMs > 0 && !this.#hurry ? performance.now() + maxDelayMs : 0;
      this.#queue.push({ job, due, resolve: resolve as (v: unknown) => void, reject });
      if (due === 0) this.#urgent++;
      if (this.#wake !== undefined && this.#queue.length >= this.#pacing!.enoughJobs) this.#wake();
      this.#schedule();
    });
  }

  get pending(): number {
    return this.#queue.length;
  }

  /** Resolves once every queued write has settled; delayed writes are committed at once from now on. */
  drain(): Promise<void> {
    this.#hurry = true;
    if (!this.#running && !this.#scheduled && this.#queue.length === 0) return Promise.resolve();
    const idle = new Promise<void>((r) => this.#idle.push(r));
    this.#schedule();
    return idle;
  }

  /** True when the head of the queue may be committed now. */
  #ready(): boolean {
    return this.#urgent > 0 || this.#hurry || this.#queue[0]!.due <= performance.now();
  }

  #schedule(): void {
    if (this.#scheduled || this.#running || this.#queue.length === 0) return;
    if (!this.#ready()) {
      // Only delayed writes: wake at the earliest due time (the head's: delays are equal in practice).
      this.#timer ??= setTimeout(() => {
        this.#timer = undefined;
        this.#schedule();
      }, Math.max(1, this.#queue[0]!.due - performance.now()));
      return;
    }
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      void this.#flush();
    });
  }

  /** Takes the first n queued writes. */
  #take(n: number): Queued[] {
    const batch = this.#queue.splice(0, n);
    for (const q of batch) if (q.due === 0) this.#urgent--;
    return batch;
  }

  async #flush(): Promise<void> {
    this.#running = true;
    try {
      while (this.#queue.length > 0 && this.#ready()) {
        if (this.#writer === undefined) {
          await this.#runKysely(this.#take(this.#maxBatch));
          continue;
        }
        // With a worker: the longest run of writes of one kind at the head of the queue.
        const sql = isSql(this.#queue[0]!.job);
        let n = 1;
        while (n < this.#queue.length && n < this.#maxBatch && isSql(this.#queue[n]!.job) === sql) n++;
        if (!sql) {
          await this.#runKysely(this.#take(n));
          continue;
        }
        if (this.#pacing !== undefined && this.#notBefore > 0 && n < this.#pacing.enoughJobs) {
          await this.#pace(this.#pacing);
          continue; // more writes may have come: take the batch again
        }
        const batch = this.#take(n);
        const started = performance.now();
        await this.#runWorker(this.#writer, batch);
        // Writes that arrived during the commit measure the load; a paced batch's own size would not
        // (pacing makes every batch big).
        this.#notBefore = this.#pacing !== undefined && this.#queue.length >= this.#pacing.busyBatch ? started + this.#pacing.minGapMs : 0;
      }
    } finally {
      this.#running = false;
      if (this.#queue.length > 0) {
        this.#schedule(); // delayed writes not yet due
      } else {
        const idle = this.#idle;
        this.#idle = [];
        for (const r of idle) r();
      }
    }
  }

  /** Waits until #notBefore or until `enoughJobs` writes are queued, then clears #notBefore. */
  async #pace(pacing: CommitPacing): Promise<void> {
    const wait = this.#notBefore - performance.now();
    this.#notBefore = 0;
    if (wait < 1 || this.#queue.length >= pacing.enoughJobs) return;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, wait);
      this.#wake = done;
    });
  }

  async #runWorker(writer: SqliteWriter, batch: Queued[]): Promise<void> {
    const jobs = batch.map((q) => q.job as SqlWrite<unknown>);
    let outcomes;
    try {
      outcomes = await writer.run(jobs.map((j) => j.statements));
    } catch (err) {
      for (const q of batch) q.reject(err);
      return;
    }
    if (outcomes.every((o) => o.ok)) this.batches++;
    else this.batches += outcomes.filter((o) => o.ok).length;
    outcomes.forEach((o, i) => {
      const q = batch[i]!;
      if (!o.ok) return q.reject(o.error);
      try {
        q.resolve(jobs[i]!.result(o.results));
      } catch (err) {
        q.reject(err);
      }
    });
  }

  async #runKysely(batch: Queued[]): Promise<void> {
    const run = (q: Queued, trx: Transaction<Database>): Promise<unknown> => (isSql(q.job) ? q.job.kysely(trx) : q.job(trx));
    let results: unknown[];
    try {
      results = await this.#db.transaction().execute(async (trx) => {
        const out: unknown[] = [];
        for (const q of batch) out.push(await run(q, trx));
        return out;
      });
      this.batches++;
    } catch (err) {
      if (batch.length === 1) {
        batch[0]?.reject(err);
        return;
      }
      // Find the culprit: each write alone, in order.
      for (const q of batch) {
        try {
          const r = await this.#db.transaction().execute((trx) => run(q, trx));
          this.batches++;
          q.resolve(r);
        } catch (e) {
          q.reject(e);
        }
      }
      return;
    }
    batch.forEach((q, i) => q.resolve(results[i]));
  }
}
