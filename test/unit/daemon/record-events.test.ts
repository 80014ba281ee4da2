// serve's boot-event recorder: every event becomes one log line (the line pino itself would write)
// and one store append, with the detail serialised once and shared by both.
import { after, test } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { EventBus } from '../../../src/events/bus.ts';
import type { BootEvent } from '../../../src/events/bus.ts';
import { recordEvents } from '../../../src/daemon/serve.ts';
import { openStore } from '../../../src/store/index.ts';
import type { Store } from '../../../src/store/index.ts';
import { silentLogger } from '../../../src/log/logger.ts';

function capture(): { stream: Writable; lines: () => string[]; writes: () => number } {
  let out = '';
  let writes = 0;
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      out += chunk.toString();
      writes++;
      cb();
    },
  });
  return { stream, lines: () => out.split('\n').filter((l) => l !== ''), writes: () => writes };
}

/** A store that records what it is given: every appended event, and the size of each call. */
function fakeStore(fail?: Error): { store: Pick<Store, 'events'>; appended: { e: BootEvent; json: string | undefined }[]; calls: number[] } {
  const appended: { e: BootEvent; json: string | undefined }[] = [];
  const calls: number[] = [];
  const store: Pick<Store, 'events'> = {
    events: {
      append: async (e: BootEvent, json?: string) => {
        calls.push(1);
        appended.push({ e, json });
        return appended.length;
      },
      appendMany: async (events: readonly BootEvent[], jsons?: readonly (string | undefined)[]) => {
        calls.push(events.length);
        if (fail !== undefined) throw fail;
        events.forEach((e, i) => appended.push({ e, json: jsons?.[i] }));
        return { stored: events.length, refused: [] };
      },
      list: async () => [],
      prune: async () => 0,
    },
  };
  return { store, appended, calls };
}

const settle = (): Promise<void> => new Promise((r) => setImmediate(() => setImmediate(r)));
const TIME = ',"time":"2026-11-26T12:00:00.000Z"';
const options = { level: 'info', base: { pid: 7 }, timestamp: () => TIME };

test('each event is logged as pino would log it and stored with the same detail JSON', async () => {
  const raw = capture();
  const viaPino = capture();
  const { store, appended } = fakeStore();
  const bus = new EventBus();
  recordEvents(bus, store, pino(options, raw.stream));
  const events = [
    { host: '52:54:00:aa:00:01', stage: 'dhcp' as const, kind: 'offer', detail: { ip: '198.18.0.100', why: 'address: free', bootfile: 'http://198.18.0.1:8080/boot.ipxe?mac=${net0/mac}', bootWhy: 'iPXE "quoted" \u2028 line', registration: true } },
    { host: '198.18.0.100:1234', stage: 'tftp' as const, kind: 'transfer-finish', detail: { file: 'undionly.kpxe', bytes: 71_234, nested: { a: [1, null, 'x'] } } },
  ];
  for (const e of events) bus.emit(e);
  await settle();

  const expected = pino(options, viaPino.stream).child({ component: 'events' });
  for (const e of events) expected.info({ host: e.host, stage: e.stage, kind: e.kind, detail: e.detail }, `${e.stage} ${e.kind}`);
  assert.deepEqual(raw.lines().map((l) => JSON.parse(l) as unknown), viaPino.lines().map((l) => JSON.parse(l) as unknown));
  assert.equal(raw.lines().length, 2);
  assert.equal(raw.writes(), 1, "the turn's lines go out in one write");
  assert.deepEqual(appended.map((a) => a.json), events.map((e) => JSON.stringify(e.detail)));
  assert.deepEqual(appended.map((a) => a.e.host), events.map((e) => e.host));
});

test('an unserialisable detail still reaches the log (through pino) and the store; nothing is logged above info', async () => {
  const out = capture();
  const { store, appended } = fakeStore();
  const bus = new EventBus();
  recordEvents(bus, store, pino(options, out.stream));
  const detail: Record<string, unknown> = { ip: '198.18.0.1' };
  detail.self = detail;
  bus.emit({ host: '52:54:00:aa:00:02', stage: 'dhcp', kind: 'ack', detail });
  await settle();
  assert.equal(appended.length, 1);
  assert.equal(appended[0]!.json, undefined);
  const line = JSON.parse(out.lines()[0]!) as { kind: string; detail: { ip: string; self: string } };
  assert.equal(line.kind, 'ack');
  assert.equal(line.detail.ip, '198.18.0.1');

  const quiet = capture();
  const q = fakeStore();
  const bus2 = new EventBus();
  recordEvents(bus2, q.store, pino({ ...options, level: 'warn' }, quiet.stream));
  bus2.emit({ host: '52:54:00:aa:00:03', stage: 'dhcp', kind: 'offer', detail: {} });
  await settle();
  assert.deepEqual(quiet.lines(), []);
  assert.equal(q.appended.length, 1, 'stored even when not logged');
});

// With the real SQLite store: what an operator checks is the log and the timeline (`events.list`).
const dir = mkdtempSync(join(tmpdir(), 'bh-record-events-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let dbs = 0;
async function sqliteStore(): Promise<{ store: Store; url: string }> {
  const url = `sqlite:${join(dir, `e${++dbs}.db`)}`;
  const store = await openStore(url, { logger: silentLogger() });
  await store.migrate();
  return { store, url };
}

const httpEvent = (i: number): Omit<BootEvent, 'time'> => ({ host: `198.18.0.${(i % 200) + 1}`, stage: 'http', kind: i % 3 === 0 ? 'script' : 'file', detail: { path: `/f${i}`, status: 200, n: i } });

test('every event is logged and stored, in order, with one log write per turn', async () => {
  const out = capture();
  const { store, url } = await sqliteStore();
  try {
    const bus = new EventBus();
    recordEvents(bus, store, pino(options, out.stream));
    const turns = [7, 1, 30];
    let n = 0;
    for (const count of turns) {
      for (let i = 0; i < count; i++) bus.emit(httpEvent(n++));
      await settle();
    }
    assert.equal(out.writes(), turns.length);
    const lines = out.lines().map((l) => JSON.parse(l) as { host: string; stage: string; kind: string; detail: { n: number }; msg: string; component: string });
    assert.deepEqual(lines.map((l) => l.detail.n), Array.from({ length: n }, (_, i) => i));
    assert.deepEqual(lines.map((l) => [l.host, l.kind, l.msg, l.component]), Array.from({ length: n }, (_, i) => { const e = httpEvent(i); return [e.host, e.kind, `http ${e.kind}`, 'events']; }));
    await store.close(); // the last turn's write may still wait for its commit: close stores it
    const again = await openStore(url, { logger: silentLogger() });
    try {
      const stored = (await again.events.list({ limit: 1000 })).reverse();
      assert.deepEqual(stored.map(({ host, stage, kind, detail }) => ({ host, stage, kind, detail })), Array.from({ length: n }, (_, i) => httpEvent(i)));
    } finally {
      await again.close();
    }
  } finally {
    await store.close();
  }
});

test('an event the store refuses is logged as a warning; the rest of its batch is stored', async () => {
  const out = capture();
  const { store, url } = await sqliteStore();
  try {
    const bus = new EventBus();
    recordEvents(bus, store, pino(options, out.stream));
    const circular: Record<string, unknown> = { ip: '198.18.0.9' };
    circular.self = circular;
    bus.emit(httpEvent(0));
    bus.emit({ host: 'bad\u0007host', stage: 'dhcp', kind: 'offer', detail: { n: 1 } });
    bus.emit({ host: '52:54:00:aa:00:09', stage: 'dhcp', kind: 'ack', detail: circular });
    bus.emit(httpEvent(3));
    await settle();
    await store.close();
    const again = await openStore(url, { logger: silentLogger() });
    try {
      const stored = (await again.events.list()).reverse();
      assert.deepEqual(stored.map((e) => [e.host, e.kind, e.detail]), [['198.18.0.1', 'script', { path: '/f0', status: 200, n: 0 }], ['52:54:00:aa:00:09', 'ack', { truncated: true }], ['198.18.0.4', 'script', { path: '/f3', status: 200, n: 3 }]]);
    } finally {
      await again.close();
    }
    const lines = out.lines().map((l) => JSON.parse(l) as { level: number; msg: string; host?: string; err?: { message: string } });
    assert.deepEqual(lines.filter((l) => l.level === 30).map((l) => l.msg), ['http script', 'dhcp offer', 'dhcp ack', 'http script'], 'every event is logged, the refused one too');
    const warnings = lines.filter((l) => l.level === 40);
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0]!.msg, 'could not store a boot event');
    assert.equal(warnings[0]!.host, 'bad\u0007host');
    assert.match(warnings[0]!.err?.message ?? '', /host/);
  } finally {
    await store.close();
  }
});

test('a batch the store cannot take is logged with how many events it held', async () => {
  const out = capture();
  const { store, calls } = fakeStore(new Error('disk full'));
  const bus = new EventBus();
  recordEvents(bus, store, pino(options, out.stream));
  for (let i = 0; i < 3; i++) bus.emit(httpEvent(i));
  await settle();
  assert.deepEqual(calls, [3], 'one store call for the turn');
  const warnings = out.lines().map((l) => JSON.parse(l) as { level: number; msg: string; events?: number; err?: { message: string } }).filter((l) => l.level === 40);
  assert.deepEqual(warnings.map((w) => [w.msg, w.events, w.err?.message]), [['could not store 3 boot events', 3, 'disk full']]);
});

test('the returned flush records the queued events at once, so closing the store right after keeps them', async () => {
  const out = capture();
  const { store, url } = await sqliteStore();
  const bus = new EventBus();
  const flush = recordEvents(bus, store, pino(options, out.stream));
  bus.emit(httpEvent(1));
  bus.emit(httpEvent(2));
  // What serve does on shutdown: services emitted while stopping, in this very turn.
  flush();
  await store.close();
  await settle();
  assert.equal(out.lines().length, 2);
  assert.ok(!out.lines().some((l) => l.includes('could not store')), out.lines().join('\n'));
  const again = await openStore(url, { logger: silentLogger() });
  try {
    assert.deepEqual((await again.events.list()).map((e) => e.detail.n), [2, 1]);
  } finally {
    await again.close();
  }
});
