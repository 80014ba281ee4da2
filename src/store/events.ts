// Boot events: the per-host timeline. Appends share the write queue with leases (group commit).
import type { BootEvent, BootStage } from '../events/bus.ts';
import type { Kysely, Selectable, Transaction } from 'kysely';
import type { SQLInputValue } from 'node:sqlite';
import type { BootEventsTable, Database } from './schema.ts';
import type { Gate } from './gate.ts';
import type { WriteQueue } from './write-queue.ts';
import type { SqlStatement, StatementResult } from './sqlite-writer.ts';
import { NO_CONTROL, checkText, checkTime, jsonText, parseJson } from './validate.ts';

export interface StoredBootEvent extends BootEvent {
  /** Increases with every append: a stable cursor for paging. */
  id: number;
}

export interface AppendManyResult {
  /** How many events were stored. */
  stored: number;
  /** The events not stored, by their index in the batch, with the reason (BH_STORE_INVALID). */
  refused: readonly { index: number; error: Error }[];
}

export interface EventQuery {
  /** Only this host's events. */
  host?: string;
  /** At most this many (default 100, at most 10 000). */
  limit?: number;
  /** Only events older than this id (paging backwards). */
  beforeId?: number;
}

export interface EventRepository {
  /**
   * Stores one event; resolves with its id once it is durable. `detailJson`: the detail already
   * serialised (`JSON.stringify(event.detail)`), for a caller that also logs it, so the detail is
   * serialised once; it is trusted to be that, and still bounded by MAX_EVENT_DETAIL.
   */
  append(event: BootEvent, detailJson?: string): Promise<number>;
  /**
   * Stores a batch of events, in the given order (their ids increase in that order), as one write
   * that joins the next group commit; resolves once they are durable. For a caller that does not
   * need the ids (the event recorder): one promise and one multi-row insert per batch instead of
   * one each per event. `detailJsons[i]`: event i's detail already serialised, as for append().
   * The write may wait up to EVENT_COMMIT_DELAY_MS for other writes to share its commit (any other
   * write, and closing the store, take it along at once). An event that fails validation (host,
   * stage, kind, time) is not stored and is reported in `refused`; the others are stored all the
   * same. Rejects when the batch as a whole could not be stored (then none of it was).
   */
  appendMany(events: readonly BootEvent[], detailJsons?: readonly (string | undefined)[]): Promise<AppendManyResult>;
  /** The newest events first. */
  list(query?: EventQuery): Promise<StoredBootEvent[]>;
  /** Deletes events older than beforeMs; returns how many. */
  prune(beforeMs: number): Promise<number>;
}

const WHAT = 'a boot event';
/** Detail larger than this (as JSON) is replaced by a note saying so. */
export const MAX_EVENT_DETAIL = 16_384;

const TRUNCATED = JSON.stringify({ truncated: true });

function detailText(e: BootEvent, detailJson: string | undefined): string {
  if (detailJson !== undefined) return detailJson.length <= MAX_EVENT_DETAIL ? detailJson : TRUNCATED;
  try {
    return jsonText(WHAT, 'detail', e.detail, MAX_EVENT_DETAIL);
  } catch {
    // An oversize or circular detail must not lose the event itself.
    return TRUNCATED;
  }
}

/**
 * True when v is a string of 1..max characters from 0x20-0x7e: the common case of every text
 * field, checked without a regular expression. Anything else goes to checkText for the verdict.
 */
function plainAscii(v: unknown, max: number): v is string {
  if (typeof v !== 'string' || v.length === 0 || v.length > max) return false;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

/** The row's columns (host, stage, kind, detail, time), appended to `params`; throws BH_STORE_INVALID. */
function pushRow(params: SQLInputValue[], e: BootEvent, detailJson: string | undefined): void {
  const time = e.time instanceof Date ? e.time.getTime() : Number.NaN;
  const host = plainAscii(e.host, 255) ? e.host : checkText(WHAT, 'host', e.host, 255, { pattern: NO_CONTROL });
  const stage = plainAscii(e.stage, 32) ? e.stage : checkText(WHAT, 'stage', e.stage, 32);
  const kind = plainAscii(e.kind, 64) ? e.kind : checkText(WHAT, 'kind', e.kind, 64);
  // Checked before the detail is measured, so nothing is pushed for a refused event.
  const t = Number.isSafeInteger(time) && time >= 0 ? time : checkTime(WHAT, 'time', time);
  params.push(host, stage, kind, detailText(e, detailJson), t);
}

function rowFromEvent(e: BootEvent, detailJson: string | undefined): Omit<BootEventsTable, 'id'> {
  const p: SQLInputValue[] = [];
  pushRow(p, e, detailJson);
  return { host: p[0] as string, stage: p[1] as string, kind: p[2] as string, detail: p[3] as string, time: p[4] as number };
}

function eventFromRow(r: Selectable<BootEventsTable>): StoredBootEvent {
  const detail = parseJson(r.detail);
  return {
    id: Number(r.id),
    host: r.host,
    stage: r.stage as BootStage,
    kind: r.kind,
    detail: typeof detail === 'object' && detail !== null && !Array.isArray(detail) ? (detail as Record<string, unknown>) : { value: detail },
    time: new Date(Number(r.time)),
  };
}

const APPEND_SQL = 'insert into boot_events (host, stage, kind, detail, time) values (?, ?, ?, ?, ?)';
const appendResult = (r: StatementResult[]): number => ('lastInsertRowid' in r[0]! ? r[0].lastInsertRowid : Number.NaN);

/**
 * How long a batch from appendMany may wait for other writes to share its commit. Nobody waits on
 * these writes, and a steady stream of them then costs one commit per 10 ms instead of one per turn
 * of the event loop (a round trip to the write worker and an fsync each).
 */
export const EVENT_COMMIT_DELAY_MS = 10;

const COLUMNS = 5;
/**
 * Rows per multi-row insert on SQLite, largest first; a batch is cut into statements of these sizes,
 * so the write worker prepares only these few texts (64 rows = 320 parameters, far below SQLite's limit).
 */
const CHUNKS = [64, 16, 4, 1];
const INSERT_SQL = new Map(CHUNKS.map((n) => [n, `insert into boot_events (host, stage, kind, detail, time) values ${Array.from({ length: n }, () => '(?, ?, ?, ?, ?)').join(', ')}`]));
/** Rows per insert on PostgreSQL (its limit is 65 535 parameters per statement). */
const PG_CHUNK = 1000;
const NO_REFUSALS: AppendManyResult['refused'] = Object.freeze([]);
const manyResult = (): undefined => undefined;

/** SQLite statements inserting the rows whose columns are `params` (COLUMNS per row), in order. */
function insertStatements(params: SQLInputValue[]): SqlStatement[] {
  const rows = params.length / COLUMNS;
  const out: SqlStatement[] = [];
  let at = 0;
  for (const n of CHUNKS) {
    while (rows - at >= n) {
      out.push({ sql: INSERT_SQL.get(n)!, params: params.length === n * COLUMNS ? params : params.slice(at * COLUMNS, (at + n) * COLUMNS), rows: false });
      at += n;
    }
  }
  return out;
}

async function insertRowsKysely(trx: Transaction<Database>, params: SQLInputValue[]): Promise<undefined> {
  const rows: Omit<BootEventsTable, 'id'>[] = [];
  for (let i = 0; i < params.length; i += COLUMNS) {
    rows.push({ host: params[i] as string, stage: params[i + 1] as string, kind: params[i + 2] as string, detail: params[i + 3] as string, time: params[i + 4] as number });
  }
  for (let i = 0; i < rows.length; i += PG_CHUNK) await trx.insertInto('boot_events').values(rows.slice(i, i + PG_CHUNK)).execute();
  return undefined;
}

export function createEventRepository(db: Kysely<Database>, queue: WriteQueue, gate: Gate): EventRepository {
  return {
    append: (event, detailJson) => gate.run(() => {
      const row = rowFromEvent(event, detailJson);
      // As data, so that on SQLite the append joins the lease writes in the write worker's batch.
      return queue.push({
        statements: [{ sql: APPEND_SQL, params: [row.host, row.stage, row.kind, row.detail, row.time], rows: false }],
        result: appendResult,
        kysely: async (trx) => Number((await trx.insertInto('boot_events').values(row).returning('id').executeTakeFirstOrThrow()).id),
      });
    }),
    appendMany: (events, detailJsons) => gate.run(async () => {
      const params: SQLInputValue[] = [];
      let refused: { index: number; error: Error }[] | undefined;
      for (let i = 0; i < events.length; i++) {
        try {
          pushRow(params, events[i]!, detailJsons?.[i]);
        } catch (err) {
          (refused ??= []).push({ index: i, error: err as Error });
        }
      }
      const stored = params.length / COLUMNS;
      // One write for the batch, with every row in one job: they commit together, in order.
      if (stored > 0) await queue.push({ statements: insertStatements(params), result: manyResult, kysely: (trx) => insertRowsKysely(trx, params) }, EVENT_COMMIT_DELAY_MS);
      return { stored, refused: refused ?? NO_REFUSALS };
    }),
    list: (query = {}) => gate.run(async () => {
      const limit = Math.max(1, Math.min(10_000, Math.trunc(query.limit ?? 100)));
      let q = db.selectFrom('boot_events').selectAll();
      if (query.host !== undefined) q = q.where('host', '=', query.host);
      if (query.beforeId !== undefined) q = q.where('id', '<', query.beforeId);
      const rows = await q.orderBy('id', 'desc').limit(limit).execute();
      return rows.map(eventFromRow);
    }),
    prune: (beforeMs) => gate.run(async () => {
      checkTime('a prune', 'beforeMs', beforeMs);
      const r = await queue.push((trx) => trx.deleteFrom('boot_events').where('time', '<', beforeMs).executeTakeFirst());
      return Number(r.numDeletedRows);
    }),
  };
}
