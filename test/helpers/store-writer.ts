// Child process for the crash-durability test: opens the store at argv[2], migrates it, then writes
// leases with put() (up to 32 in flight) and prints "<ip> <expiresAt>" for each one only after its
// put() resolved, i.e. once the store says it is durable. It stops on its own after 20 000 writes
// or 60 seconds; the test SIGKILLs it long before that.
import { openStore } from '../../src/store/index.ts';
import { silentLogger } from '../../src/log/logger.ts';

const url = process.argv[2];
if (url === undefined) throw new Error('usage: store-writer.ts <store-url>');
const store = await openStore(url, { logger: silentLogger() });
await store.migrate();
process.stdout.write('ready\n');

const MAX = 20_000;
const deadline = Date.now() + 60_000;
let next = 0;

function writerIp(i: number): string {
  return `198.${18 + Math.floor(i / 62_500)}.${Math.floor((i % 62_500) / 250)}.${(i % 250) + 1}`;
}

async function worker(): Promise<void> {
  while (next < MAX && Date.now() < deadline) {
    const i = next++;
    const ip = writerIp(i);
    const expiresAt = 5_000_000 + i;
    await store.leases.put({ ip, subnet: '198.18.0.0/15', clientKey: `id:${(0x1000000 + i).toString(16)}`, mac: '02:00:00:00:00:01', hostname: `n${i}`, state: 'bound', expiresAt, dhcpServerId: '198.18.0.1' });
    process.stdout.write(`${ip} ${expiresAt}\n`);
  }
}

await Promise.all(Array.from({ length: 32 }, worker));
await store.close();
