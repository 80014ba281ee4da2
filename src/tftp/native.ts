// The compiled lock-step loop (native/tftp-fast.c, built by `npm ci` with the machine's C compiler:
// scripts/build-native.sh). Optional: without it the hot path makes its two libc calls per round
// through koffi (udp-fast.ts). docs/decisions/0013-native-lockstep-loop.md.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** Where `npm ci` puts the compiled module. */
export const NATIVE_MODULE_PATH = fileURLToPath(new URL('../../build/tftp-fast.node', import.meta.url));

/** Byte offsets in the control block (struct ls_ctl in native/tftp-fast.c). */
export const CTL_FD = 0;
export const CTL_PEER0 = 4;
export const CTL_PEER1 = 8;
export const CTL_BLKSIZE = 12;
export const CTL_BASE = 16;
export const CTL_END = 24;
export const CTL_BASE_BLOCK = 32;
export const CTL_AVAIL_LAST = 36;
export const CTL_TOTAL = 40;
export const CTL_CUR = 44;
export const CTL_RBUF = 48;
export const CTL_RCAP = 56;
export const CTL_FROM = 64;
export const CTL_SLICE_NS = 72;
export const CTL_WAIT_NS = 80;
export const CTL_ROUNDS = 88;
export const CTL_LEN = 92;
export const CTL_ERR = 96;
export const CTL_BYTES_OUT = 104;
export const CTL_BYTES_IN = 112;
export const CTL_LAST_RTT_NS = 120;
export const CTL_BYTES = 128;
/** The module's `abi` export this code was written for (raised with any change of the layout or codes). */
const ABI = 5;

/** Byte offsets in a slot of the many-transfer loop (struct ms_slot). */
export const SLOT_FD = 0;
export const SLOT_PEER0 = 4;
export const SLOT_PEER1 = 8;
export const SLOT_BLKSIZE = 12;
export const SLOT_BASE = 16;
export const SLOT_END = 24;
export const SLOT_BASE_BLOCK = 32;
export const SLOT_AVAIL_LAST = 36;
export const SLOT_TOTAL = 40;
export const SLOT_CUR = 44;
export const SLOT_ARMED = 48;
export const SLOT_ROUNDS = 52;
export const SLOT_BYTES_IN = 56;
export const SLOT_BYTES_OUT = 60;
export const SLOT_SENT_NS = 64;
export const SLOT_RTT_NS = 72;
export const SLOT_BYTES = 80;

/** Byte offsets in the many-transfer loop's control block (struct mp_ctl). */
export const MP_EPFD = 0;
export const MP_NSLOTS = 4;
export const MP_SLOTS = 8;
export const MP_EVENTS = 16;
export const MP_MAX_EVENTS = 24;
export const MP_RCAP = 28;
export const MP_RBUF = 32;
export const MP_FROM = 40;
export const MP_WAIT_NS = 48;
export const MP_SLICE_NS = 56;
export const MP_SLOT = 64;
export const MP_LEN = 68;
export const MP_ROUNDS = 72;
export const MP_ERR = 76;
export const MP_BYTES_OUT = 80;
export const MP_WAITS = 88;
export const MP_FLAGS = 92;
export const MP_CTL_BYTES = 96;
/** MP_FLAGS: send each epoll batch's next blocks with one io_uring_enter (where the thread has a ring: batchRing()). */
export const MP_F_URING = 1;
/** The most events one many() call may ask epoll for (MANY_MAX_EVENTS in the C code: more is refused as MP_BAD). */
export const MANY_MAX_EVENTS = 256;

/** How a many() call ended. */
export const MP_PACKET = 0; // a datagram it did not handle, of the slot at MP_SLOT, is in the receive buffer
export const MP_EMPTY = 1; // the slot at MP_SLOT was readable but had nothing to read
export const MP_IDLE = 2; // an epoll wait returned nothing
export const MP_YIELD = 3; // the time slice is used up
export const MP_ERROR = 4; // epoll_wait failed (errno at MP_ERR)
export const MP_BAD = 5; // the control block is inconsistent: nothing was done
export const MP_LISTEN = 6; // a listening socket in the set is readable (a new request is waiting)
/** The epoll data that marks a listening socket in the set. */
export const LISTEN_MARK = 0xffffffff;

/** How a lockstep() call ended. */
export const LS_PACKET = 0; // a datagram it did not handle is in the receive buffer (length at CTL_LEN)
export const LS_SLOW = 1; // the same, and it came later than the wait allows (a miss for the backoff)
export const LS_MISS = 2; // the receive timed out or failed (errno at CTL_ERR)
export const LS_YIELD = 3; // the time slice is used up
export const LS_BAD = 4; // the control block is inconsistent: nothing was done

export interface NativeLoop {
  /** Runs lock-step rounds on the control block at `ctl` (8-aligned); one of LS_*. */
  lockstep(ctl: number): number;
  /** Runs the many-transfer loop on the control block at `ctl` (8-aligned); one of MP_*. */
  many(ctl: number): number;
  /**
   * True when the calling thread has an io_uring for many()'s batch sends (made on the first
   * call); false where the kernel (before 5.11) or its settings (kernel.io_uring_disabled, a
   * seccomp filter) do not allow one. Absent: never.
   */
  batchRing?(): boolean;
}

let loaded: NativeLoop | null | undefined;
let loadError: string | undefined;

/** The compiled loop, or undefined when it was not built (or does not load). */
export function loadNativeLoop(): NativeLoop | undefined {
  if (loaded !== undefined) return loaded ?? undefined;
  try {
    const mod = createRequire(import.meta.url)(NATIVE_MODULE_PATH) as { lockstep?: unknown; many?: unknown; batchRing?: unknown; ctlBytes?: unknown; abi?: unknown };
    if (typeof mod.lockstep !== 'function' || typeof mod.many !== 'function' || typeof mod.batchRing !== 'function' || mod.ctlBytes !== CTL_BYTES || mod.abi !== ABI) throw new Error(`${NATIVE_MODULE_PATH} is not this version's module (rebuild: npm run build:native)`);
    loaded = { lockstep: mod.lockstep as (ctl: number) => number, many: mod.many as (ctl: number) => number, batchRing: mod.batchRing as () => boolean };
  } catch (err) {
    loadError = (err as Error).message;
    loaded = null;
  }
  return loaded ?? undefined;
}

/** Why loadNativeLoop() returned undefined (for the startup log line). */
export function nativeLoopError(): string | undefined {
  loadNativeLoop();
  return loadError;
}
