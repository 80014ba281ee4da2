// Opens the store from the same configuration `serve` uses (--config, $BOOTHERD_CONFIG or
// /etc/bootherd/bootherd.yaml, and BOOTHERD_* overrides), runs one command with it, closes it.
import { mkdirSync } from 'node:fs';
import { createLogger } from '../log/logger.ts';
import type { LogLevel } from '../log/logger.ts';
import { openStore } from '../store/index.ts';
import type { Store } from '../store/index.ts';
import { InventoryService } from '../inventory/service.ts';
import { configFileFromEnv, loadServerConfig } from './config.ts';

export interface StoreOpts {
  config?: string;
}

export async function withStore<T>(opts: StoreOpts, fn: (store: Store) => Promise<T>, how: { migrate?: boolean } = {}): Promise<T> {
  const config = loadServerConfig({ file: opts.config ?? configFileFromEnv() });
  // Commands print their own results; the logger only reports warnings and errors, to stderr.
  const log = createLogger({ level: (config.log.level === 'silent' ? 'silent' : 'warn') as LogLevel, format: 'json', destination: 2 });
  mkdirSync(config.state_dir, { recursive: true, mode: 0o750 });
  const store = await openStore(config.database.url, { logger: log });
  try {
    // Inventory commands bring the schema up to date first, as serve does on start.
    if (how.migrate === true) await store.migrate();
    return await fn(store);
  } finally {
    await store.close();
  }
}

/** Runs fn with an inventory service over the configured (and migrated) store. */
export function withInventory<T>(opts: StoreOpts, fn: (inv: InventoryService, store: Store) => Promise<T>): Promise<T> {
  return withStore(opts, (store) => fn(new InventoryService({ store }), store), { migrate: true });
}
