// Applies the versioned migrations in migrations/ and reports where a database stands.
// Each migration runs in its own transaction together with its schema_migrations record, so a
// migration is either fully applied and recorded or not at all. On PostgreSQL every step first takes
// a transaction-scoped advisory lock, so several bootherd servers may migrate one database at once:
// they take turns, and each re-reads what is applied after it gets the lock. On SQLite the write
// transaction (`begin immediate`) serialises steps the same way.
import { sql } from 'kysely';
import type { Kysely, Transaction } from 'kysely';
import type { Logger } from '../log/logger.ts';
import type { Database } from './schema.ts';
import type { Backend, Migration } from './migrations/index.ts';
import { StoreError } from './errors.ts';

/** Key for pg_advisory_xact_lock: "bootherd" folded into a bigint, shared by every bootherd. */
export const MIGRATION_LOCK_KEY = 0x626f6f7468657264n & 0x7fffffffffffffffn;

export type MigrateProgress = (done: number, total: number, name: string) => void;

export interface MigrationStatus {
  /** Highest applied version (0 for an empty database). */
  current: number;
  /** Highest version this bootherd knows. */
  latest: number;
  /** Known migrations not applied yet, as "NNNN_name". */
  pending: string[];
  /** Applied versions this bootherd does not know (the database is newer than this bootherd). */
  unknown: number[];
}

export function migrationLabel(m: { version: number; name: string }): string {
  return `${String(m.version).padStart(4, '0')}_${m.name}`;
}

export function checkMigrationList(migrations: readonly Migration[]): void {
  let prev = 0;
  for (const m of migrations) {
    if (!Number.isInteger(m.version) || m.version <= prev) {
      throw new Error(`migration list out of order at ${migrationLabel(m)}: versions must increase from 1`);
    }
    prev = m.version;
  }
}

function tooNew(unknown: number[], latest: number): StoreError {
  return new StoreError(
    'BH_STORE_TOO_NEW',
    `the database has schema version ${Math.max(...unknown)}, newer than this bootherd knows (up to ${latest})`,
    'A newer bootherd has migrated this database: run that version, or point this one at another database',
  );
}

async function ensureTable(db: Kysely<Database> | Transaction<Database>): Promise<void> {
  await db.schema
    .createTable('schema_migrations')
    .ifNotExists()
    .addColumn('version', 'integer', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('applied_at', 'bigint', (c) => c.notNull())
    .execute();
}

async function tableExists(db: Kysely<Database>, backend: Backend): Promise<boolean> {
  if (backend === 'postgres') {
    const r = await sql<{ t: string | null }>`select to_regclass('schema_migrations')::text as t`.execute(db);
    return r.rows[0]?.t !== null && r.rows[0]?.t !== undefined;
  }
  const r = await sql<{ n: number }>`select count(*) as n from sqlite_master where type = 'table' and name = 'schema_migrations'`.execute(db);
  return Number(r.rows[0]?.n ?? 0) > 0;
}

export async function migrationStatus(db: Kysely<Database>, backend: Backend, migrations: readonly Migration[]): Promise<MigrationStatus> {
  const latest = migrations.at(-1)?.version ?? 0;
  const applied = (await tableExists(db, backend))
    ? (await db.selectFrom('schema_migrations').select('version').execute()).map((r) => Number(r.version))
    : [];
  const done = new Set(applied);
  const known = new Set(migrations.map((m) => m.version));
  return {
    current: applied.length === 0 ? 0 : Math.max(...applied),
    latest,
    pending: migrations.filter((m) => !done.has(m.version)).map(migrationLabel),
    unknown: applied.filter((v) => !known.has(v)).sort((a, b) => a - b),
  };
}

export async function runMigrations(
  db: Kysely<Database>,
  backend: Backend,
  migrations: readonly Migration[],
  log: Logger,
  onProgress?: MigrateProgress,
): Promise<{ applied: string[] }> {
  checkMigrationList(migrations);
  const latest = migrations.at(-1)?.version ?? 0;
  const applied: string[] = [];
  for (;;) {
    let current: Migration | undefined;
    let remaining: number;
    try {
      remaining = await db.transaction().execute(async (trx) => {
        if (backend === 'postgres') await sql`select pg_advisory_xact_lock(${sql.lit(MIGRATION_LOCK_KEY.toString())}::bigint)`.execute(trx);
        await ensureTable(trx);
        const rows = await trx.selectFrom('schema_migrations').select('version').execute();
        const done = new Set(rows.map((r) => Number(r.version)));
        const known = new Set(migrations.map((m) => m.version));
        const unknown = [...done].filter((v) => !known.has(v));
        if (unknown.length > 0) throw tooNew(unknown, latest);
        const pending = migrations.filter((m) => !done.has(m.version));
        current = pending[0];
        if (current === undefined) return 0;
        await current.up({ db: trx, backend });
        await trx.insertInto('schema_migrations').values({ version: current.version, name: current.name, applied_at: Date.now() }).execute();
        return pending.length - 1;
      });
    } catch (err) {
      if (err instanceof StoreError) throw err;
      const label = current === undefined ? 'the migration table' : migrationLabel(current);
      throw new StoreError('BH_STORE_MIGRATE', `migration ${label} failed and was rolled back: ${(err as Error).message}`,
        'Nothing of this step was applied; fix the cause (disk space, permissions, a conflicting object) and run the migration again', { cause: err });
    }
    if (current === undefined) break;
    const label = migrationLabel(current);
    applied.push(label);
    log.info({ migration: label }, 'applied database migration');
    onProgress?.(applied.length, applied.length + remaining, label);
  }
  return { applied };
}
