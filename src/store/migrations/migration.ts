// What a migration is. Migrations are written once for both backends with Kysely's schema builder;
// `dialect` is there for the rare type that has no portable spelling (see autoIncrementId).
import type { ColumnDefinitionBuilder, Kysely, Transaction } from 'kysely';

export type Backend = 'sqlite' | 'postgres';

export interface MigrationContext {
  /** The open transaction the migration runs in; it commits with the schema_migrations record. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  db: Transaction<any> | Kysely<any>;
  backend: Backend;
}

export interface Migration {
  /** 1, 2, 3 ... in order, never reused. */
  version: number;
  /** Short snake_case name, e.g. "initial". */
  name: string;
  up(ctx: MigrationContext): Promise<void>;
}

/** Column type for an integer primary key the database numbers itself (64-bit on PostgreSQL). */
export function autoIncrementType(backend: Backend): 'bigint' | 'integer' {
  return backend === 'postgres' ? 'bigint' : 'integer';
}

/** Column definition for that key: AUTOINCREMENT on SQLite, IDENTITY on PostgreSQL. */
export function autoIncrementId(backend: Backend): (col: ColumnDefinitionBuilder) => ColumnDefinitionBuilder {
  return backend === 'postgres'
    ? (col) => col.primaryKey().generatedByDefaultAsIdentity()
    : (col) => col.primaryKey().autoIncrement();
}
