// The DHCP service glue: one socket per configured interface on UDP 67 (plus UDP 4011 for
// ProxyDHCP), each bound to its interface; every datagram goes to DhcpServer.handle() with the
// interface, its address, the local port and the source; every reply is sent from the socket the
// request came in on: broadcast to 255.255.255.255 on that link, or unicast to `to`.
// All sockets are open before startDhcpService resolves, so the caller can drop privileges next.
import type dgram from 'node:dgram';
import type { Logger } from '../log/logger.ts';
import { RateLimitedLog } from '../log/logger.ts';
import { openInterfaceSocket } from '../net/socket.ts';
import type { InterfaceSocketOptions } from '../net/socket.ts';
import { primaryIpv4 } from '../net/interfaces.ts';
import { NetError } from '../net/errors.ts';
import { peekMessageType } from '../protocol/dhcp/packet.ts';
import { Intake, isUrgent } from './intake.ts';
import type { IntakeOptions } from './intake.ts';
import type { DhcpReply, DhcpRequestMeta } from './server.ts';

/** The part of DhcpServer the service needs. */
export interface DhcpHandler {
  handle(buf: Uint8Array, meta: DhcpRequestMeta): Promise<DhcpReply[]>;
  /** Marks expired leases as such; the service calls it every reclaimIntervalMs. Never rejects. */
  reclaimExpired?(): Promise<number>;
}

export interface DhcpServiceInterface {
  name: string;
  mode: 'proxy' | 'full';
}

export interface DhcpBindOptions {
  interfaces: DhcpServiceInterface[];
  /**
   * Kernel receive buffer per socket (bytes); 0 keeps the kernel default. Default 1 MiB: room for
   * about a thousand queued requests (a burst of machines booting at once) while bounding how stale
   * a request can get under overload. With 4 MiB, perfdhcp's unpaced run saw ACK delays over 1 s
   * (every answer late, counted as a drop); clients retransmit anyway.
   */
  receiveBufferBytes?: number;
  /** Socket factory; default openInterfaceSocket (tests pass loopback sockets). */
  openSocket?: (o: InterfaceSocketOptions) => Promise<dgram.Socket>;
  /** The IPv4 address of an interface; default its first address (primaryIpv4). */
  interfaceAddress?: (name: string) => string;
}

export interface DhcpStartOptions {
  server: DhcpHandler;
  logger: Logger;
  /** How long stop() waits for requests already being handled (e.g. a lease write) before closing. Default 5 s. */
  drainMs?: number;
  /** How often server.reclaimExpired() runs. Default 60 s; 0 never. */
  reclaimIntervalMs?: number;
  /** Datagrams handed to the server per turn of the event loop (reading runs ahead of it). Default 8. */
  perTurn?: number;
  /** Bounds of the receive queue (intake.ts): waiting REQUESTs and DISCOVERs. */
  intake?: IntakeOptions;
}

export type DhcpServiceOptions = DhcpBindOptions & DhcpStartOptions;

/** Sockets bound (while still privileged) but not yet serving: datagrams are read and discarded until start(). */
export interface BoundDhcpSockets {
  listening(): { interface: string; port: number; address: string }[];
  /** Starts feeding datagrams to the server. Call once. */
  start(opts: DhcpStartOptions): DhcpService;
  /** Closes the sockets without ever serving (startup failed). */
  abort(): Promise<void>;
}

export interface DhcpService {
  /** Lets in-flight requests finish (bounded by drainMs), then closes every socket. Idempotent. */
  stop(): Promise<void>;
  /** received, sent, send_errors, handler_errors, plus received/sent per interface and port (`received:eth0:67`). */
  counters(): Record<string, number>;
  /** The sockets' interface, port and address, for logs and the readiness line. */
  listening(): { interface: string; port: number; address: string }[];
}

const BROADCAST = '255.255.255.255';

interface Bound {
  iface: string;
  address: string;
  port: 67 | 4011;
  socket: dgram.Socket;
  /** Counter keys, built once: `received:<iface>:<port>`, `sent:<iface>:<port>`. */
  receivedKey: string;
  sentKey: string;
}

interface Queued {
  b: Bound;
  msg: Buffer;
  rinfo: dgram.RemoteInfo;
}

/**
 * Opens every DHCP socket: UDP 67 on each interface, plus UDP 4011 on proxy-mode interfaces, each
 * bound to its interface. Throws NetError (BH_NET_NO_INTERFACE, BH_NET_NO_ADDRESS, BH_NET_PERMISSION,
 * BH_NET_IN_USE) after closing whatever it had opened.
 */
export async function bindDhcpSockets(opts: DhcpBindOptions): Promise<BoundDhcpSockets> {
  const names = new Set<string>();
  for (const i of opts.interfaces) {
    if (names.has(i.name)) throw new NetError('BH_NET_SOCKET', `interface ${i.name} is listed twice in dhcp.interfaces`, 'list each interface once, with its mode');
    names.add(i.name);
  }

  const rcvbuf = opts.receiveBufferBytes === 0 ? undefined : (opts.receiveBufferBytes ?? 1024 * 1024);
  const bound: Bound[] = [];
  try {
    for (const i of opts.interfaces) {
      const address = (opts.interfaceAddress ?? ((n: string) => primaryIpv4(n).address))(i.name);
      const ports: (67 | 4011)[] = i.mode === 'proxy' ? [67, 4011] : [67];
      for (const port of ports) {
        const socket = await (opts.openSocket ?? openInterfaceSocket)({ interface: i.name, port, receiveBufferBytes: rcvbuf });
        bound.push({ iface: i.name, address, port, socket, receivedKey: `received:${i.name}:${port}`, sentKey: `sent:${i.name}:${port}` });
      }
    }
  } catch (err) {
    await Promise.all(bound.map((b) => closeSocket(b.socket)));
    throw err;
  }
  // Until start(), datagrams are read and dropped (no 'message' listener), so no queue builds up.
  let started = false;
  const listening = (): { interface: string; port: number; address: string }[] => bound.map((b) => ({ interface: b.iface, port: b.port, address: b.address }));
  return {
    listening,
    abort: async () => {
      if (!started) await Promise.all(bound.map((b) => closeSocket(b.socket)));
    },
    start: (o) => {
      if (started) throw new Error('BoundDhcpSockets.start() called twice');
      started = true;
      return serveOn(bound, o, listening);
    },
  };
}

/** Binds the sockets and starts serving: bindDhcpSockets() then start(). */
export async function startDhcpService(opts: DhcpServiceOptions): Promise<DhcpService> {
  const b = await bindDhcpSockets(opts);
  return b.start(opts);
}

function serveOn(bound: Bound[], opts: DhcpStartOptions, listening: () => { interface: string; port: number; address: string }[]): DhcpService {
  const log = opts.logger;
  const limited = new RateLimitedLog(log);
  const counts = new Map<string, number>();
  const bump = (key: string, n = 1): void => {
    counts.set(key, (counts.get(key) ?? 0) + n);
  };
  for (const k of ['received', 'sent', 'send_errors', 'handler_errors']) counts.set(k, 0);

  let stopped = false;
  // Requests being handled (e.g. waiting for their lease's commit), and stop()'s wait for them.
  let inFlight = 0;
  let drained: (() => void) | undefined;
  const settled = (): void => {
    if (--inFlight === 0 && drained !== undefined) drained();
  };

  // Hands a datagram to the kernel; failures are counted and logged, never thrown. A reply counts as
  // in flight until the socket reports it sent, so stop() does not close the socket under it. One
  // completion callback per socket (Node's send error carries the address and port), none per reply.
  const onSent = (b: Bound, err: Error | null | undefined): void => {
    if (err) {
      const e = err as NodeJS.ErrnoException & { address?: string; port?: number };
      bump('send_errors');
      limited.warn(`send:${b.iface}:${e.code ?? ''}`, { interface: b.iface, to: e.address, port: e.port, err: err.message }, 'could not send a DHCP reply');
    } else {
      bump('sent');
      bump(b.sentKey);
    }
    settled();
  };
  const completions = new Map<Bound, (err: Error | null) => void>(bound.map((b) => [b, (err: Error | null) => onSent(b, err)]));
  const send = (b: Bound, reply: DhcpReply): void => {
    const address = reply.broadcast ? BROADCAST : reply.to.address;
    inFlight++;
    try {
      b.socket.send(reply.data, reply.to.port, address, completions.get(b));
    } catch (err) {
      onSent(b, Object.assign(err as Error, { address, port: reply.to.port }));
    }
  };

  const handled = (b: Bound, replies: DhcpReply[]): void => {
    for (let i = 0; i < replies.length; i++) send(b, replies[i]!);
    settled();
  };
  const failed = (b: Bound, err: unknown): void => {
    // DhcpServer.handle never rejects by contract; if it does, the datagram is dropped, not the service.
    bump('handler_errors');
    limited.warn('handler', { interface: b.iface, err: (err as Error)?.message }, 'DHCP handler failed; request dropped');
    settled();
  };
  const handleOne = (q: Queued): void => {
    const b = q.b;
    const meta: DhcpRequestMeta = { interface: b.iface, localAddress: b.address, port: b.port, source: { address: q.rinfo.address, port: q.rinfo.port } };
    inFlight++;
    let p: Promise<DhcpReply[]>;
    try {
      p = opts.server.handle(q.msg, meta);
    } catch (err) {
      failed(b, err);
      return;
    }
    p.then(
      (replies) => handled(b, replies),
      (err: unknown) => failed(b, err),
    );
  };

  // Datagrams are read as they come (libuv reads up to 32 per socket per turn) into the intake
  // queue, and handled `perTurn` at a time, REQUESTs first (intake.ts). Reading runs ahead of
  // handling, so under overload the kernel's queue keeps draining and a REQUEST is not dropped
  // behind a wall of DISCOVERs; what the intake gives up instead is the oldest DISCOVERs.
  const intake = new Intake<Queued>(opts.intake);
  const perTurn = Math.max(1, Math.trunc(opts.perTurn ?? 8));
  let scheduled = false;
  const turn = (): void => {
    scheduled = false;
    if (stopped) return;
    for (let i = 0; i < perTurn; i++) {
      const q = intake.shift();
      if (q === undefined) return;
      handleOne(q);
    }
    if (intake.size > 0) schedule();
  };
  const schedule = (): void => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(turn);
  };

  for (const b of bound) {
    b.socket.on('message', (msg, rinfo) => {
      if (stopped) return;
      bump('received');
      bump(b.receivedKey);
      const evicted = intake.push({ b, msg, rinfo }, isUrgent(peekMessageType(msg), b.port));
      if (evicted !== undefined) {
        bump('dropped_overload');
        limited.warn('overload', { interface: b.iface, queued: intake.size }, 'DHCP requests arrive faster than they can be answered; the oldest waiting ones are dropped (clients retransmit)');
      }
      schedule();
    });
    b.socket.on('error', (err) => limited.warn(`socket:${b.iface}:${b.port}`, { interface: b.iface, port: b.port, err: err.message }, 'DHCP socket error'));
  }
  log.info({ sockets: bound.map((b) => `${b.iface}:${b.port}`) }, 'DHCP listening');

  // Expired leases go back to the pool: one reclaim at a time, never after stop().
  let reclaiming: Promise<void> | undefined;
  const reclaimEvery = opts.reclaimIntervalMs ?? 60_000;
  const reclaimTimer =
    opts.server.reclaimExpired === undefined || reclaimEvery <= 0
      ? undefined
      : setInterval(() => {
          if (reclaiming !== undefined || stopped) return;
          reclaiming = (async () => {
            try {
              const n = await opts.server.reclaimExpired!();
              bump('reclaim_runs');
              if (n > 0) {
                bump('reclaimed', n);
                log.debug({ reclaimed: n }, 'expired leases reclaimed');
              }
            } catch (err) {
              bump('reclaim_errors');
              limited.warn('reclaim', { err: (err as Error)?.message }, 'reclaiming expired leases failed');
            } finally {
              reclaiming = undefined;
            }
          })();
        }, reclaimEvery);
  reclaimTimer?.unref();

  let stopping: Promise<void> | undefined;
  return {
    stop(): Promise<void> {
      stopping ??= (async () => {
        stopped = true;
        clearInterval(reclaimTimer);
        if (reclaiming !== undefined) await reclaiming;
        intake.clear(); // read but not yet handled: dropped, as if they had arrived after stop()
        if (inFlight > 0) {
          let timer: NodeJS.Timeout | undefined;
          await new Promise<void>((r) => {
            drained = r;
            timer = setTimeout(r, opts.drainMs ?? 5000);
          });
          clearTimeout(timer);
        }
        await Promise.all(bound.map((b) => closeSocket(b.socket)));
        log.info('DHCP stopped');
      })();
      return stopping;
    },
    counters: () => Object.fromEntries(counts),
    listening,
  };
}

function closeSocket(s: dgram.Socket): Promise<void> {
  return new Promise((resolve) => {
    try {
      s.close(() => resolve());
    } catch {
      resolve(); // already closed
    }
  });
}
