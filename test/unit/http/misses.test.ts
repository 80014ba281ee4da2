// A 404 flood (a scanner) must not become one boot event per request: a burst per client, then
// one `file-misses` summary per client and window; found files still get an event each.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHttpApp } from '../../../src/http/server.ts';
import { MissAggregator } from '../../../src/http/misses.ts';
import { FileResolver } from '../../../src/files/resolver.ts';
import { EventBus } from '../../../src/events/bus.ts';
import type { BootEvent } from '../../../src/events/bus.ts';
import { silentLogger } from '../../../src/log/logger.ts';

let root: string;
before(() => {
  root = mkdtempSync(join(tmpdir(), 'bh-http-misses-'));
  writeFileSync(join(root, 'ipxe.efi'), 'MZ');
});
after(() => rmSync(root, { recursive: true, force: true }));

test('a scanner’s 300 misses give its burst of events and then one summary with the count; found files are still recorded', async () => {
  let t = 0;
  const events = new EventBus();
  const seen: BootEvent[] = [];
  events.subscribe((e) => seen.push(e));
  const app = createHttpApp({ logger: silentLogger(), events, resolver: new FileResolver({ root }), misses: { burst: 10, windowMs: 10_000 }, now: () => t });
  try {
    for (let i = 0; i < 300; i++) assert.equal((await app.inject({ url: `/scan/${i}.php` })).statusCode, 404);
    assert.equal((await app.inject({ url: '/x%00y' })).statusCode, 400);
    assert.equal((await app.inject({ url: '/ipxe.efi' })).statusCode, 200);
    const single = seen.filter((e) => e.kind === 'file' && e.detail['status'] === 404);
    assert.equal(single.length, 10, 'the burst is recorded one by one');
    assert.equal(seen.filter((e) => e.kind === 'file' && e.detail['status'] === 200).length, 1, 'a served file is recorded');
    assert.equal(seen.filter((e) => e.kind === 'file-misses').length, 0, 'nothing summarised before the window ends');

    t += 10_000;
    assert.equal((await app.inject({ url: '/scan/next.php' })).statusCode, 404);
    const summary = seen.filter((e) => e.kind === 'file-misses');
    assert.equal(summary.length, 1);
    assert.equal(summary[0]!.detail['count'], 291);
    assert.deepEqual(summary[0]!.detail['statuses'], { '404': 290, '400': 1 });
    assert.equal((summary[0]!.detail['sample'] as string[]).length, 5);
    assert.equal(seen.filter((e) => e.kind === 'file' && e.detail['status'] === 404).length, 11, 'a new window starts with a new burst');
  } finally {
    await app.close();
  }
});

test('misses still counted when the server stops are reported, not lost', async () => {
  const events = new EventBus();
  const seen: BootEvent[] = [];
  events.subscribe((e) => seen.push(e));
  const app = createHttpApp({ logger: silentLogger(), events, resolver: new FileResolver({ root }), misses: { burst: 2 } });
  for (let i = 0; i < 7; i++) await app.inject({ url: `/nope${i}` });
  await app.close();
  const summary = seen.filter((e) => e.kind === 'file-misses');
  assert.equal(summary.length, 1);
  assert.equal(summary[0]!.detail['count'], 5);
});

test('the aggregator tracks a bounded number of clients: the oldest is reported early', () => {
  const out: Omit<BootEvent, 'time'>[] = [];
  const m = new MissAggregator({ emit: (e) => out.push(e), burst: 1, maxClients: 3, now: () => 0 });
  for (let c = 0; c < 10; c++) for (let i = 0; i < 4; i++) m.miss(`198.18.0.${c}`, `/x${i}`, 404);
  assert.ok(m.size <= 3);
  assert.equal(out.length, 7, 'the seven clients pushed out were each summarised');
  assert.ok(out.every((e) => e.detail['count'] === 3));
});

test('one client fetching the same file over and over: its burst of events, then one file-repeats summary per window; other files and clients are not held back', async () => {
  let t = 0;
  const events = new EventBus();
  const seen: BootEvent[] = [];
  events.subscribe((e) => seen.push(e));
  const app = createHttpApp({ logger: silentLogger(), events, resolver: new FileResolver({ root }), repeats: { burst: 3, windowMs: 10_000 }, now: () => t });
  try {
    for (let i = 0; i < 50; i++) assert.equal((await app.inject({ url: '/ipxe.efi' })).statusCode, 200);
    assert.equal((await app.inject({ url: '/ipxe.efi', remoteAddress: '198.18.0.9' })).statusCode, 200);
    const files = seen.filter((e) => e.kind === 'file');
    assert.equal(files.filter((e) => e.detail['client'] === '127.0.0.1').length, 3, 'the burst, one by one');
    assert.equal(files.filter((e) => e.detail['client'] === '198.18.0.9').length, 1, 'another client has its own burst');
    t += 10_000;
    await app.inject({ url: '/ipxe.efi' });
    const summary = seen.filter((e) => e.kind === 'file-repeats');
    assert.equal(summary.length, 1);
    assert.equal(summary[0]!.host, '127.0.0.1');
    assert.equal(summary[0]!.detail['path'], 'ipxe.efi');
    assert.equal(summary[0]!.detail['count'], 47);
    assert.deepEqual(summary[0]!.detail['statuses'], { '200': 47 });
  } finally {
    await app.close();
  }
});

test('burst 0 turns the summaries off: every fetch is an event', async () => {
  const events = new EventBus();
  const seen: BootEvent[] = [];
  events.subscribe((e) => seen.push(e));
  const app = createHttpApp({ logger: silentLogger(), events, resolver: new FileResolver({ root }), repeats: { burst: 0 }, misses: { burst: 0 } });
  for (let i = 0; i < 40; i++) await app.inject({ url: i % 2 === 0 ? '/ipxe.efi' : '/missing' });
  await app.close();
  assert.equal(seen.filter((e) => e.kind === 'file').length, 40);
  assert.equal(seen.filter((e) => e.kind === 'file-repeats' || e.kind === 'file-misses').length, 0);
});
