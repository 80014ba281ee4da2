// Direct libc UDP calls (through koffi) for the transfer hot path. Node's dgram costs about 5 µs of
// CPU per received-and-answered datagram (a 64 KiB allocation, an rinfo object with a formatted
// address, async-hook bookkeeping and a SendWrap per send); in lock-step that is most of the round
// trip. These calls cost well under 1 µs each. docs/decisions/0009-tftp-hot-path.md has the numbers.
//
// Sockets made here are handed to node:dgram with bind({ fd }): dgram owns and closes them and
// still delivers whatever arrives while the server is not reading them itself.
import koffi from 'koffi';

const AF_INET = 2;
const SOCK_DGRAM = 2;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const IPPROTO_UDP = 17;
const MSG_DONTWAIT = 0x40;
/** pollfd.events bit for "readable". */
export const POLLIN = 1;
/** Size of one struct pollfd (int fd; short events; short revents). */
export const POLLFD_BYTES = 8;
/** Size of struct sockaddr_in. */
export const SOCKADDR_BYTES = 16;

export interface FastUdp {
  /** A non-blocking UDP socket bound to address:0 (IPv4 dotted quad); returns its descriptor, or -1. */
  openBound(address: string): number;
  /** sendto(fd, buf[0..len), to); the octets sent, or -1 (EAGAIN and the like: the datagram is lost, the timer resends). */
  sendTo(fd: number, buf: Buffer, len: number, to: Buffer): number;
  /** recvfrom without blocking into buf; the source lands in `from` (16 octets). Octets read, or -1 when nothing is queued. */
  recvFrom(fd: number, buf: Buffer, from: Buffer): number;
  /** ppoll over `n` pollfd entries in `fds`, waiting at most `timeoutNs`. Ready entries, 0 on timeout, -1 on error. */
  poll(fds: Buffer, n: number, timeoutNs: number): number;
}

let loaded: FastUdp | null | undefined;

/** The libc bindings, or undefined when koffi or libc cannot be loaded (the server then uses dgram only). */
export function loadFastUdp(): FastUdp | undefined {
  if (loaded !== undefined) return loaded ?? undefined;
  try {
    const lib = koffi.load('libc.so.6');
    const socket = lib.func('int socket(int domain, int type, int protocol)');
    const bind = lib.func('int bind(int fd, const void *addr, uint32_t len)');
    const close = lib.func('int close(int fd)');
    const sendto = lib.func('long sendto(int fd, const void *buf, size_t len, int flags, const void *to, uint32_t tolen)');
    const recvfrom = lib.func('long recvfrom(int fd, void *buf, size_t len, int flags, void *from, void *fromlen)');
    const ppoll = lib.func('int ppoll(void *fds, unsigned long n, const void *ts, const void *sigmask)');
    const fromLen = Buffer.alloc(4);
    const ts = Buffer.alloc(16);
    loaded = {
      openBound(address: string): number {
        const addr = sockaddrIn(address, 0);
        if (addr === undefined) return -1;
        const fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP) as number;
        if (fd < 0) return -1;
        if ((bind(fd, addr, SOCKADDR_BYTES) as number) !== 0) {
          close(fd);
          return -1;
        }
        return fd;
      },
      sendTo(fd: number, buf: Buffer, len: number, to: Buffer): number {
        return Number(sendto(fd, buf, len, MSG_DONTWAIT, to, SOCKADDR_BYTES));
      },
      recvFrom(fd: number, buf: Buffer, from: Buffer): number {
        fromLen.writeUInt32LE(SOCKADDR_BYTES, 0);
        return Number(recvfrom(fd, buf, buf.length, MSG_DONTWAIT, from, fromLen));
      },
      poll(fds: Buffer, n: number, timeoutNs: number): number {
        ts.writeUInt32LE(Math.floor(timeoutNs / 1e9), 0);
        ts.writeUInt32LE(timeoutNs % 1e9, 8);
        return ppoll(fds, n, ts, null) as number;
      },
    };
  } catch {
    loaded = null;
  }
  return loaded ?? undefined;
}

/** struct sockaddr_in for an IPv4 dotted quad and port; undefined for anything else. */
export function sockaddrIn(address: string, port: number): Buffer | undefined {
  const parts = address.split('.');
  if (parts.length !== 4) return undefined;
  const b = Buffer.alloc(SOCKADDR_BYTES);
  b.writeUInt16LE(AF_INET, 0);
  b.writeUInt16BE(port, 2);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return undefined;
    b[4 + i] = Number(p);
  }
  return b;
}

/** The dotted quad and port held in a struct sockaddr_in. */
export function fromSockaddr(b: Buffer): { address: string; port: number } {
  return { address: `${b[4]}.${b[5]}.${b[6]}.${b[7]}`, port: b.readUInt16BE(2) };
}

/** True when two sockaddr_in name the same IPv4 address and port. */
export function sameSockaddr(a: Buffer, b: Buffer): boolean {
  return a.readUInt32LE(0) === b.readUInt32LE(0) && a.readUInt32LE(4) === b.readUInt32LE(4);
}
