// The DHCP service glue with loopback sockets in place of interface sockets: which sockets it
// opens, the meta it hands the server, where replies go, that a failing handler does not stop it,
// and that stop() lets in-flight requests finish before closing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { bindDhcpSockets, startDhcpService } from '../../../src/dhcp/service.ts';
import type { DhcpHandler } from '../../../src/dhcp/service.ts';
import type { DhcpReply, DhcpRequestMeta } from '../../../src/dhcp/server.ts';
import type { InterfaceSocketOptions } from '../../../src/net/socket.ts';
import { silentLogger } from '../../../src/log/logger.ts';

async function loopbackFactory(): Promise<{ open: (o: InterfaceSocketOptions) => Promise<dgram.Socket>; opened: { o: InterfaceSocketOptions; s: dgram.Socket }[] }> {
  const opened: { o: InterfaceSocketOptions; s: dgram.Socket }[] = [];
  return {
    opened,
    open: async (o) => {
      const s = dgram.createSocket('udp4');
      await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
      opened.push({ o, s });
      return s;
    },
  };
}

async function client(): Promise<dgram.Socket> {
  const c = dgram.createSocket('udp4');
  await new Promise<void>((r) => c.bind(0, '127.0.0.1', r));
  return c;
}

function portOf(opened: { o: InterfaceSocketOptions; s: dgram.Socket }[], iface: string, port: number): number {
  const e = opened.find((x) => x.o.interface === iface && x.o.port === port);
  assert.ok(e, `no socket for ${iface}:${port}`);
  return e.s.address().port;
}

const ADDRS: Record<string, string> = { lan0: '198.18.9.1', lan1: '198.18.10.1' };

test('opens 67 per interface plus 4011 in proxy mode, and passes interface, address, port and source to the server', async () => {
  const f = await loopbackFactory();
  const seen: DhcpRequestMeta[] = [];
  const server: DhcpHandler = {
    handle: async (buf, meta) => {
      seen.push(meta);
      return [{ data: Buffer.concat([Buffer.from('re:'), Buffer.from(buf)]), to: { address: meta.source.address, port: meta.source.port }, broadcast: false }];
    },
  };
  const svc = await startDhcpService({ interfaces: [{ name: 'lan0', mode: 'proxy' }, { name: 'lan1', mode: 'full' }], server, logger: silentLogger(), openSocket: f.open, interfaceAddress: (n) => ADDRS[n]! });
  const c = await client();
  try {
    assert.deepEqual(f.opened.map((x) => `${x.o.interface}:${x.o.port}`), ['lan0:67', 'lan0:4011', 'lan1:67']);
    assert.deepEqual(svc.listening(), [
      { interface: 'lan0', port: 67, address: '198.18.9.1' },
      { interface: 'lan0', port: 4011, address: '198.18.9.1' },
      { interface: 'lan1', port: 67, address: '198.18.10.1' },
    ]);
    const p4011 = portOf(f.opened, 'lan0', 4011);
    c.send('hello', p4011, '127.0.0.1');
    const [msg, rinfo] = (await once(c, 'message')) as [Buffer, dgram.RemoteInfo];
    assert.equal(msg.toString(), 're:hello');
    assert.equal(rinfo.port, p4011, 'the reply comes from the socket the request arrived on');
    assert.deepEqual(seen, [{ interface: 'lan0', localAddress: '198.18.9.1', port: 4011, source: { address: '127.0.0.1', port: c.address().port } }]);
    c.send('two', portOf(f.opened, 'lan1', 67), '127.0.0.1');
    const [, r2] = (await once(c, 'message')) as [Buffer, dgram.RemoteInfo];
    assert.equal(r2.port, portOf(f.opened, 'lan1', 67));
    assert.equal(seen[1]?.interface, 'lan1');
    assert.equal(seen[1]?.port, 67);
    const k = svc.counters();
    assert.equal(k.received, 2);
    assert.equal(k['received:lan0:4011'], 1);
    assert.equal(k['received:lan1:67'], 1);
    await waitUntil(() => svc.counters().sent === 2);
  } finally {
    c.close();
    await svc.stop();
  }
});

test('every reply is sent, to its own destination; a handler that rejects costs one request, not the service', async () => {
  const f = await loopbackFactory();
  const a = await client();
  const b = await client();
  let calls = 0;
  const server: DhcpHandler = {
    handle: async (buf) => {
      calls++;
      if (Buffer.from(buf).toString() === 'boom') throw new Error('bug');
      const replies: DhcpReply[] = [a, b].map((s, i) => ({ data: Buffer.from(`r${i}`), to: { address: '127.0.0.1', port: s.address().port }, broadcast: false }));
      return replies;
    },
  };
  const svc = await startDhcpService({ interfaces: [{ name: 'lan0', mode: 'full' }], server, logger: silentLogger(), openSocket: f.open, interfaceAddress: (n) => ADDRS[n]! });
  try {
    const p67 = portOf(f.opened, 'lan0', 67);
    a.send('boom', p67, '127.0.0.1');
    await waitUntil(() => svc.counters().handler_errors === 1);
    const ga = once(a, 'message');
    const gb = once(b, 'message');
    a.send('ok', p67, '127.0.0.1');
    assert.equal(((await ga)[0] as Buffer).toString(), 'r0');
    assert.equal(((await gb)[0] as Buffer).toString(), 'r1');
    assert.equal(calls, 2);
  } finally {
    a.close();
    b.close();
    await svc.stop();
  }
});

test('stop() waits for a request in flight, sends its reply, then closes every socket', async () => {
  const f = await loopbackFactory();
  const c = await client();
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let entered!: () => void;
  const inHandler = new Promise<void>((r) => (entered = r));
  const server: DhcpHandler = {
    handle: async (_buf, meta) => {
      entered();
      await gate; // e.g. a durable lease write
      return [{ data: Buffer.from('ack'), to: meta.source, broadcast: false }];
    },
  };
  const svc = await startDhcpService({ interfaces: [{ name: 'lan0', mode: 'proxy' }], server, logger: silentLogger(), openSocket: f.open, interfaceAddress: (n) => ADDRS[n]! });
  c.send('req', portOf(f.opened, 'lan0', 67), '127.0.0.1');
  await inHandler;
  const reply = once(c, 'message');
  const stopped = svc.stop();
  release();
  assert.equal(((await reply)[0] as Buffer).toString(), 'ack');
  await stopped;
  for (const { s } of f.opened) assert.throws(() => s.address(), /Not running/);
  c.close();
  await svc.stop(); // idempotent
});

test('a socket that cannot be opened fails the start and closes the ones already open', async () => {
  const f = await loopbackFactory();
  const open = async (o: InterfaceSocketOptions): Promise<dgram.Socket> => {
    if (o.port === 4011) throw Object.assign(new Error('BH_NET_IN_USE: port 4011 busy'), { code: 'BH_NET_IN_USE' });
    return f.open(o);
  };
  const server: DhcpHandler = { handle: async () => [] };
  await assert.rejects(startDhcpService({ interfaces: [{ name: 'lan0', mode: 'proxy' }], server, logger: silentLogger(), openSocket: open, interfaceAddress: (n) => ADDRS[n]! }), { code: 'BH_NET_IN_USE' });
  assert.equal(f.opened.length, 1);
  assert.throws(() => f.opened[0]!.s.address(), /Not running/);
  await assert.rejects(
    startDhcpService({ interfaces: [{ name: 'lan0', mode: 'full' }, { name: 'lan0', mode: 'proxy' }], server, logger: silentLogger(), openSocket: f.open, interfaceAddress: (n) => ADDRS[n]! }),
    /listed twice/,
  );
});

test('bind first, serve later: abort() closes sockets that never served; start() runs once', async () => {
  const f = await loopbackFactory();
  const bound = await bindDhcpSockets({ interfaces: [{ name: 'lan0', mode: 'full' }], openSocket: f.open, interfaceAddress: (n) => ADDRS[n]! });
  assert.deepEqual(bound.listening(), [{ interface: 'lan0', port: 67, address: '198.18.9.1' }]);
  await bound.abort();
  assert.throws(() => f.opened[0]!.s.address(), /Not running/);

  const g = await loopbackFactory();
  const b2 = await bindDhcpSockets({ interfaces: [{ name: 'lan1', mode: 'full' }], openSocket: g.open, interfaceAddress: (n) => ADDRS[n]! });
  const svc = b2.start({ server: { handle: async () => [] }, logger: silentLogger() });
  assert.throws(() => b2.start({ server: { handle: async () => [] }, logger: silentLogger() }), /twice/);
  await b2.abort(); // no effect once serving
  assert.equal(g.opened[0]!.s.address().port > 0, true);
  await svc.stop();
});

test('expired leases are reclaimed periodically while serving, and never after stop()', async () => {
  const f = await loopbackFactory();
  let runs = 0;
  const server: DhcpHandler = {
    handle: async () => [],
    reclaimExpired: async () => {
      runs++;
      return runs === 1 ? 3 : 0;
    },
  };
  const svc = await startDhcpService({ interfaces: [{ name: 'lan0', mode: 'full' }], server, logger: silentLogger(), openSocket: f.open, interfaceAddress: (n) => ADDRS[n]!, reclaimIntervalMs: 5 });
  await waitUntil(() => runs >= 2);
  assert.equal(svc.counters().reclaimed, 3);
  await svc.stop();
  const after = runs;
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(runs, after, 'no reclaim after stop()');
});

test('a reply that cannot be sent is counted as a send error; the service keeps serving and stops cleanly', async () => {
  const f = await loopbackFactory();
  const c = await client();
  const server: DhcpHandler = {
    handle: async (buf, meta) => [{ data: Buffer.from('r'), to: { address: '127.0.0.1', port: Buffer.from(buf).toString() === 'bad' ? 0 : meta.source.port }, broadcast: false }],
  };
  const svc = await startDhcpService({ interfaces: [{ name: 'lan0', mode: 'full' }], server, logger: silentLogger(), openSocket: f.open, interfaceAddress: (n) => ADDRS[n]! });
  try {
    const port = portOf(f.opened, 'lan0', 67);
    c.send('bad', port, '127.0.0.1');
    await waitUntil(() => svc.counters().send_errors === 1);
    const got = once(c, 'message');
    c.send('good', port, '127.0.0.1');
    assert.equal(((await got)[0] as Buffer).toString(), 'r');
    await waitUntil(() => svc.counters().sent === 1);
  } finally {
    c.close();
    await svc.stop();
  }
});

/** A minimal DHCP datagram of the given message type (header, cookie, option 53, END), tagged in xid. */
function dhcpOf(type: number, tag: number): Buffer {
  const b = Buffer.alloc(244);
  b[0] = 1;
  b.writeUInt32BE(tag, 4);
  b.set([99, 130, 83, 99], 236);
  b.set([53, 1, type, 255], 240);
  return b;
}

test('under load, queued REQUESTs are handled before queued DISCOVERs, and the oldest DISCOVERs are given up past the bound', async () => {
  const f = await loopbackFactory();
  const order: string[] = [];
  const server: DhcpHandler = {
    handle: async (buf) => {
      const b = Buffer.from(buf);
      order.push(`${b[242] === 3 ? 'R' : 'D'}${b.readUInt32BE(4)}`);
      return [];
    },
  };
  // One datagram per turn, at most 3 waiting DISCOVERs: the burst below arrives in one read.
  const svc = await startDhcpService({ interfaces: [{ name: 'lan0', mode: 'full' }], server, logger: silentLogger(), openSocket: f.open, interfaceAddress: (n) => ADDRS[n]!, perTurn: 1, intake: { maxNew: 3 } });
  const c = await client();
  try {
    const port = portOf(f.opened, 'lan0', 67);
    for (let i = 1; i <= 5; i++) c.send(dhcpOf(1, i), port, '127.0.0.1');
    c.send(dhcpOf(3, 6), port, '127.0.0.1');
    await waitUntil(() => svc.counters().received === 6 && order.length === 4);
    assert.deepEqual(order, ['R6', 'D3', 'D4', 'D5']);
    assert.equal(svc.counters().dropped_overload, 2);
  } finally {
    c.close();
    await svc.stop();
  }
});

async function waitUntil(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(cond(), 'condition not reached');
}
