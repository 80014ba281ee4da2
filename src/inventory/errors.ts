// Coded inventory errors: what is wrong (naming the field or record) and, in `hint`, what to do.
// `kind` tells callers how to react: `invalid` is bad input (the CLI exits 2), `not-found` and
// `conflict` are about the records that exist (exit 1).
export type InventoryErrorCode =
  | 'BH_INV_INVALID_PROFILE'
  | 'BH_INV_INVALID_HOST'
  | 'BH_INV_INVALID_GROUP'
  | 'BH_INV_BAD_MAC'
  | 'BH_INV_BAD_UUID'
  | 'BH_INV_BAD_STATE'
  | 'BH_INV_TRANSITION'
  | 'BH_INV_NOT_FOUND'
  | 'BH_INV_AMBIGUOUS'
  | 'BH_INV_CONFLICT'
  | 'BH_INV_IN_USE'
  | 'BH_INV_FLEET'
  | 'BH_INV_QUICK_FILE';

export type InventoryErrorKind = 'invalid' | 'not-found' | 'conflict';

export class InventoryError extends Error {
  readonly code: InventoryErrorCode;
  readonly hint: string;
  readonly kind: InventoryErrorKind;
  constructor(code: InventoryErrorCode, message: string, hint: string, kind: InventoryErrorKind = 'invalid', options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'InventoryError';
    this.code = code;
    this.hint = hint;
    this.kind = kind;
  }
}

export function isInventoryError(err: unknown, code?: InventoryErrorCode): err is InventoryError {
  return err instanceof InventoryError && (code === undefined || err.code === code);
}

/** One problem found while validating a record: the field path (e.g. `arch.uefi-x64.kernel`), what is wrong, a fix. */
export interface FieldProblem {
  field: string;
  message: string;
  fix: string;
}

export function formatFieldProblem(p: FieldProblem): string {
  return `${p.field === '' ? '' : `${p.field}: `}${p.message} (fix: ${p.fix})`;
}
