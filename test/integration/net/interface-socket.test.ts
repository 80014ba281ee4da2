// Per-interface sockets in namespaces: a broadcast is received only by the socket of the link it
// arrived on, and a broadcast reply leaves on that link with that link's source address, in a
// namespace without a default route.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { NetLab, canUseNetns } from '../../helpers/netns.ts';
import { UdpAgent } from '../../helpers/udp-agent-driver.ts';

const skip = canUseNetns() ? false : 'needs root to create network namespaces';

describe('openInterfaceSocket in namespaces', { skip }, () => {
  let lab: NetLab;
  let srv: UdpAgent;
  let cliA: UdpAgent;
  let cliB: UdpAgent;

  before(async () => {
    lab = new NetLab();
    const s = lab.ns('srv');
    const a = lab.ns('cla');
    const b = lab.ns('clb');
    lab.veth({ ns: s, ifname: 'lan0', addr: '198.18.1.1/24' }, { ns: a, ifname: 'c0', addr: '198.18.1.10/24' });
    lab.veth({ ns: s, ifname: 'lan1', addr: '198.18.2.1/24' }, { ns: b, ifname: 'c0', addr: '198.18.2.10/24' });
    [srv, cliA, cliB] = await Promise.all([UdpAgent.start(lab, s), UdpAgent.start(lab, a), UdpAgent.start(lab, b)]);
    for (const [agent, id, iface, port] of [
      [srv, 'lan0', 'lan0', 67],
      [srv, 'lan1', 'lan1', 67],
      [cliA, 'c', 'c0', 68],
      [cliB, 'c', 'c0', 68],
    ] as const) {
      const r = await agent.open(id, iface, port);
      assert.equal(r.ev, 'opened', `open ${iface}:${port}: ${JSON.stringify(r)}`);
    }
  });

  after(async () => {
    for (const a of [srv, cliA, cliB]) a?.stop();
    await lab?.destroy();
  });

  test('a broadcast arriving on link A is received only by the socket of link A', async () => {
    assert.equal((await cliA.sendTo('c', '255.255.255.255', 67, Buffer.from('from-A'))).ev, 'sent');
    const got = await srv.waitFor((e) => e.ev === 'recv' && e.id === 'lan0');
    assert.equal(Buffer.from(String(got.hex), 'hex').toString(), 'from-A');
    assert.equal(got.from, '198.18.1.10');
    // A later datagram on link B reaches lan1's socket, and lan1 never saw A's.
    assert.equal((await cliB.sendTo('c', '255.255.255.255', 67, Buffer.from('from-B'))).ev, 'sent');
    await srv.waitFor((e) => e.ev === 'recv' && e.id === 'lan1');
    const payloads = (id: string): string[] => srv.received(id).map((e) => Buffer.from(String(e.hex), 'hex').toString());
    assert.deepEqual(payloads('lan0'), ['from-A']);
    assert.deepEqual(payloads('lan1'), ['from-B']);
  });

  test('a reply to 255.255.255.255:68 leaves on its own link with that link\'s address, without a default route', async () => {
    assert.equal(lab.exec(`${lab.prefix}-srv`, 'ip', ['route', 'show', 'default']).trim(), '', 'the server namespace has no default route');
    const sent = await srv.sendTo('lan0', '255.255.255.255', 68, Buffer.from('reply-A'));
    assert.equal(sent.ev, 'sent', JSON.stringify(sent));
    const got = await cliA.waitFor((e) => e.ev === 'recv' && e.id === 'c');
    assert.equal(got.from, '198.18.1.1');
    assert.equal(got.fromPort, 67);
    assert.equal(Buffer.from(String(got.hex), 'hex').toString(), 'reply-A');
    assert.equal((await srv.sendTo('lan1', '255.255.255.255', 68, Buffer.from('reply-B'))).ev, 'sent');
    const gotB = await cliB.waitFor((e) => e.ev === 'recv' && e.id === 'c');
    assert.equal(gotB.from, '198.18.2.1');
    assert.deepEqual(cliB.received('c').map((e) => Buffer.from(String(e.hex), 'hex').toString()), ['reply-B']);
    assert.deepEqual(cliA.received('c').map((e) => Buffer.from(String(e.hex), 'hex').toString()), ['reply-A']);
  });

  test('for contrast: a socket bound to 0.0.0.0 without a device cannot broadcast there (ENETUNREACH)', async () => {
    assert.equal((await srv.openPlain('plain', 0)).ev, 'opened');
    const r = await srv.sendTo('plain', '255.255.255.255', 68, Buffer.from('x'));
    assert.equal(r.ev, 'send-error');
    assert.equal(r.code, 'ENETUNREACH');
  });

  test('coded errors: missing interface, port held by another server', async () => {
    const missing = await srv.open('missing', 'nosuch0', 67);
    assert.equal(missing.code, 'BH_NET_NO_INTERFACE');
    assert.match(String(missing.message), /nosuch0/);
    const twice = await srv.open('twice', 'lan0', 67);
    assert.equal(twice.code, 'BH_NET_IN_USE');
    // Another DHCP server holding 0.0.0.0:4011 on all interfaces (as dnsmasq does) blocks us too.
    const other = await UdpAgent.start(lab, `${lab.prefix}-srv`);
    try {
      assert.equal((await other.openPlain('wild', 4011)).ev, 'opened');
      const blocked = await srv.open('blocked', 'lan1', 4011);
      assert.equal(blocked.code, 'BH_NET_IN_USE');
      assert.match(String(blocked.message), /another DHCP server/);
    } finally {
      other.stop();
    }
  });

  test('coded error: an unprivileged user cannot bind port 67', async () => {
    const agent = await UdpAgent.start(lab, `${lab.prefix}-srv`, ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all']);
    try {
      const r = await agent.open('p', 'lan0', 67);
      assert.equal(r.code, 'BH_NET_PERMISSION', JSON.stringify(r));
      assert.match(String(r.message), /CAP_NET_BIND_SERVICE and CAP_NET_RAW/);
    } finally {
      agent.stop();
    }
  });
});
