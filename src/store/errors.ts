// Coded storage errors (BH_STORE_*, listed with their exit codes in src/errors.ts). As with every
// BhError, `message` says what happened and `hint` what the operator can do; the CLI prints both.
import { BhError } from '../errors.ts';
import type { ErrorCode } from '../errors.ts';

export type StoreErrorCode = Extract<ErrorCode, `BH_STORE_${string}`>;

export class StoreError extends BhError {
  declare readonly code: StoreErrorCode;
  declare readonly hint: string;
  constructor(code: StoreErrorCode, message: string, hint: string, options?: { cause?: unknown }) {
    super(code, message, hint, options);
    this.name = 'StoreError';
  }
}

export function isStoreError(err: unknown, code?: StoreErrorCode): err is StoreError {
  return err instanceof StoreError && (code === undefined || err.code === code);
}
