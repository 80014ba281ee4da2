// Which services `bootherd serve` runs, built from the config. Each binds its sockets here (while
// the process may still be root) and starts serving later, once the store is open.
import type { ResolvedConfig } from '../config/load.ts';
import type { Logger } from '../log/logger.ts';
import type { BoundService } from './serve.ts';

export async function bindServices(_config: ResolvedConfig, _log: Logger): Promise<BoundService[]> {
  const bound: BoundService[] = [];
  return bound;
}
