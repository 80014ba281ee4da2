// serve's boot-event recorder: every event becomes one log line (the line pino itself would write)
// and one store append, with the detail serialised once and shared by both.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { EventBus } from '../../../src/events/bus.ts';
import type { BootEvent } from '../../../src/events/bus.ts';
import { recordEvents } from '../../../src/daemon/serve.ts';
import type { Store } from '../../../src/store/index.ts';

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
