// Turns the backends' constraint errors into coded store errors, the same on SQLite and PostgreSQL.
import { StoreError } from './errors.ts';

interface DbError {
  code?: unknown;
  errcode?: unknown;
  message?: unknown;
}

export function isUniqueViolation(err: unknown): boolean {
  const e = err as DbError;
  return e?.code === '23505' || e?.errcode === 2067 || e?.errcode === 1555 || /UNIQUE constraint failed/.test(String(e?.message));
}

export function isForeignKeyViolation(err: unknown): boolean {
  const e = err as DbError;
  return e?.code === '23503' || e?.errcode === 787 || /FOREIGN KEY constraint failed/.test(String(e?.message));
}

/** Runs fn, translating unique and foreign-key violations into BH_STORE_CONFLICT and BH_STORE_NOT_FOUND. */
export async function withConstraints<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (isUniqueViolation(err)) {
      throw new StoreError('BH_STORE_CONFLICT', `${what}: another record already has that name, MAC or UUID`, 'Choose another value, or change the existing record', { cause: err });
    }
    if (isForeignKeyViolation(err)) {
      throw new StoreError('BH_STORE_NOT_FOUND', `${what}: it refers to a group, profile or host that does not exist`, 'Create the referenced record first, or fix the id', { cause: err });
    }
    throw err;
  }
}
