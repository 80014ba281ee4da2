// The one libc binding (koffi): the Linux constants and the calls both the interface sockets
// (socket.ts) and the TFTP hot path (src/tftp/udp-fast.ts) make. Anything more specialised binds
// its own functions on `lib`, the one loaded libc.
import koffi from 'koffi';
import type { LibraryHandle } from 'koffi';

// Linux constants (the same on every architecture Node supports on Linux).
export const AF_INET = 2;
export const SOCK_DGRAM = 2;
export const SOCK_NONBLOCK = 0o4000;
export const SOCK_CLOEXEC = 0o2000000;
export const IPPROTO_UDP = 17;
export const SOL_SOCKET = 1;
export const SO_REUSEADDR = 2;
export const SO_BROADCAST = 6;
export const SO_RCVBUF = 8;
export const SO_RCVTIMEO = 20;
export const SO_BINDTODEVICE = 25;
export const SO_RCVBUFFORCE = 33;
export const SOL_UDP = 17;
export const UDP_SEGMENT = 103;
export const MSG_DONTWAIT = 0x40;
export const F_GETFL = 3;
export const F_SETFL = 4;
export const O_NONBLOCK = 0o4000;
export const EPOLL_CLOEXEC = 0o2000000;
export const EPOLLIN = 1;
export const EPOLL_CTL_ADD = 1;
export const EPOLL_CTL_DEL = 2;
export const IFNAMSIZ = 16;
export const EINTR = 4;
export const EIO = 5;
export const EAGAIN = 11;
export const EINVAL = 22;
/** Size of struct sockaddr_in. */
export const SOCKADDR_BYTES = 16;
/** Size of struct iovec on x86-64 (base, len). */
export const IOVEC_BYTES = 16;
/** Size of one struct epoll_event on x86-64 (packed: uint32 events, uint64 data). */
export const EPOLL_EVENT_BYTES = 12;

export interface Libc {
  /** The loaded libc.so.6, for callers that bind more functions on it. */
  lib: LibraryHandle;
  socket: (domain: number, type: number, protocol: number) => number;
  setsockopt: (fd: number, level: number, name: number, value: Buffer, len: number) => number;
  bind: (fd: number, addr: Buffer, len: number) => number;
  close: (fd: number) => number;
  /** errno of the last failed call on this thread. */
  errno: () => number;
  /** The symbolic name of an errno value (ENODEV, EADDRINUSE, ...). */
  errnoName: (n: number) => string;
}

let libc: Libc | undefined;

/** libc and its common calls, loaded once. Throws when koffi or libc.so.6 cannot be loaded. */
export function loadLibc(): Libc {
  if (libc !== undefined) return libc;
  const lib = koffi.load('libc.so.6');
  const names = new Map<number, string>();
  for (const [name, n] of Object.entries(koffi.os.errno)) if (!names.has(n)) names.set(n, name);
  libc = {
    lib,
    socket: lib.func('int socket(int domain, int type, int protocol)'),
    setsockopt: lib.func('int setsockopt(int fd, int level, int name, const void *value, uint32_t len)'),
    bind: lib.func('int bind(int fd, const void *addr, uint32_t len)'),
    close: lib.func('int close(int fd)'),
    errno: () => koffi.errno(),
    errnoName: (n) => names.get(n) ?? `errno ${n}`,
  };
  return libc;
}

/** struct sockaddr_in for an IPv4 address (a 32-bit number) and port. */
export function sockaddrInBytes(ip: number, port: number): Buffer {
  const b = Buffer.alloc(SOCKADDR_BYTES); // family (host order), port (network order), address, zero padding
  b.writeUInt16LE(AF_INET, 0);
  b.writeUInt16BE(port, 2);
  b.writeUInt32BE(ip >>> 0, 4);
  return b;
}
