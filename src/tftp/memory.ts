// Layout of the hot path's raw memory (outside the V8 heap: libc and the compiled loops get its
// addresses). The compiled loops' own control blocks and slots are laid out in native.ts.
import { EPOLL_EVENT_BYTES, IOVEC_BYTES, SOCKADDR_BYTES } from '../net/libc.ts';
import { GSO_MAX_SEGMENTS } from './udp-fast.ts';
import type { RawBuffer } from './udp-fast.ts';

// The receive area (`mem`): receive buffer, source sockaddr_in, its length word (16), the
// destination sockaddr_in of the next send, and epoll events.
export const RECV_BYTES = 65536;
export const MEM_FROM = RECV_BYTES;
export const MEM_FROMLEN = MEM_FROM + SOCKADDR_BYTES;
export const MEM_TO = MEM_FROMLEN + 16;
export const MEM_EVENTS = MEM_TO + SOCKADDR_BYTES;
export const MAX_EVENTS = 256;
export const MEM_BYTES = MEM_EVENTS + MAX_EVENTS * EPOLL_EVENT_BYTES;

// The send area (`sbuf`): a struct msghdr (name → SB_TO; iov and iovlen set per send), the
// destination, DATA headers, the OACK, and iovecs: two per segment (header, payload), the header
// ones preset, and one for the OACK. The kernel copies during sendmsg, so one serves all transfers.
export const SB_MSG = 0;
export const SB_TO = 64;
export const SB_HDR = SB_TO + SOCKADDR_BYTES;
export const SB_OACK = SB_HDR + 4 * GSO_MAX_SEGMENTS;
export const SB_OACK_BYTES = 1024;
export const SB_IOV = SB_OACK + SB_OACK_BYTES;
export const SB_IOV_OACK = SB_IOV + 2 * GSO_MAX_SEGMENTS * IOVEC_BYTES;
export const SEND_BYTES = SB_IOV_OACK + IOVEC_BYTES;

/** The constant parts of the send area: msghdr name and namelen, header iovecs, the OACK iovec's base. */
export function presetSendArea(sb: RawBuffer): void {
  const w = sb.u32;
  const put64 = (off: number, v: number): void => {
    w[off >>> 2] = v >>> 0;
    w[(off >>> 2) + 1] = (v / 4294967296) >>> 0;
  };
  put64(SB_MSG, sb.addr + SB_TO);
  w[(SB_MSG + 8) >>> 2] = SOCKADDR_BYTES;
  for (let i = 0; i < GSO_MAX_SEGMENTS; i++) {
    put64(SB_IOV + 2 * IOVEC_BYTES * i, sb.addr + SB_HDR + 4 * i);
    w[(SB_IOV + 2 * IOVEC_BYTES * i + 8) >>> 2] = 4;
  }
  put64(SB_IOV_OACK, sb.addr + SB_OACK);
}

/** A non-negative int64 (below 2^53) at `offset`, little-endian, without a BigInt. */
export function writeNs(view: DataView, offset: number, ns: number): void {
  view.setUint32(offset, ns % 4294967296, true);
  view.setUint32(offset + 4, Math.floor(ns / 4294967296), true);
}
