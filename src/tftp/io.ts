// The I/O strategies behind the TFTP sessions. A Transport makes each transfer's socket and its
// TransferIo (src/tftp/session.ts): the portable one is plain node:dgram (io-dgram.ts); the hot
// path (hot-path.ts) reads and writes the sockets through libc (udp-fast.ts) and waits for ACKs
// itself, with one HotLoop per round:
//   loop-epoll.ts   several transfers, one epoll set, JavaScript answers each ACK;
//   loop-lone.ts    one transfer, a blocking receive, with the compiled lock-step rounds of
//                   loop-lockstep.ts (native/tftp-fast.c) whenever the transfer allows them;
//   loop-many.ts    several transfers in the compiled many-transfer loop (io_uring batch sends).
import type { Socket } from 'node:dgram';
import type { TftpSession } from './session.ts';

export interface Transport {
  /** Which path runs lock-step transfers' ordinary rounds. */
  readonly lockstepPath: 'compiled' | 'javascript';
  /** How the compiled loop sends the blocks of ACKs that arrived together. */
  readonly batchSendPath: 'io_uring' | 'sendmsg';
  /** Transfers between their request and their first packet (the server counts them): the hot path keeps its slices short meanwhile. */
  opening: number;
  /** Transfer sockets out of the event loop's watch right now. */
  readonly unwatched: number;
  /**
   * Makes the transfer socket of a prepared session (s.io is set at once, so that ending the
   * session closes it) and binds it to its listener's address; the session's datagrams go to
   * s.onPacket and s.onStranger from then on.
   */
  open(s: TftpSession): Promise<void>;
  /** A listening socket of the server (the hot path watches it too, to yield to new requests). */
  listen(socket: Socket): void;
  /** Lets the hot path read its transfers' sockets now (after a start, a packet or a timer). */
  kick(): void;
  /** After every transfer ended: frees what the transport holds; no more kick() until listen(). */
  stop(): void;
}

// What one HotLoop.step() asks of the hot path next (low bits), with STEP_HIT when a wait was answered in time.
/** Go on with the next round. */
export const STEP_NEXT = 0;
/** A wait ended without an ACK: count a miss (the backoff), and return to the event loop. */
export const STEP_MISS = 1;
/** A poll without waiting (the backoff) found nothing on the first round: one fewer poll to come; return. */
export const STEP_POLLED = 2;
/** The slice is used up: return, and go on from setImmediate. */
export const STEP_YIELD = 3;
/** A request waits on a listening socket: return, and run no more slices until the event loop had its turn. */
export const STEP_HOLD = 4;
/** Return to the event loop. */
export const STEP_STOP = 5;
export const STEP_MASK = 7;
/** A wait was answered: the misses in a row start again from zero. */
export const STEP_HIT = 8;

/** One way the hot path waits for its transfers' datagrams and answers them. */
export interface HotLoop {
  /**
   * One round: waits up to `waitNs` (0: a poll) for datagrams of the hot transfers and handles
   * them, within the slice that began at `start` (milliseconds); `first`: the first round of
   * this drive. Returns a STEP_* code, maybe with STEP_HIT.
   */
  step(waitNs: number, first: boolean, start: number): number;
}
