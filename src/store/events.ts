// Boot events: the per-host timeline. Appends share the write queue with leases (group commit).
import type { BootEvent, BootStage } from '../events/bus.ts';
import type { Kysely, Selectable } from 'kysely';
import type { BootEventsTable, Database } from './schema.ts';
import type { Gate } from './gate.ts';
import type { WriteQueue } from './write-queue.ts';
import type { StatementResult } from './sqlite-writer.ts';
import { NO_CONTROL, checkText, checkTime, jsonText, parseJson } from './validate.ts';

export interface StoredBootEvent extends BootEvent {
  /** Increases with every append: a stable cursor for paging. */
  id: number;
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
  /** The newest events first. */
  list(query?: EventQuery): Promise<StoredBootEvent[]>;
  /** Deletes events older than beforeMs; returns how many. */
  prune(beforeMs: number): Promise<number>;
}

const WHAT = 'a boot event';
/** Detail larger than this (as JSON) is replaced by a note saying so. */
export const MAX_EVENT_DETAIL = 16_384;

const TRUNCATED = JSON.stringify({ truncated: true });

function rowFromEvent(e: BootEvent, detailJson: string | undefined): Omit<BootEventsTable, 'id'> {
  const time = e.time instanceof Date ? e.time.getTime() : Number.NaN;
  let detail: string;
  if (detailJson !== undefined) {
    detail = detailJson.length <= MAX_EVENT_DETAIL ? detailJson : TRUNCATED;
  } else {
    try {
      detail = jsonText(WHAT, 'detail', e.detail, MAX_EVENT_DETAIL);
    } catch {
      // An oversize or circular detail must not lose the event itself.
      detail = TRUNCATED;
    }
  }
  return {
    host: checkText(WHAT, 'host', e.host, 255, { pattern: NO_CONTROL }),
    stage: checkText(WHAT, 'stage', e.stage, 32),
    kind: checkText(WHAT, 'kind', e.kind, 64),
    detail,
    time: checkTime(WHAT, 'time', time),
  };
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
