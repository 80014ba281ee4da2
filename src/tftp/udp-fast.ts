// Direct libc UDP calls (through koffi) for the transfer hot path. Node's dgram costs about 5 µs of
// CPU per received-and-answered datagram (a 64 KiB allocation, an rinfo object with a formatted
// address, async-hook bookkeeping and a SendWrap per send); in lock-step that is most of the round
// trip. docs/decisions/0009-tftp-hot-path.md and 0011-tftp-gso-and-blocking-wait.md have the numbers.
//
// The calls take raw addresses (intptr_t, passed as a Number) into memory from alloc(), never
// Buffers: koffi's Buffer argument path (napi_get_buffer_info and friends) costs ~150 ns per
// argument, and an ArrayBuffer's backing store never moves. Returns are `int`, not `long`.
//
// Sockets made here are handed to node:dgram with bind({ fd }): dgram owns and closes them and
// still delivers whatever arrives while the server is not reading them itself.
import koffi from 'koffi';
import {
  AF_INET,
  EPOLL_CLOEXEC,
  EPOLL_CTL_ADD,
  EPOLL_CTL_DEL,
  EPOLLIN,
  F_GETFL,
  F_SETFL,
  IPPROTO_UDP,
  loadLibc,
  MSG_DONTWAIT,
  O_NONBLOCK,
  SO_RCVTIMEO,
  SOCK_CLOEXEC,
  SOCK_DGRAM,
  SOCK_NONBLOCK,
  SOCKADDR_BYTES,
  sockaddrInBytes,
  SOL_SOCKET,
  SOL_UDP,
  UDP_SEGMENT,
} from '../net/libc.ts';
import { ipToU32 } from '../util/ipv4.ts';

/** Most datagrams one UDP_SEGMENT send may carry (UDP_MAX_SEGMENTS in older kernels; newer allow 128). */
export const GSO_MAX_SEGMENTS = 64;
/** Most payload octets one UDP send may carry (65,535 − IP and UDP headers). */
export const GSO_MAX_BYTES = 65507;

/** Memory outside the V8 heap (it never moves) and its address, for the raw calls. */
export interface RawBuffer {
  buf: Buffer;
  u32: Uint32Array;
  addr: number;
}

export interface FastUdp {
  /** A non-blocking UDP socket bound to address:0 (IPv4 dotted quad); returns its descriptor, or -1. */
  openBound(address: string): number;
  /** Fresh zeroed memory of `size` octets (a multiple of 4) and its address. */
  alloc(size: number): RawBuffer;
  /** setsockopt(UDP_SEGMENT): a send of several `segsize`-octet segments leaves as that many datagrams (0: off). */
  setSegment(fd: number, segsize: number): boolean;
  /** The address of a Buffer's bytes (an off-heap ArrayBuffer's never move; keep the Buffer referenced while it is used). */
  addressOf(buf: Buffer): number;
  /** sendmsg(fd, struct msghdr at `msg`) without blocking; the octets sent, or -1 (see errno()). */
  sendMsg(fd: number, msg: number): number;
  /** sendto(fd, [buf, buf+len), sockaddr_in at `to`); the octets sent, or -1 (see errno()). */
  sendTo(fd: number, buf: number, len: number, to: number): number;
  /** recvfrom without blocking into [buf, buf+cap); the source lands at `from`, whose length word `fromLen` must hold 16. Octets read, or -1 when nothing is queued. */
  recvFrom(fd: number, buf: number, cap: number, from: number, fromLen: number): number;
  /**
   * recvfrom that blocks (at most the socket's receive timeout) when the socket is in blocking
   * mode; the same as recvFrom otherwise.
   */
  recvWait(fd: number, buf: number, cap: number, from: number, fromLen: number): number;
  /** Clears (true) or sets (false) O_NONBLOCK on the descriptor's open file. */
  setBlocking(fd: number, blocking: boolean): boolean;
  /** SO_RCVTIMEO: how long a blocking receive waits. */
  setRecvTimeout(fd: number, us: number): boolean;
  /** errno of the last failed call on this thread. */
  errno(): number;
  /** A new epoll descriptor, or -1. */
  epollCreate(): number;
  /** Adds (add true) or removes `fd` from the epoll set, watching readability; the event's data is `data` (default: fd). */
  epollCtl(epfd: number, add: boolean, fd: number, data?: number): boolean;
  /** Waits at most `timeoutNs` for ready descriptors; writes up to `max` epoll_events at `events`. Ready count, 0 on timeout, -1 on error. */
  epollWait(epfd: number, events: number, max: number, timeoutNs: number): number;
  close(fd: number): void;
}

let loaded: FastUdp | null | undefined;

/**
 * A struct timeval or timespec (two 64-bit fields, seconds then the fraction) at 32-bit word
 * `word` of `u32`, from `value` counted in 1/`perSecond` seconds.
 */
function writeTime(u32: Uint32Array, word: number, value: number, perSecond: number): void {
  u32[word] = Math.floor(value / perSecond);
  u32[word + 1] = 0;
  u32[word + 2] = value % perSecond;
  u32[word + 3] = 0;
}

function rawAlloc(size: number): RawBuffer {
  const ab = new ArrayBuffer(size);
  const buf = Buffer.from(ab);
  return { buf, u32: new Uint32Array(ab, 0, size >>> 2), addr: Number(koffi.address(buf)) };
}

/** The libc bindings, or undefined when koffi or libc cannot be loaded (the server then uses dgram only). */
export function loadFastUdp(): FastUdp | undefined {
  if (loaded !== undefined) return loaded ?? undefined;
  try {
    const { lib, socket, bind, close, setsockopt } = loadLibc();
    // size_t/ssize_t as int: koffi sign-extends an int argument to the full register, and every
    // length here is below 2^31; an int return reads the low half of the ssize_t.
    const sendto = lib.func('int sendto(int fd, intptr_t buf, int len, int flags, intptr_t to, int tolen)');
    const sendmsg = lib.func('int sendmsg(int fd, intptr_t msg, int flags)');
    const recvfrom = lib.func('int recvfrom(int fd, intptr_t buf, int len, int flags, intptr_t from, intptr_t fromlen)');
    const fcntl = lib.func('int fcntl(int fd, int cmd, ...)');
    const epollCreate1 = lib.func('int epoll_create1(int flags)');
    const epollCtl = lib.func('int epoll_ctl(int epfd, int op, int fd, intptr_t event)');
    const epollWait = lib.func('int epoll_wait(int epfd, intptr_t events, int max, int timeout)');
    let epollPwait2: ((...a: unknown[]) => unknown) | undefined;
    try {
      epollPwait2 = lib.func('int epoll_pwait2(int epfd, intptr_t events, int max, intptr_t timeout, intptr_t sigmask)') as (...a: unknown[]) => unknown;
    } catch {
      epollPwait2 = undefined; // glibc < 2.35: millisecond waits
    }
    const scratch = rawAlloc(48); // [0,4) setsockopt value, [4,16) epoll_event, [16,32) timespec, [32,48) timeval
    const optInt = scratch.buf.subarray(0, 4);
    const optTimeval = scratch.buf.subarray(32, 48);
    loaded = {
      openBound(address: string): number {
        const addr = sockaddrIn(address, 0);
        if (addr === undefined) return -1;
        const fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
        if (fd < 0) return -1;
        if (bind(fd, addr, SOCKADDR_BYTES) !== 0) {
          close(fd);
          return -1;
        }
        return fd;
      },
      alloc: rawAlloc,
      addressOf(buf: Buffer): number {
        return Number(koffi.address(buf));
      },
      sendMsg(fd: number, msg: number): number {
        return sendmsg(fd, msg, MSG_DONTWAIT) as number;
      },
      setSegment(fd: number, segsize: number): boolean {
        scratch.u32[0] = segsize;
        return setsockopt(fd, SOL_UDP, UDP_SEGMENT, optInt, 4) === 0;
      },
      sendTo(fd: number, buf: number, len: number, to: number): number {
        return sendto(fd, buf, len, MSG_DONTWAIT, to, SOCKADDR_BYTES) as number;
      },
      recvFrom(fd: number, buf: number, cap: number, from: number, fromLen: number): number {
        return recvfrom(fd, buf, cap, MSG_DONTWAIT, from, fromLen) as number;
      },
      recvWait(fd: number, buf: number, cap: number, from: number, fromLen: number): number {
        return recvfrom(fd, buf, cap, 0, from, fromLen) as number;
      },
      setBlocking(fd: number, blocking: boolean): boolean {
        const fl = fcntl(fd, F_GETFL) as number;
        if (fl < 0) return false;
        return (fcntl(fd, F_SETFL, 'int', blocking ? fl & ~O_NONBLOCK : fl | O_NONBLOCK) as number) === 0;
      },
      setRecvTimeout(fd: number, us: number): boolean {
        writeTime(scratch.u32, 8, us, 1e6); // struct timeval
        return setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, optTimeval, 16) === 0;
      },
      errno(): number {
        return koffi.errno();
      },
      epollCreate(): number {
        return epollCreate1(EPOLL_CLOEXEC) as number;
      },
      epollCtl(epfd: number, add: boolean, fd: number, data = fd): boolean {
        scratch.u32[1] = EPOLLIN;
        scratch.u32[2] = data;
        scratch.u32[3] = 0;
        return (epollCtl(epfd, add ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, fd, scratch.addr + 4) as number) === 0;
      },
      epollWait(epfd: number, events: number, max: number, timeoutNs: number): number {
        if (timeoutNs <= 0) return epollWait(epfd, events, max, 0) as number;
        if (epollPwait2 === undefined) return epollWait(epfd, events, max, Math.ceil(timeoutNs / 1e6)) as number;
        writeTime(scratch.u32, 4, timeoutNs, 1e9); // struct timespec
        return epollPwait2(epfd, events, max, scratch.addr + 16, 0) as number;
      },
      close(fd: number): void {
        close(fd);
      },
    };
  } catch {
    loaded = null;
  }
  return loaded ?? undefined;
}

/** struct sockaddr_in for an IPv4 dotted quad and port; undefined for anything else. */
export function sockaddrIn(address: string, port: number): Buffer | undefined {
  const ip = ipToU32(address);
  if (ip === undefined) return undefined;
  return sockaddrInBytes(ip, port);
}

/** The dotted quad and port held in a struct sockaddr_in. */
export function fromSockaddr(b: Buffer): { address: string; port: number } {
  return { address: `${b[4]}.${b[5]}.${b[6]}.${b[7]}`, port: b.readUInt16BE(2) };
}

/** True when two sockaddr_in name the same IPv4 address and port. */
export function sameSockaddr(a: Buffer, b: Buffer): boolean {
  return a.readUInt32LE(0) === b.readUInt32LE(0) && a.readUInt32LE(4) === b.readUInt32LE(4);
}

/**
 * The two 32-bit words (little-endian, as a Uint32Array over the struct reads them) that identify
 * a sockaddr_in: family and port, then the address. Comparing a received source against these two
 * numbers is the hot path's peer check.
 */
export function sockaddrWords(b: Buffer): [number, number] {
  return [b.readUInt32LE(0), b.readUInt32LE(4)];
}

/**
 * The descriptor of a bound node:dgram socket, or -1. Node has no public API for it: this reads
 * the socket's internal handle (its `fd`), and returns -1 if that ever changes
 * (test/integration/tftp/native.test.ts fails then, so it does not go unnoticed).
 */
export function dgramFd(socket: object): number {
  const fd = dgramHandle(socket)?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : -1;
}

/**
 * libuv's watch over a bound node:dgram socket: `stop()` makes the event loop stop reading it
 * (datagrams then wait in the socket for whoever reads it directly), `start()` makes it read it
 * again. Node has no public API for this either: these are the internal handle's `recvStop` and
 * `recvStart`, the calls dgram itself makes when a socket starts listening and when it closes
 * (both are idempotent). Undefined when they are missing; the caller then leaves libuv watching
 * (test/integration/tftp/native.test.ts fails first).
 */
export interface DgramWatch {
  stop(): void;
  start(): void;
}

export function dgramWatch(socket: object): DgramWatch | undefined {
  const h = dgramHandle(socket);
  if (h === undefined || typeof h.recvStop !== 'function' || typeof h.recvStart !== 'function') return undefined;
  const recvStop = h.recvStop as (this: unknown) => number;
  const recvStart = h.recvStart as (this: unknown) => number;
  return {
    stop: () => void recvStop.call(h),
    start: () => void recvStart.call(h),
  };
}

/** A bound node:dgram socket's internal handle (a UDPWrap with an `fd`), found among its symbol-keyed state. */
function dgramHandle(socket: object): Record<string, unknown> | undefined {
  for (const sym of Object.getOwnPropertySymbols(socket)) {
    const state = (socket as Record<symbol, unknown>)[sym] as { handle?: Record<string, unknown> } | undefined;
    const h = state?.handle;
    if (h !== undefined && h !== null && typeof h === 'object' && typeof h.fd === 'number' && h.fd >= 0) return h;
  }
  return undefined;
}
