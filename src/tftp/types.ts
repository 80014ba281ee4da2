// What the TFTP server's parts share: its limits, its counters, and what it asks of the resolver.
import type { Socket } from 'node:dgram';
import type { OpenFile } from '../files/resolver.ts';

export interface TftpLimits {
  /** Concurrent transfers in this process. */
  maxSessions: number;
  /** Concurrent transfers per client IP address. */
  maxSessionsPerIp: number;
  /** Retransmissions without progress before a transfer is given up. */
  maxRetries: number;
  /** First retransmission timeout when the client does not send the timeout option. */
  timeoutMs: number;
  /** Floor of the adaptive retransmission timeout. */
  minTimeoutMs: number;
  /** A transfer with no valid packet from its client for this long is freed. */
  idleTimeoutMs: number;
  /** Server cap for blksize (further clamped to the interface MTU). */
  maxBlksize: number;
  /** Server cap for windowsize. */
  maxWindowsize: number;
  /** Until the client first ACKs, bytes sent to it stay ≤ this × bytes received from it (retransmissions stop). */
  amplificationFactor: number;
  /** Largest file served in netascii mode (converted in memory). */
  netasciiMaxBytes: number;
  /** ERROR 5 replies sent to strangers per transfer. */
  maxStrangerReplies: number;
}

export const DEFAULT_TFTP_LIMITS: TftpLimits = {
  maxSessions: 4000,
  maxSessionsPerIp: 32,
  maxRetries: 5,
  timeoutMs: 1000,
  minTimeoutMs: 50,
  idleTimeoutMs: 30_000,
  maxBlksize: 65464,
  maxWindowsize: 64,
  amplificationFactor: 30,
  netasciiMaxBytes: 16 * 1024 * 1024,
  maxStrangerReplies: 8,
};

export interface TftpMetrics {
  requests: number;
  started: number;
  finished: number;
  failed: number;
  refused: number;
  active: number;
  bytesSent: number;
  /** Datagrams sent (a GSO send of n segments counts n). */
  packetsSent: number;
  /** Sends that carried several DATA datagrams at once (UDP GSO). */
  gsoSends: number;
  /** Lock-step rounds run in the compiled loop (each: an ACK in, the next DATA out). */
  nativeRounds: number;
  /** Times a hot transfer socket was taken out of the event loop's watch while the hot path kept the thread busy (see HotPath.updateWatch()). */
  watchPauses: number;
  /** Transfer sockets out of the event loop's watch right now (0 whenever the hot path is idle). */
  unwatched: number;
  /** Hot-path waits for an ACK that ended without one (src/tftp/hot-path.ts). */
  waitMisses: number;
  /** Times the hot path polled instead of waiting, backing off after misses in a row, and found nothing. */
  skippedWaits: number;
  /** Transfers whose GSO send failed (no checksum offload, segment above the MTU): they went on one datagram per send. */
  gsoFallbacks: number;
  retransmits: number;
  duplicateAcks: number;
  futureAcks: number;
  strangerPackets: number;
  deduplicatedRequests: number;
  /** Transfers the client ended with ERROR 8 after the OACK (EDK2's size probe). */
  optionsDeclined: number;
  /** Packets dropped or refused, by reason. */
  drops: Record<string, number>;
}

export function newMetrics(): TftpMetrics {
  return {
    requests: 0,
    started: 0,
    finished: 0,
    failed: 0,
    refused: 0,
    active: 0,
    bytesSent: 0,
    packetsSent: 0,
    gsoSends: 0,
    nativeRounds: 0,
    watchPauses: 0,
    unwatched: 0,
    waitMisses: 0,
    skippedWaits: 0,
    gsoFallbacks: 0,
    retransmits: 0,
    duplicateAcks: 0,
    futureAcks: 0,
    strangerPackets: 0,
    deduplicatedRequests: 0,
    optionsDeclined: 0,
    drops: {},
  };
}

/** What the server needs from the file resolver (FileResolver implements it). */
export interface FileOpener {
  open(name: string): Promise<OpenFile>;
}

/** A socket requests arrive on (bound by the server, or handed in). */
export interface Listener {
  socket: Socket;
  address: string;
  owned: boolean;
}

/** Source ports of well-known UDP services: never answered (loop/reflection risk). */
export const SERVICE_PORTS = new Set([0, 7, 13, 17, 19, 37, 53, 67, 68, 69, 111, 123, 137, 138, 161, 162, 500, 514, 520, 1900, 4011, 5353]);

/** dgram lookup for IP literals (all this server sends to): answers at once, where the default goes through dns.lookup and a nextTick per send. */
export function literalLookup(address: string, _opts: unknown, cb: (err: Error | null, address: string, family: number) => void): void {
  cb(null, address, 4);
}
