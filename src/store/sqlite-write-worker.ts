// The SQLite write worker: a thread that owns one write connection to the database file and runs
// group commits for the main thread's write queue (sqlite-writer.ts). node:sqlite is synchronous, so a
// commit with synchronous=FULL blocks its thread for the fsync (several ms here); done here, the main
// thread keeps receiving and answering packets meanwhile.
//
// Protocol (structured-cloned messages):
//   in:  { id, sqls?: [sqlId, sql][], flat }  a batch of jobs, flattened by sqlite-writer.ts; every
//        job's statements run in one transaction, in order
//   out: { id, outcomes: ({ ok: true, results } | { ok: false, error })[] }  once committed (or not),
//        or { id, flat: [changes, lastInsertRowid, ...] } when every job committed and none returns rows
// A failing batch is rolled back and retried job by job, each in its own transaction, so one bad
// write fails only its own caller. Imports nothing from the project: it starts fast and stays small.
import { DatabaseSync } from 'node:sqlite';
import type { SQLInputValue, StatementSync } from 'node:sqlite';
import { parentPort, workerData } from 'node:worker_threads';

interface Statement {
  sql: string;
  params: SQLInputValue[];
  /** true: return the rows (select or `returning`); false: return changes and the last rowid. */
  rows: boolean;
}

type Result = { changes: number; lastInsertRowid: number } | { rows: Record<string, unknown>[] };

interface ErrorInfo {
  message: string;
  code?: string;
  errcode?: number;
  errstr?: string;
}

type Outcome = { ok: true; results: Result[] } | { ok: false; error: ErrorInfo };

const { file, busyTimeoutMs } = workerData as { file: string; busyTimeoutMs: number };
const port = parentPort!;

let db: DatabaseSync;
try {
  db = new DatabaseSync(file, { timeout: busyTimeoutMs });
  // The same settings as the main connection (store.ts): a commit that returned is on disk.
  db.exec('pragma synchronous = full');
  db.exec('pragma foreign_keys = on');
  db.exec(`pragma busy_timeout = ${Math.trunc(busyTimeoutMs)}`);
} catch (err) {
  port.postMessage({ fatal: errorInfo(err) });
  process.exit(1);
}

const cache = new Map<string, StatementSync>();
function prepare(sql: string): StatementSync {
  let s = cache.get(sql);
  if (s === undefined) {
    s = db.prepare(sql);
    if (cache.size < 256) cache.set(sql, s);
  }
  return s;
}

function errorInfo(err: unknown): ErrorInfo {
  const e = err as { message?: unknown; code?: unknown; errcode?: unknown; errstr?: unknown };
  const info: ErrorInfo = { message: typeof e?.message === 'string' ? e.message : String(err) };
  if (typeof e?.code === 'string') info.code = e.code;
  if (typeof e?.errcode === 'number') info.errcode = e.errcode;
  if (typeof e?.errstr === 'string') info.errstr = e.errstr;
  return info;
}

function runJob(job: Statement[]): Result[] {
  const out: Result[] = [];
  for (const st of job) {
    const s = prepare(st.sql);
    if (st.rows) out.push({ rows: s.all(...st.params).map((r) => ({ ...r })) });
    else {
      const r = s.run(...st.params);
      out.push({ changes: Number(r.changes), lastInsertRowid: Number(r.lastInsertRowid) });
    }
  }
  return out;
}

function rollback(): void {
  try {
    if (db.isTransaction) db.exec('rollback');
  } catch {
    // the transaction is gone already
  }
}

/** All jobs in one transaction; on failure, each job alone. */
function runBatch(jobs: Statement[][]): Outcome[] {
  try {
    db.exec('begin immediate');
    const results = jobs.map(runJob);
    db.exec('commit');
    return results.map((r) => ({ ok: true, results: r }));
  } catch (err) {
    rollback();
    if (jobs.length === 1) return [{ ok: false, error: errorInfo(err) }];
  }
  return jobs.map((job): Outcome => {
    try {
      db.exec('begin immediate');
      const results = runJob(job);
      db.exec('commit');
      return { ok: true, results };
    } catch (err) {
      rollback();
      return { ok: false, error: errorInfo(err) };
    }
  });
}

const sqlTexts: string[] = [];

function decode(flat: SQLInputValue[]): Statement[][] {
  let i = 0;
  const jobs: Statement[][] = [];
  const nJobs = flat[i++] as number;
  for (let j = 0; j < nJobs; j++) {
    const nStatements = flat[i++] as number;
    const job: Statement[] = [];
    for (let k = 0; k < nStatements; k++) {
      const sql = sqlTexts[flat[i++] as number]!;
      const rows = flat[i++] === 1;
      const n = flat[i++] as number;
      job.push({ sql, rows, params: flat.slice(i, i + n) });
      i += n;
    }
    jobs.push(job);
  }
  return jobs;
}

port.on('message', (m: { id: number; sqls?: [number, string][]; flat: SQLInputValue[] } | { close: true }) => {
  if ('close' in m) {
    db.close();
    port.postMessage({ closed: true });
    port.close();
    return;
  }
  for (const [id, sql] of m.sqls ?? []) sqlTexts[id] = sql;
  const outcomes = runBatch(decode(m.flat));
  // The common case, every job committed and none returns rows, goes back flat too:
  // [changes, lastInsertRowid] per statement, in order.
  const flat: number[] = [];
  for (const o of outcomes) {
    if (!o.ok) break;
    for (const r of o.results) {
      if (!('changes' in r)) break;
      flat.push(r.changes, r.lastInsertRowid);
    }
  }
  if (flat.length === 2 * outcomes.reduce((n, o) => n + (o.ok ? o.results.length : Number.NaN), 0)) port.postMessage({ id: m.id, flat });
  else port.postMessage({ id: m.id, outcomes });
});
