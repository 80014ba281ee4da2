// Coded inventory errors (BH_INV_*, listed in src/errors.ts): what is wrong (naming the field or
// record) and, in `hint`, what to do. The list gives each code its exit code: bad input exits 2,
// missing or conflicting records exit 1.
import { BhError } from '../errors.ts';
import type { ErrorCode } from '../errors.ts';

export type InventoryErrorCode = Extract<ErrorCode, `BH_INV_${string}`>;

export class InventoryError extends BhError {
  declare readonly code: InventoryErrorCode;
  declare readonly hint: string;
  constructor(code: InventoryErrorCode, message: string, hint: string, options?: { cause?: unknown }) {
    super(code, message, hint, options);
    this.name = 'InventoryError';
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
