// Which services `bootherd serve` runs, built from the config. Each binds its sockets here (while
// the process may still be root) and starts serving later, once privileges are dropped and the
// store is open.
import dgram from 'node:dgram';
import type { Socket } from 'node:dgram';
import { mkdirSync } from 'node:fs';
import type { ResolvedConfig } from '../config/load.ts';
import type { Logger } from '../log/logger.ts';
import { FileResolver } from '../files/resolver.ts';
import { GeneratedFiles } from '../files/registry.ts';
import { TftpServer } from '../tftp/server.ts';
import { bindHttp } from './http-service.ts';
import { BhError } from '../errors.ts';
import { bindDhcpSockets } from '../dhcp/service.ts';
import { DhcpServer } from '../dhcp/server.ts';
import type { BoundService, Service } from './serve.ts';
import { bindBoot } from './boot-service.ts';
import type { BootGlue } from './boot-service.ts';
import type { NamedProfile } from '../inventory/resolve.ts';

/** What `serve` may hand the services beyond the config (quick mode). */
export interface ServiceExtras {
  /** Generated files already published (quick mode's kernel and initrds); a fresh registry otherwise. */
  registry?: GeneratedFiles;
  /** Quick mode's built-in profile: what unknown hosts boot (InventoryService's `builtinDefault`). */
  builtinProfile?: NamedProfile;
}

export async function bindServices(config: ResolvedConfig, log: Logger, extras: ServiceExtras = {}): Promise<BoundService[]> {
  const bound: BoundService[] = [];
  try {
    ensureBootRoot(config.boot_root);
    const registry = extras.registry ?? new GeneratedFiles();
    // The boot engine starts first: the others use its hooks, and their events carry host ids.
    const boot = bindBoot(config, log, registry, { builtinProfile: extras.builtinProfile });
    bound.push(boot.service);
    if (config.tftp.enabled) bound.push(boot.withHostEvents(await bindTftp(config, log, registry)));
    if (config.http.enabled) bound.push(boot.withHostEvents(await bindHttp(config, log, { registry, routes: boot.routes, fast: boot.fast })));
    if (config.interfaces.length > 0) bound.push(boot.withHostEvents(await bindDhcp(config, log, boot)));
  } catch (err) {
    await Promise.allSettled(bound.map((b) => b.abort()));
    throw err;
  }
  return bound;
}

function ensureBootRoot(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o755 });
  } catch (err) {
    throw new BhError('BH_BOOT_ROOT', `cannot create the boot root ${dir} (${(err as NodeJS.ErrnoException).code ?? 'EIO'})`, 'set boot_root (or BOOTHERD_BOOT_ROOT) to an existing directory of boot files');
  }
}

/** The code for a failed bind, by what was being bound. */
const BIND_CODE = { TFTP: 'BH_TFTP_BIND' } as const;

/** Binds a UDP socket now (privileged port 69 needs root or CAP_NET_BIND_SERVICE). */
export function bindUdp(address: string, port: number, what: keyof typeof BIND_CODE): Promise<Socket> {
  const socket = dgram.createSocket({ type: 'udp4' });
  return new Promise((resolve, reject) => {
    socket.once('error', (err: NodeJS.ErrnoException) => {
      socket.close();
      const hint =
        err.code === 'EACCES'
          ? `port ${port} is privileged: start bootherd as root (with "user:" set) or grant it CAP_NET_BIND_SERVICE (docs/deployment.md)`
          : err.code === 'EADDRINUSE'
            ? `another program already serves ${what} on ${address}:${port}: stop it (ss -ulpn 'sport = :${port}' shows which) or change the port`
            : err.code === 'EADDRNOTAVAIL'
              ? `${address} is not an address of this machine: fix ${what.toLowerCase()}.address`
              : 'check the address and port in the config';
      reject(new BhError(BIND_CODE[what], `cannot listen for ${what} on ${address}:${port} (${err.code ?? err.message})`, hint));
    });
    socket.bind({ address, port, exclusive: true }, () => {
      socket.removeAllListeners('error');
      resolve(socket);
    });
  });
}

async function bindTftp(config: ResolvedConfig, log: Logger, registry: GeneratedFiles): Promise<BoundService> {
  const socket = await bindUdp(config.tftp.address, config.tftp.port, 'TFTP');
  return {
    name: 'tftp',
    abort: () => new Promise<void>((resolve) => socket.close(() => resolve())),
    async start({ events }): Promise<Service> {
      const resolver = new FileResolver({ root: config.boot_root, registry });
      const server = new TftpServer({
        logger: log.child({ component: 'tftp' }),
        events,
        resolver,
        registry,
        limits: { maxSessions: config.tftp.max_sessions, maxSessionsPerIp: config.tftp.max_sessions_per_client, idleTimeoutMs: config.tftp.idle_timeout * 1000 },
        fastPath: { gso: config.tftp.gso, blockingWait: config.tftp.blocking_wait, nativeLoop: config.tftp.native_loop, ioUring: config.tftp.io_uring },
      });
      await server.start({ socket });
      const address = socket.address();
      return {
        name: 'tftp',
        describe: () => ({ address: address.address, port: address.port, root: config.boot_root, lockstep: server.lockstepPath, batchSend: server.batchSendPath }),
        async stop(graceMs: number): Promise<void> {
          // Let running transfers finish within the grace period, then cut the rest (ERROR 0).
          const deadline = Date.now() + graceMs;
          while (server.activeSessions > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
          await server.stop();
        },
      };
    },
  };
}

/** DHCP/ProxyDHCP: UDP 67 (and 4011 in proxy mode) on each configured interface, bound to it. */
async function bindDhcp(config: ResolvedConfig, log: Logger, boot: BootGlue): Promise<BoundService> {
  const sockets = await bindDhcpSockets({ interfaces: config.interfaces });
  return {
    name: 'dhcp',
    abort: () => sockets.abort(),
    async start({ store, events }): Promise<Service> {
      const logger = log.child({ component: 'dhcp' });
      const server = await DhcpServer.create({
        config: { ...config.dhcp, interfaces: config.interfaces },
        leases: store.leases,
        logger,
        events,
        httpPort: config.http.port,
        boot: config.boot,
        planner: boot.planner,
      });
      // Reserved addresses are the inventory's: now, and after every change of them.
      const unwatch = boot.watchReservations((list) => server.syncReservations(list));
      const service = sockets.start({ server, logger, drainMs: config.shutdown_grace * 1000 });
      return {
        name: 'dhcp',
        describe: () => ({ interfaces: config.interfaces, listening: service.listening() }),
        stop: () => {
          unwatch();
          return service.stop();
        },
      };
    },
  };
}
