// UDP sockets bound to one network interface (SO_BINDTODEVICE), created through libc with koffi and
// handed to node:dgram with bind({ fd }). Node's dgram cannot bind to a device: a socket bound to
// 0.0.0.0 receives every link's broadcasts and, in a namespace without a default route, cannot even
// send to 255.255.255.255 (ENETUNREACH). A device-bound socket receives only its link's traffic and
// sends broadcasts out of that link, with that link's source address.
import dgram from 'node:dgram';
import { NetError, PERMISSION_HINT } from './errors.ts';
import { AF_INET, IFNAMSIZ, IPPROTO_UDP, loadLibc, SO_BINDTODEVICE, SO_BROADCAST, SO_RCVBUF, SO_RCVBUFFORCE, SO_REUSEADDR, SOCK_CLOEXEC, SOCK_DGRAM, sockaddrInBytes, SOL_SOCKET } from './libc.ts';
import type { Libc } from './libc.ts';

export interface InterfaceSocketOptions {
  /** Interface name, as in `ip link` (eth0, enp1s0, br-pxe). */
  interface: string;
  /** Local UDP port (67, 4011, ...). 0 picks an ephemeral port. */
  port: number;
  /** Allow sending to 255.255.255.255 (SO_BROADCAST). Default true. */
  broadcast?: boolean;
  /**
   * SO_REUSEADDR. Default false: a UDP port shared through SO_REUSEADDR splits unicast traffic with
   * whoever else holds it, so bootherd refuses to share and reports BH_NET_IN_USE instead
   * (docs/decisions/0010-interface-sockets.md).
   */
  reuseAddress?: boolean;
  /** Kernel receive buffer in bytes (SO_RCVBUFFORCE when permitted, else SO_RCVBUF). */
  receiveBufferBytes?: number;
}

function intOpt(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32LE(v, 0);
  return b;
}

export function validInterfaceName(name: string): boolean {
  // Linux: at most IFNAMSIZ-1 octets, no '/', no whitespace, not '.' or '..'.
  return name.length > 0 && Buffer.byteLength(name) < IFNAMSIZ && !/[/\s:]/.test(name) && name !== '.' && name !== '..';
}

function failure(lc: Libc, what: string, iface: string, port: number): NetError {
  const errno = lc.errnoName(lc.errno());
  const where = `${iface}:${port}`;
  switch (errno) {
    case 'ENODEV':
      return new NetError('BH_NET_NO_INTERFACE', `interface ${iface} does not exist`, 'check the interface name with `ip link`; it must exist before bootherd starts', errno);
    case 'EPERM':
    case 'EACCES':
      return new NetError('BH_NET_PERMISSION', `not allowed to ${what} for UDP ${where}`, PERMISSION_HINT, errno);
    case 'EADDRINUSE':
      return new NetError(
        'BH_NET_IN_USE',
        `UDP port ${port} on ${iface} is already in use (another DHCP server such as dnsmasq, Kea or isc-dhcp-server, or a second bootherd)`,
        'stop the other server on this interface, or use proxy mode on a different interface',
        errno,
      );
    default:
      return new NetError('BH_NET_SOCKET', `could not ${what} for UDP ${where}: ${errno}`, 'check the interface and the system limits (ulimit -n)', errno);
  }
}

/**
 * Creates the file descriptor of a UDP socket bound to `iface` and 0.0.0.0:port. Synchronous;
 * the caller owns the descriptor. Throws NetError.
 */
export function createInterfaceSocketFd(opts: InterfaceSocketOptions): number {
  const iface = opts.interface;
  if (!validInterfaceName(iface)) {
    throw new NetError('BH_NET_NO_INTERFACE', `"${iface}" is not a valid interface name`, 'use the name shown by `ip link`, at most 15 characters');
  }
  if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) {
    throw new NetError('BH_NET_SOCKET', `port ${opts.port} is not a UDP port`, 'use a port between 1 and 65535');
  }
  const lc = loadLibc();
  const fd = lc.socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_UDP);
  if (fd < 0) throw failure(lc, 'create a socket', iface, opts.port);
  try {
    const dev = Buffer.from(`${iface}\0`, 'utf8');
    if (lc.setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, dev, dev.length) !== 0) throw failure(lc, 'bind a socket to the interface', iface, opts.port);
    if (opts.broadcast !== false && lc.setsockopt(fd, SOL_SOCKET, SO_BROADCAST, intOpt(1), 4) !== 0) throw failure(lc, 'enable broadcast', iface, opts.port);
    if (opts.reuseAddress === true && lc.setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, intOpt(1), 4) !== 0) throw failure(lc, 'set SO_REUSEADDR', iface, opts.port);
    if (opts.receiveBufferBytes !== undefined) {
      const size = intOpt(opts.receiveBufferBytes);
      // FORCE needs CAP_NET_ADMIN; without it the kernel caps SO_RCVBUF at net.core.rmem_max. Either is fine.
      if (lc.setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, size, 4) !== 0) lc.setsockopt(fd, SOL_SOCKET, SO_RCVBUF, size, 4);
    }
    const addr = sockaddrInBytes(0, opts.port);
    if (lc.bind(fd, addr, addr.length) !== 0) throw failure(lc, 'bind', iface, opts.port);
    return fd;
  } catch (err) {
    lc.close(fd);
    throw err;
  }
}

/**
 * Opens a dgram socket bound to one interface and 0.0.0.0:port: it receives only datagrams that
 * arrive on that interface (unicast and broadcast), and what it sends leaves on that interface.
 * Errors: BH_NET_NO_INTERFACE, BH_NET_PERMISSION, BH_NET_IN_USE, BH_NET_SOCKET (all NetError).
 */
export async function openInterfaceSocket(opts: InterfaceSocketOptions): Promise<dgram.Socket> {
  const fd = createInterfaceSocketFd(opts);
  const sock = dgram.createSocket({ type: 'udp4' });
  try {
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      sock.once('error', onError);
      sock.bind({ fd }, () => {
        sock.off('error', onError);
        resolve();
      });
    });
  } catch (err) {
    try {
      sock.close();
    } catch {
      loadLibc().close(fd);
    }
    throw new NetError('BH_NET_SOCKET', `could not adopt the socket for ${opts.interface}:${opts.port}: ${(err as Error).message}`, 'report this as a bug with your Node version');
  }
  return sock;
}
