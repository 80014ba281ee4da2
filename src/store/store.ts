// openStore(): the one entry point. Picks the backend from the URL, opens it with safe settings,
// and assembles the repositories over one Kysely instance.
import { closeSync, openSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Logger } from '../log/logger.ts';
import type { Database } from './schema.ts';
import type { Backend, Migration } from './migrations/index.ts';
import { MIGRATIONS } from './migrations/index.ts';
import { NodeSqliteDialect } from './sqlite-dialect.ts';
import { parseStoreUrl } from './url.ts';
import { StoreError } from './errors.ts';
import { Gate } from './gate.ts';
import { WriteQueue } from './write-queue.ts';
import { SqliteWriter } from './sqlite-writer.ts';
import { migrationStatus, runMigrations } from './migrator.ts';
import type { MigrateProgress } from './migrator.ts';
import { createLeaseRepository } from './leases.ts';
import type { LeaseRepository } from './leases.ts';
import { createEventRepository } from './events.ts';
import type { EventRepository } from './events.ts';
import { createKvRepository } from './kv.ts';
import type { KvRepository } from './kv.ts';
import { createGroupRepository, createHostRepository, createProfileRepository } from './inventory.ts';
import type { GroupRepository, HostRepository, ProfileRepository } from './inventory.ts';

export interface StoreStatus {
  backend: Backend;
  /** Where the data lives, without any password. */
  location: string;
  current: number;
  latest: number;
  /** Migrations still to apply, as "NNNN_name". */
  pending: string[];
  /** Applied versions this bootherd does not know: non-empty means the database is newer (migrate() refuses). */
  unknown: number[];
}

export interface Store {
  readonly backend: Backend;
  readonly location: string;
  readonly leases: LeaseRepository;
  readonly events: EventRepository;
  readonly kv: KvRepository;
  readonly hosts: HostRepository;
  readonly groups: GroupRepository;
  readonly profiles: ProfileRepository;
  /** Applies pending migrations, one transaction each. Throws BH_STORE_TOO_NEW for a newer database. */
  migrate(onProgress?: MigrateProgress): Promise<{ applied: string[] }>;
  status(): Promise<StoreStatus>;
  /** Waits for queued writes and running queries, then closes the database. */
  close(): Promise<void>;
}

export interface OpenStoreOptions {
  logger: Logger;
  /** Clock for updatedAt/createdAt; defaults to Date.now. */
  now?: () => number;
  /** SQLite: how long to wait for another process's write lock (ms). Default 5000. */
  busyTimeoutMs?: number;
  /** PostgreSQL: connections in the pool. Default 10. */
  poolSize?: number;
  /** The migration list; only tests pass another one. Defaults to migrations/index.ts. */
  migrations?: readonly Migration[];
}

function openSqlite(file: string, busyTimeoutMs: number): DatabaseSync {
  try {
    // Create the file owner-only: the inventory may later hold install secrets.
    closeSync(openSync(file, 'a', 0o600));
    const db = new DatabaseSync(file, { timeout: busyTimeoutMs });
    const mode = db.prepare('pragma journal_mode = wal').get() as { journal_mode?: string } | undefined;
    if (mode?.journal_mode !== 'wal') throw new Error(`journal_mode is ${mode?.journal_mode ?? 'unknown'}, not wal`);
    db.exec('pragma synchronous = full');
    db.exec('pragma foreign_keys = on');
    db.exec(`pragma busy_timeout = ${Math.trunc(busyTimeoutMs)}`);
    return db;
  } catch (err) {
    throw new StoreError('BH_STORE_OPEN', `cannot open the SQLite store ${file}: ${(err as Error).message}`,
      'Check that the state directory exists, is writable by bootherd, and is on a local file system (WAL needs shared memory)', { cause: err });
  }
}

// int8 (bigint) columns hold millisecond times and ids: read them as numbers, not strings.
const pgTypes: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === 20 && format !== 'binary' ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
};

export async function openStore(url: string, opts: OpenStoreOptions): Promise<Store> {
  const loc = parseStoreUrl(url);
  const log = opts.logger.child({ component: 'store', backend: loc.backend });
  let db: Kysely<Database>;
  let writer: SqliteWriter | undefined;
  if (loc.backend === 'sqlite') {
    const busyTimeoutMs = opts.busyTimeoutMs ?? 5000;
    db = new Kysely<Database>({ dialect: new NodeSqliteDialect({ database: openSqlite(loc.file, busyTimeoutMs) }) });
    // Lease and event writes commit on a second connection, in a worker thread (started on first use).
    writer = new SqliteWriter(loc.file, busyTimeoutMs);
  } else {
    const pool = new pg.Pool({ connectionString: loc.connectionString, max: opts.poolSize ?? 10, types: pgTypes, application_name: 'bootherd' });
    // An idle connection that breaks (server restart) must not crash the process: the pool replaces it.
    pool.on('error', (err) => log.warn({ err: err.message }, 'PostgreSQL connection lost; it will be reopened on next use'));
    db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    try {
      await db.selectNoFrom((eb) => eb.lit(1).as('one')).execute();
    } catch (err) {
      await db.destroy().catch(() => {});
      throw new StoreError('BH_STORE_OPEN', `cannot connect to PostgreSQL at ${loc.display}: ${(err as Error).message}`,
        'Check that the server runs, the URL (host, port or socket directory, database, user) and the password', { cause: err });
    }
  }
  log.debug({ location: loc.display }, 'store opened');
  return new SqlStore(db, loc.backend, loc.display, log, opts.now ?? Date.now, opts.migrations ?? MIGRATIONS, writer);
}

class SqlStore implements Store {
  readonly backend: Backend;
  readonly location: string;
  readonly leases: LeaseRepository;
  readonly events: EventRepository;
  readonly kv: KvRepository;
  readonly hosts: HostRepository;
  readonly groups: GroupRepository;
  readonly profiles: ProfileRepository;
  readonly #db: Kysely<Database>;
  readonly #log: Logger;
  readonly #gate = new Gate();
  readonly #queue: WriteQueue;
  readonly #migrations: readonly Migration[];
  readonly #writer: SqliteWriter | undefined;
  #closing: Promise<void> | undefined;

  constructor(db: Kysely<Database>, backend: Backend, location: string, log: Logger, now: () => number, migrations: readonly Migration[], writer: SqliteWriter | undefined) {
    this.#db = db;
    this.#writer = writer;
    this.#migrations = migrations;
    this.backend = backend;
    this.location = location;
    this.#log = log;
    this.#queue = new WriteQueue(db, 512, writer);
    this.leases = createLeaseRepository(db, this.#queue, this.#gate, now);
    this.events = createEventRepository(db, this.#queue, this.#gate);
    this.kv = createKvRepository(db, this.#gate);
    this.hosts = createHostRepository(db, this.#gate, now);
    this.groups = createGroupRepository(db, this.#gate);
    this.profiles = createProfileRepository(db, this.#gate);
  }

  migrate(onProgress?: MigrateProgress): Promise<{ applied: string[] }> {
    return this.#gate.run(() => runMigrations(this.#db, this.backend, this.#migrations, this.#log, onProgress));
  }

  status(): Promise<StoreStatus> {
    return this.#gate.run(async () => ({ backend: this.backend, location: this.location, ...(await migrationStatus(this.#db, this.backend, this.#migrations)) }));
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.#gate.close();
      await this.#queue.drain();
      await this.#writer?.close();
      await this.#db.destroy();
      this.#log.debug('store closed');
    })();
    return this.#closing;
  }
}
