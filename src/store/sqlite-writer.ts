// The main thread's side of the SQLite write worker (sqlite-write-worker.ts): sends a batch of jobs
// (each a list of SQL statements) and resolves with one outcome per job once the worker committed.
// The worker is started on first use and holds the process open only while a batch is in flight.
import { Worker } from 'node:worker_threads';
import type { SQLInputValue } from 'node:sqlite';
import { StoreError } from './errors.ts';

/** One SQL statement in SQLite syntax with `?` parameters. */
export interface SqlStatement {
  sql: string;
  params: SQLInputValue[];
  /** true: the statement returns rows (select, `returning`). */
  rows: boolean;
}

export type StatementResult = { changes: number; lastInsertRowid: number } | { rows: Record<string, unknown>[] };

export type JobOutcome = { ok: true; results: StatementResult[] } | { ok: false; error: Error };

interface ErrorInfo {
  message: string;
  code?: string;
  errcode?: number;
  errstr?: string;
}

type WorkerMessage =
  | { id: number; outcomes: ({ ok: true; results: StatementResult[] } | { ok: false; error: ErrorInfo })[] }
  | { fatal: ErrorInfo }
  | { closed: true };

const WORKER = new URL('./sqlite-write-worker.ts', import.meta.url);

function toError(info: ErrorInfo): Error {
  return Object.assign(new Error(info.message), info.code === undefined ? {} : { code: info.code }, info.errcode === undefined ? {} : { errcode: info.errcode, errstr: info.errstr });
}

export class SqliteWriter {
  readonly #file: string;
  readonly #busyTimeoutMs: number;
  #worker: Worker | undefined;
  #nextId = 1;
  readonly #pending = new Map<number, { resolve: (o: JobOutcome[]) => void; reject: (e: unknown) => void }>();
  #failed: Error | undefined;
  #closing: Promise<void> | undefined;

  constructor(file: string, busyTimeoutMs: number) {
    this.#file = file;
    this.#busyTimeoutMs = busyTimeoutMs;
  }

  /** Runs the jobs in one transaction (each job alone if the batch fails); one outcome per job. */
  run(jobs: SqlStatement[][]): Promise<JobOutcome[]> {
    if (this.#failed !== undefined) return Promise.reject(this.#failed);
    if (this.#closing !== undefined) return Promise.reject(new StoreError('BH_STORE_CLOSED', 'the store is closed', 'This is a bug in the caller: it used the store after shutting it down'));
    const w = this.#start();
    const id = this.#nextId++;
    return new Promise<JobOutcome[]>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      if (this.#pending.size === 1) w.ref();
      w.postMessage({ id, jobs });
    });
  }

  #start(): Worker {
    if (this.#worker !== undefined) return this.#worker;
    const w = new Worker(WORKER, { workerData: { file: this.#file, busyTimeoutMs: this.#busyTimeoutMs } });
    w.unref();
    w.on('message', (m: WorkerMessage) => {
      if ('id' in m) {
        const p = this.#pending.get(m.id);
        this.#pending.delete(m.id);
        if (this.#pending.size === 0) w.unref();
        p?.resolve(m.outcomes.map((o) => (o.ok ? o : { ok: false, error: toError(o.error) })));
      } else if ('fatal' in m) {
        this.#fail(new StoreError('BH_STORE_OPEN', `the SQLite write thread cannot open ${this.#file}: ${m.fatal.message}`, 'Check that the state directory is writable by bootherd and on a local file system'));
      }
    });
    w.on('error', (err) => this.#fail(new StoreError('BH_STORE_WRITE', `the SQLite write thread failed: ${err.message}`, 'Restart bootherd; if it happens again, report it with the log', { cause: err })));
    w.on('exit', (code) => {
      if (this.#closing === undefined) this.#fail(new StoreError('BH_STORE_WRITE', `the SQLite write thread exited (code ${code})`, 'Restart bootherd; if it happens again, report it with the log'));
    });
    this.#worker = w;
    return w;
  }

  #fail(err: Error): void {
    this.#failed ??= err;
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of pending) p.reject(this.#failed);
  }

  /** Waits for batches in flight, then closes the worker's connection and ends the thread. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      const w = this.#worker;
      if (w === undefined) return;
      // Batches in flight settle first (the write queue has drained before close() is called).
      while (this.#pending.size > 0 && this.#failed === undefined) await new Promise((r) => setTimeout(r, 5));
      if (this.#failed === undefined) {
        w.ref();
        const closed = new Promise<void>((r) => {
          w.on('message', (m: WorkerMessage) => { if ('closed' in m) r(); });
          w.once('exit', () => r());
        });
        w.postMessage({ close: true });
        await closed;
      }
      await w.terminate();
    })();
    return this.#closing;
  }
}
