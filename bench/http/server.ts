// The bootherd HTTP boot-file server alone, as the benchmark runs it: one process, no event
// subscribers (in `bootherd serve` each event is also logged and stored). Prints "PORT <n>".
// Usage: node bench/http/server.ts ROOT [--no-cache] [--chunk BYTES]
// (bench/http/run.ts measures `bootherd serve`; this bare app is for A/B tests of one knob.)
import type { AddressInfo } from 'node:net';
import { createHttpApp } from '../../src/http/server.ts';
import { FileResolver } from '../../src/files/resolver.ts';
import { EventBus } from '../../src/events/bus.ts';
import { silentLogger } from '../../src/log/logger.ts';

const root = process.argv[2];
if (root === undefined) throw new Error('usage: server.ts ROOT [--no-cache]');
const noCache = process.argv.includes('--no-cache');
const chunkArg = process.argv.indexOf('--chunk');
const chunk = chunkArg > 0 ? Number(process.argv[chunkArg + 1]) : undefined;
const app = createHttpApp({
  logger: silentLogger(),
  events: new EventBus(),
  resolver: new FileResolver({ root, cacheBytes: noCache ? 0 : undefined }),
  limits: { maxConnectionsPerIp: 1024 },
  ...(chunk !== undefined ? { streamChunkBytes: chunk } : {}),
});
await app.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(`PORT ${(app.server.address() as AddressInfo).port}\n`);
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
