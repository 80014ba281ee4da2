// Group commit. Writes queued in the same turn of the event loop run in one transaction, and every
// caller's promise settles only after that transaction committed (or failed). A DHCP server that
// ACKs 500 leases a second thus pays for a handful of fsyncs, not 500, and still ACKs a lease only
// once it is durable. A failing batch is retried job by job, so one bad write fails only its caller.
import type { Kysely, Transaction } from 'kysely';
import type { Database } from './schema.ts';

export type WriteJob<T> = (trx: Transaction<Database>) => Promise<T>;

interface Queued {
  job: WriteJob<unknown>;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

export class WriteQueue {
  readonly #db: Kysely<Database>;
  readonly #maxBatch: number;
  #queue: Queued[] = [];
  #scheduled = false;
  #running = false;
  #idle: Array<() => void> = [];
  /** Number of transactions committed so far (for tests and metrics). */
  batches = 0;

  constructor(db: Kysely<Database>, maxBatch = 512) {
    this.#db = db;
    this.#maxBatch = maxBatch;
  }

  /** Queues a write; resolves with its result once the transaction holding it has committed. */
  push<T>(job: WriteJob<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ job, resolve: resolve as (v: unknown) => void, reject });
      this.#schedule();
    });
  }

  get pending(): number {
    return this.#queue.length;
  }

  /** Resolves once every queued write has settled. */
  drain(): Promise<void> {
    if (!this.#running && !this.#scheduled && this.#queue.length === 0) return Promise.resolve();
    return new Promise((r) => this.#idle.push(r));
  }

  #schedule(): void {
    if (this.#scheduled || this.#running) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      void this.#flush();
    });
  }

  async #flush(): Promise<void> {
    this.#running = true;
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue.splice(0, this.#maxBatch);
        await this.#runBatch(batch);
      }
    } finally {
      this.#running = false;
      const idle = this.#idle;
      this.#idle = [];
      for (const r of idle) r();
    }
  }

  async #runBatch(batch: Queued[]): Promise<void> {
    let results: unknown[];
    try {
      results = await this.#db.transaction().execute(async (trx) => {
        const out: unknown[] = [];
        for (const q of batch) out.push(await q.job(trx));
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
          const r = await this.#db.transaction().execute((trx) => q.job(trx));
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
