// Coded errors for socket creation and interface discovery. Each tells the operator what to do.
export type NetErrorCode =
  | 'BH_NET_NO_INTERFACE'
  | 'BH_NET_PERMISSION'
  | 'BH_NET_IN_USE'
  | 'BH_NET_NO_ADDRESS'
  | 'BH_NET_SOCKET';

export class NetError extends Error {
  readonly code: NetErrorCode;
  readonly hint: string;
  /** The libc errno name behind the failure, when there is one (ENODEV, EPERM, ...). */
  readonly errno: string | undefined;
  constructor(code: NetErrorCode, message: string, hint: string, errno?: string) {
    super(`${code}: ${message} (hint: ${hint})`);
    this.name = 'NetError';
    this.code = code;
    this.hint = hint;
    this.errno = errno;
  }
}

export const PERMISSION_HINT = 'run as root or grant CAP_NET_BIND_SERVICE and CAP_NET_RAW';
