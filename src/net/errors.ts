// Coded errors for socket creation and interface discovery (BH_NET_*, listed in src/errors.ts).
// Each tells the operator what to do.
import { BhError } from '../errors.ts';
import type { ErrorCode } from '../errors.ts';

export type NetErrorCode = Extract<ErrorCode, `BH_NET_${string}`>;

export class NetError extends BhError {
  declare readonly code: NetErrorCode;
  declare readonly hint: string;
  /** The libc errno name behind the failure, when there is one (ENODEV, EPERM, ...). */
  readonly errno: string | undefined;
  constructor(code: NetErrorCode, message: string, hint: string, errno?: string) {
    super(code, `${code}: ${message} (hint: ${hint})`, hint);
    this.name = 'NetError';
    this.errno = errno;
  }
}

export const PERMISSION_HINT = 'run as root or grant CAP_NET_BIND_SERVICE and CAP_NET_RAW';
