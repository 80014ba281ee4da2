// Child process for the crash-durability test of event batches: opens the store at argv[2], migrates
// it, then, as the event recorder does, hands the store one batch of 16 events per turn of the event
// loop without waiting, and prints "<first> <last>" (event numbers) for each batch only after its
// appendMany() resolved, i.e. once the store says it is durable. At most 64 batches are in flight.
// It stops on its own after 20 000 events or 60 seconds; the test SIGKILLs it long before that.
import { openStore } from '../../../src/store/index.ts';
import { silentLogger } from '../../../src/log/logger.ts';

const url = process.argv[2];
if (url === undefined) throw new Error('usage: event-writer.ts <store-url>');
const store = await openStore(url, { logger: silentLogger() });
await store.migrate();
process.stdout.write('ready\n');

const MAX = 20_000;
const PER_BATCH = 16;
const deadline = Date.now() + 60_000;
let next = 0;
let inFlight = 0;

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));
while (next < MAX && Date.now() < deadline) {
  if (inFlight >= 64) {
    await turn();
    continue;
  }
  const first = next;
  const events = Array.from({ length: PER_BATCH }, (_, k) => ({ host: `198.18.0.${(k % 200) + 1}`, stage: 'http' as const, kind: `e${first + k}`, detail: { n: first + k }, time: new Date(1_000 + first + k) }));
  next += PER_BATCH;
  inFlight++;
  void store.events.appendMany(events, events.map((e) => JSON.stringify(e.detail))).then((r) => {
    inFlight--;
    if (r.stored !== PER_BATCH) throw new Error(`stored ${r.stored} of ${PER_BATCH}`);
    process.stdout.write(`${first} ${first + PER_BATCH - 1}\n`);
  });
  await turn();
}
await store.close();
