// A Kysely dialect for Node's built-in `node:sqlite` (DatabaseSync). Kysely ships a dialect for
// better-sqlite3 only; node:sqlite differs in three ways handled here: parameters are passed as
// varargs, a statement returns rows when `columns()` is non-empty, and rows have a null prototype.
// One connection per database file, guarded by a mutex, as in Kysely's own SQLite driver.
import type { DatabaseSync, SQLInputValue, StatementSync } from 'node:sqlite';
import {
  CompiledQuery,
  SelectQueryNode,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
} from 'kysely';
import type {
  DatabaseConnection,
  DatabaseIntrospector,
  Dialect,
  DialectAdapter,
  Driver,
  Kysely,
  QueryCompiler,
  QueryResult,
  TransactionSettings,
} from 'kysely';

export interface NodeSqliteDialectConfig {
  /** An open database; the driver closes it on destroy. */
  database: DatabaseSync;
  /** Statement that opens a write transaction; defaults to `begin immediate` (takes the write lock up front). */
  beginStatement?: string;
}

export class NodeSqliteDialect implements Dialect {
  readonly #config: NodeSqliteDialectConfig;
  constructor(config: NodeSqliteDialectConfig) {
    this.#config = config;
  }
  createDriver(): Driver {
    return new NodeSqliteDriver(this.#config);
  }
  createQueryCompiler(): QueryCompiler {
    return new SqliteQueryCompiler();
  }
  createAdapter(): DialectAdapter {
    return new SqliteAdapter();
  }
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  createIntrospector(db: Kysely<any>): DatabaseIntrospector {
    return new SqliteIntrospector(db);
  }
}

class Mutex {
  #tail: Promise<void> = Promise.resolve();
  #release: (() => void) | undefined;
  async lock(): Promise<void> {
    const prev = this.#tail;
    let release!: () => void;
    this.#tail = new Promise<void>((r) => (release = r));
    await prev;
    this.#release = release;
  }
  unlock(): void {
    const r = this.#release;
    this.#release = undefined;
    r?.();
  }
}

class NodeSqliteDriver implements Driver {
  readonly #db: DatabaseSync;
  readonly #begin: string;
  readonly #mutex = new Mutex();
  readonly #connection: NodeSqliteConnection;
  #closed = false;
  constructor(config: NodeSqliteDialectConfig) {
    this.#db = config.database;
    this.#begin = config.beginStatement ?? 'begin immediate';
    this.#connection = new NodeSqliteConnection(this.#db);
  }
  async init(): Promise<void> {}
  async acquireConnection(): Promise<DatabaseConnection> {
    await this.#mutex.lock();
    return this.#connection;
  }
  async beginTransaction(connection: DatabaseConnection, _settings: TransactionSettings): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(this.#begin));
  }
  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('commit'));
  }
  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('rollback'));
  }
  async releaseConnection(): Promise<void> {
    this.#mutex.unlock();
  }
  async destroy(): Promise<void> {
    if (this.#closed) return;
    // Waits for the query or transaction holding the connection to finish.
    await this.#mutex.lock();
    this.#closed = true;
    if (this.#db.isOpen) this.#db.close();
    this.#mutex.unlock();
  }
}

function toSqliteParam(v: unknown): SQLInputValue {
  if (v === undefined) return null;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (v instanceof Date) return v.getTime();
  return v as SQLInputValue;
}

class NodeSqliteConnection implements DatabaseConnection {
  readonly #db: DatabaseSync;
  readonly #cache = new Map<string, StatementSync>();
  constructor(db: DatabaseSync) {
    this.#db = db;
  }

  #prepare(sqlText: string): StatementSync {
    let stmt = this.#cache.get(sqlText);
    if (stmt === undefined) {
      stmt = this.#db.prepare(sqlText);
      // Cache the common repository statements; DDL and one-offs would only grow the map.
      if (this.#cache.size < 256) this.#cache.set(sqlText, stmt);
    }
    return stmt;
  }

  async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    const stmt = this.#prepare(compiled.sql);
    const params = compiled.parameters.map(toSqliteParam);
    if (stmt.columns().length > 0) {
      const rows = stmt.all(...params).map((r) => ({ ...r }) as R);
      return { rows };
    }
    const { changes, lastInsertRowid } = stmt.run(...params);
    return { rows: [], numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid) };
  }

  async *streamQuery<R>(compiled: CompiledQuery, _chunkSize?: number): AsyncIterableIterator<QueryResult<R>> {
    if (!SelectQueryNode.is(compiled.query)) throw new Error('node:sqlite driver streams select queries only');
    const stmt = this.#prepare(compiled.sql);
    for (const row of stmt.iterate(...compiled.parameters.map(toSqliteParam))) {
      yield { rows: [{ ...(row as object) } as R] };
    }
  }
}
