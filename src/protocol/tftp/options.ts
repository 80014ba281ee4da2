// Option negotiation for a read request: blksize (RFC 2348), timeout and tsize (RFC 2349),
// windowsize (RFC 7440). Pure. Values must match ^[0-9]{1,10}$ and lie in the RFC range, or the
// option is left out of the OACK (never echoed, never clamped up from below the minimum).
// Only the last occurrence of an option counts (as in atftpd and dnsmasq); unknown options are ignored.
import type { RequestOption, TransferMode } from './packets.ts';

export const DEFAULT_BLKSIZE = 512;
export const MIN_BLKSIZE = 8;
export const MAX_BLKSIZE = 65464;
export const MIN_TIMEOUT_S = 1;
export const MAX_TIMEOUT_S = 255;
export const MIN_WINDOWSIZE = 1;
export const MAX_WINDOWSIZE = 65535;
/** IPv4 header (20) + UDP header (8) + TFTP DATA header (4). */
export const DATA_OVERHEAD_IPV4 = 32;

export interface NegotiationLimits {
  /** Largest blksize this transfer may use (the server's cap, already clamped to the path MTU). */
  maxBlksize: number;
  /** Largest windowsize the server grants. */
  maxWindowsize: number;
}

export interface Negotiated {
  blksize: number;
  windowsize: number;
  /** Retransmission timeout the client asked for, in seconds, if it did (and it was valid). */
  timeoutS: number | undefined;
  /** The OACK options, in request order; empty means: no OACK, start with DATA 1. */
  oack: RequestOption[];
}

const DECIMAL = /^[0-9]{1,10}$/;

/** Parses a strict decimal option value; undefined if it does not match ^[0-9]{1,10}$. */
export function parseOptionValue(value: string): number | undefined {
  return DECIMAL.test(value) ? Number(value) : undefined;
}

/** The largest blksize that fits one IPv4 datagram on a link with this MTU, within RFC 2348's range. */
export function blksizeForMtu(mtu: number): number {
  return Math.max(MIN_BLKSIZE, Math.min(MAX_BLKSIZE, Math.floor(mtu) - DATA_OVERHEAD_IPV4));
}

/** True when options[i]'s name comes again after it (the later one counts). */
function repeatedLater(options: readonly RequestOption[], i: number): boolean {
  const name = options[i]!.name;
  for (let j = i + 1; j < options.length; j++) if (options[j]!.name === name) return true;
  return false;
}

/**
 * Decides the transfer parameters and the OACK for an RRQ of a file of `fileSize` octets
 * (the size as sent: after netascii conversion).
 */
export function negotiate(options: readonly RequestOption[], mode: TransferMode, fileSize: number, limits: NegotiationLimits): Negotiated {
  const result: Negotiated = { blksize: DEFAULT_BLKSIZE, windowsize: 1, timeoutS: undefined, oack: [] };
  for (let i = 0; i < options.length; i++) {
    const { name, value } = options[i]!;
    if (repeatedLater(options, i)) continue;
    const n = parseOptionValue(value);
    if (n === undefined) continue;
    switch (name) {
      case 'blksize':
        if (n >= MIN_BLKSIZE && n <= MAX_BLKSIZE) {
          result.blksize = Math.max(MIN_BLKSIZE, Math.min(n, limits.maxBlksize));
          result.oack.push({ name, value: String(result.blksize) });
        }
        break;
      case 'timeout':
        if (n >= MIN_TIMEOUT_S && n <= MAX_TIMEOUT_S) {
          result.timeoutS = n;
          result.oack.push({ name, value: String(n) });
        }
        break;
      case 'tsize':
        // Netascii sizes depend on conversion the client may do differently: omit, like tftp-hpa.
        // An empty file gets no tsize either: curl rejects "tsize 0" in an OACK, and the empty
        // DATA 1 tells every client the size anyway.
        if (mode === 'octet' && fileSize > 0) result.oack.push({ name, value: String(fileSize) });
        break;
      case 'windowsize':
        if (n >= MIN_WINDOWSIZE && n <= MAX_WINDOWSIZE) {
          result.windowsize = Math.max(1, Math.min(n, limits.maxWindowsize));
          result.oack.push({ name, value: String(result.windowsize) });
        }
        break;
      default:
        break;
    }
  }
  return result;
}
