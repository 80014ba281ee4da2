// Coded storage errors. Every error names what went wrong (BH_STORE_*) and what the operator can do.
// As with the CLI's other errors, `message` says what happened and `hint` what to do; the CLI prints both.
export type StoreErrorCode =
  | 'BH_STORE_URL'
  | 'BH_STORE_OPEN'
  | 'BH_STORE_TOO_NEW'
  | 'BH_STORE_MIGRATE'
  | 'BH_STORE_CLOSED'
  | 'BH_STORE_INVALID'
  | 'BH_STORE_NOT_FOUND'
  | 'BH_STORE_CONFLICT'
  | 'BH_STORE_WRITE';

export class StoreError extends Error {
  readonly code: StoreErrorCode;
  /** What the operator should do about it. */
  readonly hint: string;
  constructor(code: StoreErrorCode, message: string, hint: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreError';
    this.code = code;
    this.hint = hint;
  }
}

export function isStoreError(err: unknown, code?: StoreErrorCode): err is StoreError {
  return err instanceof StoreError && (code === undefined || err.code === code);
}
