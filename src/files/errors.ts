// Coded file errors (BH_FILES_*, listed in src/errors.ts with what TFTP and HTTP answer). `publicMessage`
// is the only text a client ever sees; it never contains a server path. `message` is for the
// operator and names only the requested (relative) path.
import { BhError } from '../errors.ts';
import type { ErrorCode } from '../errors.ts';

export type FileErrorCode = Extract<ErrorCode, `BH_FILES_${string}`>;
export type FileErrorKind = 'not-found' | 'denied';

export const PUBLIC_NOT_FOUND = 'File not found';
export const PUBLIC_DENIED = 'Access violation';

export class FileError extends BhError {
  declare readonly code: FileErrorCode;
  readonly kind: FileErrorKind;
  readonly publicMessage: string;
  constructor(code: FileErrorCode, kind: FileErrorKind, message: string) {
    super(code, `${code}: ${message}`);
    this.name = 'FileError';
    this.kind = kind;
    this.publicMessage = kind === 'not-found' ? PUBLIC_NOT_FOUND : PUBLIC_DENIED;
  }
}

/** A requested name, quoted and escaped for logs (control bytes become \uXXXX). */
export function quoteName(name: string): string {
  return JSON.stringify(name.length > 200 ? name.slice(0, 200) + '…' : name);
}
