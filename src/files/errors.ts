// Coded file errors. `publicMessage` is the only text a client ever sees; it never contains a
// server path. `message` is for the operator and names only the requested (relative) path.

export type FileErrorCode = 'BH_FILES_NOT_FOUND' | 'BH_FILES_DENIED' | 'BH_FILES_BAD_NAME' | 'BH_FILES_IO' | 'BH_FILES_BAD_ROOT' | 'BH_FILES_BAD_GENERATED_PATH';
export type FileErrorKind = 'not-found' | 'denied';

export const PUBLIC_NOT_FOUND = 'File not found';
export const PUBLIC_DENIED = 'Access violation';

export class FileError extends Error {
  readonly code: FileErrorCode;
  readonly kind: FileErrorKind;
  readonly publicMessage: string;
  constructor(code: FileErrorCode, kind: FileErrorKind, message: string) {
    super(`${code}: ${message}`);
    this.name = 'FileError';
    this.code = code;
    this.kind = kind;
    this.publicMessage = kind === 'not-found' ? PUBLIC_NOT_FOUND : PUBLIC_DENIED;
  }
}

/** A requested name, quoted and escaped for logs (control bytes become \uXXXX). */
export function quoteName(name: string): string {
  return JSON.stringify(name.length > 200 ? name.slice(0, 200) + '…' : name);
}
