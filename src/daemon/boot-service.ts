// The boot engine as a service of `bootherd serve`: once the store is open it loads the inventory
// snapshot (refreshed every few seconds, so an operator's approval from the CLI takes effect),
// serves the boot-loader assets and the per-host TFTP files through the registry, and hands the
// other services their hooks: DHCP's planner, HTTP's routes, and a host-aware event bus.
import type { FastifyInstance } from 'fastify';
import type { ResolvedConfig } from '../config/load.ts';
import type { Logger } from '../log/logger.ts';
import type { GeneratedFiles } from '../files/registry.ts';
import type { BootPlanner } from '../boot/dhcp-plan.ts';
import { noInventoryPlanner } from '../boot/dhcp-plan.ts';
import type { BoundService, Service } from './serve.ts';
import type { ProfileSpec } from '../inventory/types.ts';
import { HostDirectory } from '../boot/hosts.ts';
import type { ReservedAddress } from '../boot/hosts.ts';
import { BootEngine, hostAwareBus, planSettings } from '../boot/engine.ts';
import { bootFastPath, registerBootRoutes } from '../http/boot-routes.ts';
import type { FastPath } from '../http/listener.ts';
import { findAssets, installHint, publishAssets } from '../boot/assets.ts';
import { importConfigHosts } from './config-import.ts';

export interface BootGlue {
  /** Start it before the services that use the hooks. */
  service: BoundService;
  /** For bindHttp's `routes`. */
  routes: (app: FastifyInstance) => void;
  /** For bindHttp's `fast`: the boot scripts answered without the app's routing. */
  fast: FastPath;
  /** For DhcpServer's `planner` (every client unknown until the service started). */
  planner: BootPlanner;
  /**
   * Calls `fn` with the inventory's reserved addresses now (once the service started) and after
   * every snapshot refresh that changed them. Returns the function that stops the calls.
   */
  watchReservations(fn: (list: ReservedAddress[]) => void): () => void;
  /** Wraps another service so that its boot events carry host record ids. */
  withHostEvents(b: BoundService): BoundService;
}

export interface BootGlueOptions {
  /** Inventory snapshot refresh interval (ms); default 5000. */
  refreshMs?: number;
  /** Quick mode's built-in profile: the default profile when the inventory names none. */
  builtinProfile?: { name: string; spec: ProfileSpec } | undefined;
}

export function bindBoot(config: ResolvedConfig, log: Logger, registry: GeneratedFiles, opts: BootGlueOptions = {}): BootGlue {
  const logger = log.child({ component: 'boot' });
  let engine: BootEngine | undefined;
  const watchers = new Set<(list: ReservedAddress[]) => void>();
  let reserved: { key: string; list: ReservedAddress[] } | undefined;
  /** Tells the watchers when the snapshot's reservations changed. */
  const reservationsChanged = (directory: HostDirectory): void => {
    const list = directory.reservations().sort((a, b) => (a.mac < b.mac ? -1 : a.mac > b.mac ? 1 : 0));
    const key = JSON.stringify(list);
    if (key === reserved?.key) return;
    reserved = { key, list };
    for (const fn of watchers) fn(list);
  };
  const service: BoundService = {
    name: 'boot',
    abort: async () => {},
    async start({ store, events }): Promise<Service> {
      await importConfigHosts(config, store, logger);
      const directory = new HostDirectory({ store, logger, builtinDefault: opts.builtinProfile });
      await directory.refresh();
      reservationsChanged(directory);
      engine = new BootEngine({ directory, events, logger, settings: planSettings(config.boot), bootRoot: config.boot_root, repeats: { burst: config.log.event_burst, windowMs: config.log.event_window * 1000 } });
      const detach = engine.attach(registry);
      const found = findAssets({ assetsDir: config.boot.assets_dir });
      const assets = publishAssets(found, registry, config.boot_root);
      if (assets.missing.length > 0) logger.warn({ code: 'BH_BOOT_ASSETS_MISSING', missing: assets.missing }, `boot loaders missing: ${installHint(found.filter((f) => assets.missing.includes(f.name))) ?? ''} (or put them in boot.assets_dir); 'bootherd assets' lists them`);
      for (const [name, code] of Object.entries(assets.failed)) logger.warn({ code: 'BH_BOOT_ASSET_UNREADABLE', asset: name, error: code }, `cannot read the boot loader ${name}: check its permissions`);
      let refreshing = false;
      const timer = setInterval(() => {
        engine?.sweepRepeats();
        if (refreshing) return;
        refreshing = true;
        directory.refresh().then(() => reservationsChanged(directory)).catch((err: unknown) => logger.warn({ code: 'BH_BOOT_REFRESH', err }, 'cannot reload the inventory; boot plans use the last snapshot')).finally(() => (refreshing = false));
      }, opts.refreshMs ?? 5000);
      timer.unref();
      return {
        name: 'boot',
        describe: () => ({ unknown_hosts: config.boot.unknown_hosts, loaders: assets.published.length + assets.fromBootRoot.length, missing_loaders: assets.missing }),
        async stop(): Promise<void> {
          clearInterval(timer);
          engine?.sweepRepeats(true);
          detach();
        },
      };
    },
  };
  return {
    service,
    routes: (app) => registerBootRoutes(app, () => engine),
    fast: bootFastPath(() => engine),
    planner: { planDhcp: (req, settings) => (engine ?? noInventoryPlanner).planDhcp(req, settings) },
    watchReservations(fn) {
      watchers.add(fn);
      if (reserved !== undefined) fn(reserved.list);
      return () => watchers.delete(fn);
    },
    withHostEvents: (b) => ({
      ...b,
      start: (ctx) => b.start(engine === undefined ? ctx : { ...ctx, events: hostAwareBus(ctx.events, engine.directory) }),
    }),
  };
}
