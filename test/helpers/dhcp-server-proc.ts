// Runs bootherd's DHCP server alone, for the DHCP integration tests and bench/dhcp, until
// `bootherd serve` runs the `dhcp` section: DhcpServer + the real store (SQLite in state_dir) +
// the per-interface socket service. Run it inside a test namespace:
//   node dhcp-server-proc.ts CONFIG.(json|yaml)
// CONFIG: { state_dir: "/tmp/...", database_url?: "...", dhcp: { ...the dhcp config section... } }
// Prints one JSON line {"event":"ready","pid":N,"listening":[...]} when serving, then logs (JSON) to
// stderr. SIGTERM/SIGINT: stop serving, let in-flight requests finish, close the store, exit 0.
import { readFileSync, mkdirSync, writeSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { Value } from '@sinclair/typebox/value';
import { createLogger } from '../../src/log/logger.ts';
import { EventBus } from '../../src/events/bus.ts';
import { openStore } from '../../src/store/index.ts';
import { DhcpConfigSchema } from '../../src/config/dhcp.ts';
import type { DhcpConfig } from '../../src/config/dhcp.ts';
import { DhcpServer } from '../../src/dhcp/server.ts';
import { startDhcpService } from '../../src/dhcp/service.ts';

async function main(): Promise<void> {
  const file = process.argv[2];
  if (file === undefined) throw new Error('usage: dhcp-server-proc.ts CONFIG');
  const text = readFileSync(file, 'utf8');
  const raw = (file.endsWith('.json') ? JSON.parse(text) : parseYaml(text)) as { state_dir: string; database_url?: string; log_level?: string; receive_buffer_bytes?: number; dhcp: unknown };
  const dhcp = Value.Default(DhcpConfigSchema, structuredClone(raw.dhcp ?? {})) as DhcpConfig;
  if (!Value.Check(DhcpConfigSchema, dhcp)) {
    const first = [...Value.Errors(DhcpConfigSchema, dhcp)][0];
    throw new Error(`bad dhcp config at ${first?.path}: ${first?.message}`);
  }
  const logger = createLogger({ level: (raw.log_level ?? 'warn') as 'warn', format: 'json', destination: 2 });
  mkdirSync(raw.state_dir, { recursive: true });
  const store = await openStore(raw.database_url ?? `sqlite:${raw.state_dir}/bootherd.db`, { logger });
  await store.migrate();
  const events = new EventBus();
  const server = await DhcpServer.create({ config: dhcp, leases: store.leases, logger, events });
  const interfaces = dhcp.interfaces.map((i) => ({ name: i.name, mode: i.mode ?? dhcp.mode }));
  const service = await startDhcpService({ interfaces, server, logger, receiveBufferBytes: raw.receive_buffer_bytes });
  writeSync(1, `${JSON.stringify({ event: 'ready', pid: process.pid, listening: service.listening() })}\n`);

  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) process.exit(1);
    stopping = true;
    await service.stop();
    await store.close();
    writeSync(1, `${JSON.stringify({ event: 'stopped', signal, service: service.counters(), server: server.counters() })}\n`);
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGUSR2', () => writeSync(1, `${JSON.stringify({ event: 'counters', service: service.counters(), server: server.counters() })}\n`));
}

main().catch((err: unknown) => {
  writeSync(2, `dhcp-server-proc: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
