// An ACK waits for its lease to become durable. When the store takes a second or more (a busy disk,
// a slow database), the ACK still goes out, and the server counts it (`acked.slow`) and says why in
// a rate-limited BH_DHCP_SLOW_ACK line. The store here resolves its writes when the test says so,
// on the server's fake clock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryLeaseRepository } from '../../../src/store/index.ts';
import type { Lease, LeaseInput } from '../../../src/store/index.ts';
import { SERVER, captureLogger, fullConfig, harness, opt, request } from './helpers.ts';
import type { Harness } from './helpers.ts';

/** A lease store whose writes wait until finish() is called. */
class LateStore extends MemoryLeaseRepository {
  private readonly waiting: (() => void)[] = [];

  override async put(lease: LeaseInput): Promise<Lease> {
    await new Promise<void>((resolve) => this.waiting.push(resolve));
    return super.put(lease);
  }

  get pending(): number {
    return this.waiting.length;
  }

  /** Lets the oldest waiting write through. */
  finish(): void {
    const next = this.waiting.shift();
    assert.ok(next !== undefined, 'no write is waiting');
    next();
  }
}

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

/** DISCOVER, then a REQUEST whose lease write takes `writeMs` on the fake clock; the ACK must come. */
async function doraTaking(h: Harness, store: LateStore, mac: string, writeMs: number): Promise<void> {
  const offer = await h.one(request({ type: 1, mac }));
  const pending = h.send(request({ type: 3, mac, options: [opt.requestedIp(offer.p.yiaddr), opt.serverId(SERVER)] }));
  await turn();
  assert.equal(store.pending, 1, 'the REQUEST waits for its lease write');
  h.clock.t += writeMs;
  store.finish();
  const replies = await pending;
  assert.equal(replies.length, 1, 'the ACK is sent, late or not');
}

test('an ACK whose lease took 1 s or more to become durable is counted and logged; a faster one is not', async () => {
  const store = new LateStore();
  const { logger, logs } = captureLogger();
  const h = await harness(fullConfig(), { store, logger });

  await doraTaking(h, store, '52:54:00:aa:0a:01', 999);
  assert.equal(h.server.counters()['acked.slow'], undefined);
  assert.equal(logs.filter((l) => l.code === 'BH_DHCP_SLOW_ACK').length, 0);

  await doraTaking(h, store, '52:54:00:aa:0a:02', 1500);
  const c = h.server.counters();
  assert.equal(c.acked, 2);
  assert.equal(c['acked.slow'], 1);
  const slow = logs.filter((l) => l.code === 'BH_DHCP_SLOW_ACK');
  assert.equal(slow.length, 1);
  assert.equal(slow[0]!.ms, 1500);
  assert.equal(slow[0]!.mac, '52:54:00:aa:0a:02');
  assert.equal(slow[0]!.ip, (await store.findByClient('198.18.0.0/24', 'mac:52:54:00:aa:0a:02'))[0]?.ip);
  assert.match(String(slow[0]!.msg), /took 1500 ms to become durable; the disk or database is slow/);
});

test('slow ACKs are all counted, but logged at most five times in ten seconds', async () => {
  const store = new LateStore();
  const { logger, logs } = captureLogger();
  const h = await harness(fullConfig(), { store, logger });
  for (let i = 0; i < 8; i++) await doraTaking(h, store, `52:54:00:aa:0b:${i.toString(16).padStart(2, '0')}`, 1000);
  assert.equal(h.server.counters()['acked.slow'], 8);
  // The eight writes took 8 s of fake time: one window of ten seconds.
  assert.equal(logs.filter((l) => l.code === 'BH_DHCP_SLOW_ACK').length, 5);
  h.clock.t += 10_000;
  await doraTaking(h, store, '52:54:00:aa:0b:ff', 2000);
  const last = logs.filter((l) => l.code === 'BH_DHCP_SLOW_ACK').at(-1)!;
  assert.equal(last.ms, 2000);
  assert.equal(last.suppressed, 3, 'the next line says how many were left out');
});
