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
  | { id: number; flat: number[] }
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
  readonly #sqlIds = new Map<string, number>();
  /** shape: statements per job, to unflatten the reply; at: read position in it. */
  readonly #pending = new Map<number, { resolve: (o: JobOutcome[]) => void; reject: (e: unknown) => void; shape: number[]; at: number }>();
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
    const batch = this.#encode(jobs);
    return new Promise<JobOutcome[]>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject, shape: jobs.map((j) => j.length), at: 0 });
      if (this.#pending.size === 1) w.ref();
      w.postMessage(batch.sqls.length > 0 ? { id, sqls: batch.sqls, flat: batch.flat } : { id, flat: batch.flat });
    });
  }

  /**
   * One flat array of primitives is much cheaper to clone than objects per statement:
   * [jobCount, (statementCount, (sqlId, rows 0|1, paramCount, ...params)*)*]. Each SQL text crosses
   * once, as [sqlId, sql] in `sqls`, the first time it is used.
   */
  #encode(jobs: SqlStatement[][]): { sqls: [number, string][]; flat: SQLInputValue[] } {
    const sqls: [number, string][] = [];
    const flat: SQLInputValue[] = [jobs.length];
    for (const job of jobs) {
      flat.push(job.length);
      for (const st of job) {
        let sqlId = this.#sqlIds.get(st.sql);
        if (sqlId === undefined) {
          sqlId = this.#sqlIds.size;
          this.#sqlIds.set(st.sql, sqlId);
          sqls.push([sqlId, st.sql]);
        }
        flat.push(sqlId, st.rows ? 1 : 0, st.params.length);
        for (const v of st.params) flat.push(v);
      }
    }
    return { sqls, flat };
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
        if (p === undefined) return;
        if ('outcomes' in m) p.resolve(m.outcomes.map((o) => (o.ok ? o : { ok: false, error: toError(o.error) })));
        else p.resolve(p.shape.map((n) => ({ ok: true, results: Array.from({ length: n }, () => ({ changes: m.flat[p.at++]!, lastInsertRowid: m.flat[p.at++]! })) })));
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
