// SECURITY.md §2.2 (D01–D35) and §2.3 (P01–P04): each hostile input, fed as bytes to handle(),
// gets what the table says: dropped (no reply, a counter, a rate-limited log line) or answered.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import fc from 'fast-check';
import { decodeDhcp } from '../../../src/protocol/dhcp/packet.ts';
import { OPT, hostName, messageType } from '../../../src/protocol/dhcp/options.ts';
import { EventBus } from '../../../src/events/bus.ts';
import type { BootEvent } from '../../../src/events/bus.ts';
import { DhcpServer } from '../../../src/dhcp/server.ts';
import type { DhcpReply, DhcpRequestMeta } from '../../../src/dhcp/server.ts';
import { MemoryLeaseRepository } from '../../../src/store/index.ts';
import { captureLogger, clients, config, fullConfig, meta4011, meta67, opt, request } from './helpers.ts';

const MAC = [0x52, 0x54, 0, 0xcc, 0, 1];

/** A raw BOOTREQUEST: header fields, cookie, then the given option octets (no END added). */
function raw(o: { op?: number; htype?: number; hlen?: number; hops?: number; flags?: number; giaddr?: number[]; chaddr?: number[]; xid?: number; cookie?: number[]; opts?: number[]; file?: number[]; sname?: number[] } = {}): Buffer {
  const b = Buffer.alloc(240 + (o.opts?.length ?? 0));
  b[0] = o.op ?? 1;
  b[1] = o.htype ?? 1;
  b[2] = o.hlen ?? 6;
  b[3] = o.hops ?? 0;
  b.writeUInt32BE(o.xid ?? 0xabcd, 4);
  b.writeUInt16BE(o.flags ?? 0, 10);
  b.set(o.giaddr ?? [0, 0, 0, 0], 24);
  b.set(o.chaddr ?? MAC, 28);
  if (o.sname) b.set(o.sname, 44);
  if (o.file) b.set(o.file, 108);
  b.set(o.cookie ?? [99, 130, 83, 99], 236);
  if (o.opts) b.set(o.opts, 240);
  return b;
}
const DISCOVER = [53, 1, 1];
const END = [255];

interface Rig {
  server: DhcpServer;
  logs: Record<string, unknown>[];
  events: BootEvent[];
  store: MemoryLeaseRepository;
  send(buf: Uint8Array, meta?: DhcpRequestMeta): Promise<DhcpReply[]>;
}

async function rig(cfg = fullConfig({ boot: {} })): Promise<Rig> {
  const { logger, logs } = captureLogger();
  const bus = new EventBus();
  const events: BootEvent[] = [];
  bus.subscribe((e) => events.push(e));
  const store = new MemoryLeaseRepository();
  const server = await DhcpServer.create({ config: cfg, leases: store, logger, events: bus, now: () => 1_800_000_000_000 });
  return { server, logs, events, store, send: (buf, meta = meta67) => server.handle(buf, meta) };
}

function dropped(c: Record<string, number>): number {
  return Object.entries(c).filter(([k]) => k.startsWith('dropped.')).reduce((a, [, v]) => a + v, 0);
}

const dropCases: [string, Buffer, string, DhcpRequestMeta?][] = [
  ['D01 empty datagram', Buffer.alloc(0), 'truncated'],
  ['D02 one octet', Buffer.of(1), 'truncated'],
  ['D03 235 octets', raw().subarray(0, 235), 'truncated'],
  ['D04 BOOTP without cookie', raw().subarray(0, 236), 'no_cookie'],
  ['D05 bad cookie with option 53', raw({ cookie: [1, 2, 3, 4], opts: [...DISCOVER, ...END] }), 'bad_cookie'],
  ['D06 op = BOOTREPLY', raw({ op: 2, opts: [...DISCOVER, ...END] }), 'not_a_request'],
  ['D07 hlen 17', raw({ hlen: 17, opts: [...DISCOVER, ...END] }), 'bad_hlen'],
  ['D08 hlen 255', raw({ hlen: 255, opts: [...DISCOVER, ...END] }), 'bad_hlen'],
  ['D09 htype 0 with hlen 6', raw({ htype: 0, opts: [...DISCOVER, ...END] }), 'bad_hlen'],
  ['D10 option overruns the packet, 53 after it', raw({ opts: [12, 200, 65, 65, ...DISCOVER] }), 'bad_option'],
  ['D11 option 53 of length 0', raw({ opts: [53, 0, ...END] }), 'bad_message_type'],
  ['D12 message type 200', raw({ opts: [53, 1, 200, ...END] }), 'bad_message_type'],
  ['D13 option 53 twice', raw({ opts: [53, 1, 1, 53, 1, 3, ...END] }), 'duplicate_message_type'],
  ['no option 53 at all', raw({ opts: [12, 1, 65, ...END] }), 'bad_message_type'],
  ['D27 giaddr not an allow-listed relay', raw({ giaddr: [198, 19, 200, 1], opts: [...DISCOVER, ...END] }), 'relay_not_allowed'],
  ['D28 giaddr 127.0.0.1', raw({ giaddr: [127, 0, 0, 1], opts: [...DISCOVER, ...END] }), 'bad_giaddr'],
  ['D28 giaddr 224.0.0.1', raw({ giaddr: [224, 0, 0, 1], opts: [...DISCOVER, ...END] }), 'bad_giaddr'],
  ['D28 giaddr 255.255.255.255', raw({ giaddr: [255, 255, 255, 255], opts: [...DISCOVER, ...END] }), 'bad_giaddr'],
  ['D28 giaddr 0.0.0.1', raw({ giaddr: [0, 0, 0, 1], opts: [...DISCOVER, ...END] }), 'bad_giaddr'],
  ['D29 hops 17', raw({ hops: 17, opts: [...DISCOVER, ...END] }), 'too_many_hops'],
  ['D34 all-zero chaddr, xid 0', raw({ chaddr: [0, 0, 0, 0, 0, 0], xid: 0, opts: [...DISCOVER, ...END] }), 'no_chaddr'],
  ['a server message (OFFER) sent to the server', raw({ opts: [53, 1, 2, ...END] }), 'unexpected_message_type'],
  ['P03 empty on 4011', Buffer.alloc(0), 'truncated', meta4011()],
  ['P03 one octet on 4011', Buffer.of(0xff), 'truncated', meta4011()],
  ['P03 100-octet truncated header on 4011', raw().subarray(0, 100), 'truncated', meta4011()],
  ['P02 REQUEST without PXEClient on 4011', request({ type: 3, options: clients.linux() }), 'not_pxe_client', meta4011()],
];

test('dropped cases: no reply, a drop counter with the reason, and a log line', async () => {
  const r = await rig();
  for (const [name, buf, reason, meta] of dropCases) {
    const before = r.server.counters()[`dropped.${reason}`] ?? 0;
    const replies = await r.send(buf, meta);
    assert.deepEqual(replies, [], `${name}: must not be answered`);
    assert.equal(r.server.counters()[`dropped.${reason}`], before + 1, `${name}: counted as dropped.${reason}`);
    assert.ok(r.logs.some((l) => l.code === 'BH_DHCP_DROPPED' && l.reason === reason), `${name}: logged`);
  }
  assert.equal(r.server.counters().received, dropCases.length);
  assert.equal(r.store.writes, 0, 'no dropped packet changes state');
});

test('log lines for drops are rate-limited per reason', async () => {
  const r = await rig();
  for (let i = 0; i < 50; i++) await r.send(Buffer.alloc(0));
  assert.equal(r.server.counters()['dropped.truncated'], 50);
  assert.equal(r.logs.filter((l) => l.reason === 'truncated').length, 5);
});

/** Sends and expects exactly one OFFER that decodes, fits the size limit and carries no 0/52/255 TLV. */
async function offered(r: Rig, buf: Uint8Array, name: string, limit = 576): Promise<DhcpReply> {
  const replies = await r.send(buf);
  assert.equal(replies.length, 1, `${name}: expected an answer; counters ${JSON.stringify(r.server.counters())}`);
  const rep = replies[0]!;
  assert.ok(rep.data.length <= limit, `${name}: reply of ${rep.data.length} octets exceeds ${limit}`);
  const d = decodeDhcp(rep.data);
  assert.ok(d.ok, `${name}: reply must decode`);
  assert.equal(messageType(d.packet), 2, name);
  assert.deepEqual(d.packet.duplicateOptions, [], `${name}: every option once`);
  return rep;
}

test('answered cases D14–D24, D30, D35: tolerated and answered with a well-formed reply', async () => {
  const r = await rig();
  const mac = (i: number): number[] => [2, 0, 0, 0, 0, i];
  const cases: [string, Buffer][] = [
    ['D14 no END option', raw({ chaddr: mac(14), opts: [...DISCOVER] })],
    ['D15 1000 PAD octets before the options', raw({ chaddr: mac(15), opts: [...new Array(1000).fill(0), ...DISCOVER, ...END] })],
    ['D16 garbage after END', raw({ chaddr: mac(16), opts: [...DISCOVER, ...END, 0xde, 0xad, 0xbe, 0xef, 53, 1, 3] })],
    ['D17 overload 3 with a nested 52', raw({ chaddr: mac(17), opts: [52, 1, 3, ...DISCOVER, ...END], file: [52, 1, 3, 12, 2, 65, 66, 255], sname: [255] })],
    ['D18 overloaded file whose last option overruns the field', raw({ chaddr: mac(18), opts: [52, 1, 1, ...DISCOVER, ...END], file: [...new Array(124).fill(0), 12, 10, 65, 65] })],
    ['D19 option 52 value 0', raw({ chaddr: mac(19), opts: [52, 1, 0, ...DISCOVER, ...END] })],
    ['D19 option 52 value 7', raw({ chaddr: mac(20), opts: [52, 1, 7, ...DISCOVER, ...END] })],
    ['D22 option 57 = 100', raw({ chaddr: mac(22), opts: [...DISCOVER, 57, 2, 0, 100, ...END] })],
    ['D23 option 61 of length 0', raw({ chaddr: mac(23), opts: [...DISCOVER, 61, 0, ...END] })],
    ['D24 option 61 of length 1', raw({ chaddr: mac(24), opts: [...DISCOVER, 61, 1, 7, ...END] })],
    ['D24 option 61 of length 255', raw({ chaddr: mac(25), opts: [...DISCOVER, 61, 255, ...new Array(255).fill(0x41), ...END] })],
    ['D30 reserved flag bits set', raw({ chaddr: mac(30), flags: 0x7fff, opts: [...DISCOVER, ...END] })],
    ['D35 END followed by a "length"', raw({ chaddr: mac(35), opts: [...DISCOVER, 255, 4, 53, 1, 3, 0] })],
  ];
  for (const [name, buf] of cases) await offered(r, buf, name);
  // D23: a zero-length client id falls back to chaddr.
  const l23 = (await r.store.listAll()).length;
  assert.equal(l23, 0, 'offers are not written to the store');
  assert.ok(r.server.leases().some((l) => l.mac === '02:00:00:00:00:17' && l.clientKey === 'mac:02:00:00:00:00:17'));
});

test('D20/D21: a 65,507-octet datagram and 100 × option 55 get a bounded reply without 0/52/255 TLVs', async () => {
  const r = await rig(fullConfig({ subnets: [{ subnet: '198.18.0.0/24', pools: [{ start: '198.18.0.100', end: '198.18.0.199' }], options: Array.from({ length: 40 }, (_, i) => ({ code: 180 + i, type: 'string', value: 'x'.repeat(20) })) }] }));
  const big: number[] = [...DISCOVER];
  while (big.length < 65_507 - 240 - 300) big.push(12, 250, ...new Array(250).fill(0x41));
  await offered(r, raw({ opts: [...big, ...END] }), 'D20');
  const prl: number[] = [...DISCOVER];
  const all = Array.from({ length: 255 }, (_, i) => i);
  for (let i = 0; i < 100; i++) prl.push(55, 255, ...all);
  const rep = await offered(r, raw({ chaddr: [2, 0, 0, 0, 0, 0x21], opts: [...prl, ...END] }), 'D21');
  // Walk the reply's main option area: only legal TLVs.
  let i = 240;
  const d = rep.data;
  while (i < d.length && d[i] !== 255) {
    if (d[i] === 0) {
      i++;
      continue;
    }
    if (d[i] === 52) assert.equal(i, 240, 'option 52 only as the overload marker, first');
    i += 2 + d[i + 1]!;
  }
  assert.equal(d[i], 255, 'END present');
  // With option 57 the reply may grow to what the client accepts.
  const r2 = await rig(fullConfig({ subnets: [{ subnet: '198.18.0.0/24', pools: [{ start: '198.18.0.100', end: '198.18.0.199' }], options: Array.from({ length: 40 }, (_, i) => ({ code: 180 + i, type: 'string', value: 'x'.repeat(20) })) }] }));
  const bigger = await offered(r2, raw({ opts: [...DISCOVER, 57, 2, 0x05, 0xc0, ...END] }), 'opt 57 = 1472', 1472);
  assert.ok(bigger.data.length > 576);
});

test('D25: hostile hostnames are sanitised before they reach the lease store, logs and events', async () => {
  const r = await rig();
  const evil = ['', '\0', 'a\nb', '<script>alert(1)</script>', '${x}\nchain http://evil/', 'h'.repeat(255)];
  let n = 0;
  for (const h of evil) {
    n++;
    const hopt = [12, Math.min(h.length, 255), ...Buffer.from(h.slice(0, 255), 'latin1')];
    const chaddr = [2, 0, 0, 0, 0x25, n];
    const off = await r.send(raw({ chaddr, opts: [...DISCOVER, ...hopt, ...END] }));
    assert.equal(off.length, 1, `hostname ${JSON.stringify(h)}: still answered`);
    const ip = `${off[0]!.data[16]}.${off[0]!.data[17]}.${off[0]!.data[18]}.${off[0]!.data[19]}`;
    await r.send(raw({ chaddr, opts: [53, 1, 3, 50, 4, ...ip.split('.').map(Number), 54, 4, 198, 18, 0, 1, ...hopt, ...END] }));
  }
  const rows = await r.store.listAll();
  assert.equal(rows.length, evil.length);
  for (const row of rows) {
    if (row.hostname !== null) assert.match(row.hostname, /^[A-Za-z0-9.-]{1,63}$/);
  }
  const text = JSON.stringify(r.events) + JSON.stringify(r.logs);
  assert.doesNotMatch(text, /<script>|\$\{x\}|\\n/);
  assert.equal(hostName(Buffer.from('<script>')), '-script-');
});

test('D26: malformed PXE options are ignored, never used (97 length 16 / type 1, 93 odd, 94 empty, 60 with NUL)', async () => {
  const r = await rig(config({ mode: 'proxy' }));
  const vc = [...Buffer.from('PXEClient:Arch:00007:UNDI:003000')];
  // 97 of length 16 and of type 1: the reply does not echo them; 93 odd length: arch from the vendor class.
  const bad97 = await r.send(raw({ opts: [...DISCOVER, 60, vc.length, ...vc, 93, 3, 0, 7, 0, 94, 0, 97, 16, ...new Array(16).fill(1), ...END] }));
  assert.equal(bad97.length, 1);
  const p = decodeDhcp(bad97[0]!.data);
  assert.ok(p.ok);
  assert.equal(p.packet.options.has(OPT.CLIENT_UUID), false);
  const type1 = await r.send(raw({ chaddr: [2, 0, 0, 0, 0, 2], opts: [...DISCOVER, 60, vc.length, ...vc, 97, 17, 1, ...new Array(16).fill(1), ...END] }));
  const p1 = decodeDhcp(type1[0]!.data);
  assert.ok(p1.ok);
  assert.equal(p1.packet.options.has(OPT.CLIENT_UUID), false);
  assert.ok(r.events.every((e) => e.detail.uuid === undefined));
  // 60 with an embedded NUL is no vendor class at all: in proxy mode, not a PXE client.
  const nul = [...Buffer.from('PXEClient'), 0, ...Buffer.from(':Arch:00007')];
  assert.deepEqual(await r.send(raw({ chaddr: [2, 0, 0, 0, 0, 3], opts: [...DISCOVER, 60, nul.length, ...nul, ...END] })), []);
  assert.equal(r.server.counters()['ignored.not_pxe_client'], 1);
});

test('D31: a REQUEST naming another server gets no reply', async () => {
  const r = await rig();
  assert.deepEqual(await r.send(request({ type: 3, options: [opt.requestedIp('198.18.0.100'), opt.serverId('198.18.0.99')] })), []);
  assert.equal(r.server.counters()['ignored.other_server'], 1);
});

test('P01/P04: a valid 4011 REQUEST is answered to its source; a 43 whose sub-option overruns does not break it', async () => {
  const r = await rig(config({ mode: 'proxy' }));
  const ok = await r.send(request({ type: 3, options: clients.edk2Pxe() }), meta4011('198.18.0.50', 4011));
  assert.equal(ok.length, 1);
  assert.deepEqual(ok[0]!.to, { address: '198.18.0.50', port: 4011 });
  const overrun = await r.send(request({ type: 3, options: [...clients.edk2Pxe(), [OPT.VENDOR_SPECIFIC, Uint8Array.of(71, 200, 1, 2)]] }), meta4011('198.18.0.50', 4011));
  assert.equal(overrun.length, 1);
  const p = decodeDhcp(overrun[0]!.data);
  assert.ok(p.ok);
  assert.equal(p.packet.options.has(OPT.VENDOR_SPECIFIC), false, 'no boot item echoed from a malformed 43');
  // P03: 300 random octets on 4011 are dropped (or at worst never answered to anything but the source).
  const rnd = Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 197 + 13) & 255));
  const rr = await r.send(rnd, meta4011());
  assert.deepEqual(rr, []);
});

test('property: handle() never throws or rejects, and never addresses a forbidden destination', async () => {
  const r = await rig();
  const proxy = await rig(config({ mode: 'proxy', subnets: [{ subnet: '198.18.0.0/24' }] }));
  const valid = raw({ opts: [...DISCOVER, 60, 9, ...Buffer.from('PXEClient'), 93, 2, 0, 7, ...END] });
  const forbidden = (a: string): boolean => /^(0|127|22[4-9]|2[3-5]\d)\./.test(a) && a !== '255.255.255.255';
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(
        fc.uint8Array({ maxLength: 700 }),
        fc.tuple(fc.array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 12 }), fc.nat(valid.length)).map(([muts, cut]) => {
          const b = Buffer.from(valid);
          for (const [at, v] of muts) b[at] = v;
          return b.subarray(0, Math.max(cut, 200));
        }),
      ),
      fc.constantFrom<DhcpRequestMeta>(meta67, meta4011(), meta4011('198.18.0.7', 68), { ...meta67, source: { address: '198.18.0.9', port: 68 } }),
      async (buf, meta) => {
        for (const target of [r, proxy]) {
          const replies = await target.send(buf, meta);
          for (const rep of replies) {
            if (rep.broadcast) assert.equal(rep.to.address, '255.255.255.255');
            else assert.ok(!forbidden(rep.to.address) && rep.to.address !== '255.255.255.255', `reply to ${rep.to.address}`);
            assert.ok(rep.data.length <= 1472);
          }
        }
      },
    ),
    { numRuns: 400 },
  );
  assert.equal(r.server.counters()['dropped.internal_error'] ?? 0, 0);
  assert.equal(proxy.server.counters()['dropped.internal_error'] ?? 0, 0);
});

test('a failing planner or event listener does not cost the client its answer', async () => {
  const bus = new EventBus();
  bus.subscribe(() => {
    throw new Error('listener bug');
  });
  const server = await DhcpServer.create({ config: fullConfig(), leases: new MemoryLeaseRepository(), logger: pino({ level: 'silent' }), events: bus, planner: { planDhcp: () => { throw new Error('inventory down'); } } });
  const replies = await server.handle(request({ type: 1, options: clients.edk2Pxe() }), meta67);
  assert.equal(replies.length, 1);
  assert.equal(dropped(server.counters()), 0);
});
