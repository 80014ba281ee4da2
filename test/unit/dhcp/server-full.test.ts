import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OPT, ipOption, u32Option, stringOption } from '../../../src/protocol/dhcp/options.ts';
import { MemoryLeaseRepository } from '../../../src/store/index.ts';
import { SERVER, clients, dora, fullConfig, harness, meta67, opt, request } from './helpers.ts';

const MAC = '52:54:00:aa:00:01';

test('DORA: a broadcast client gets an address from the pool with the subnet options, by broadcast', async () => {
  const h = await harness(fullConfig());
  const offer = await h.one(request({ type: 1, mac: MAC, options: clients.linux() }));
  assert.equal(offer.type, 2);
  assert.equal(offer.reply.broadcast, true);
  assert.deepEqual(offer.reply.to, { address: '255.255.255.255', port: 68 });
  assert.match(offer.p.yiaddr, /^198\.18\.0\.1\d\d$/);
  assert.equal(ipOption(offer.p.options.get(OPT.SERVER_ID)), SERVER);
  assert.equal(ipOption(offer.p.options.get(OPT.SUBNET_MASK)), '255.255.255.0');
  assert.equal(ipOption(offer.p.options.get(OPT.ROUTER)), '198.18.0.1');
  assert.equal(ipOption(offer.p.options.get(OPT.DNS_SERVERS)), '198.18.0.53');
  assert.equal(stringOption(offer.p.options.get(OPT.DOMAIN_NAME)), 'lab.test');
  assert.equal(u32Option(offer.p.options.get(OPT.LEASE_TIME)), 600);
  assert.equal(u32Option(offer.p.options.get(OPT.RENEWAL_TIME)), 300);
  assert.equal(u32Option(offer.p.options.get(OPT.REBINDING_TIME)), 525);
  assert.equal(offer.p.file, '', 'a plain DHCP client gets no boot file');

  const ack = await h.one(request({ type: 3, mac: MAC, options: [opt.requestedIp(offer.p.yiaddr), opt.serverId(SERVER)] }));
  assert.equal(ack.type, 5);
  assert.equal(ack.p.yiaddr, offer.p.yiaddr);
  const stored = await h.store.get(offer.p.yiaddr);
  assert.equal(stored?.state, 'bound');
  assert.equal(stored?.mac, MAC);
  assert.equal(stored?.expiresAt, h.clock.t + 600_000);
  assert.deepEqual(h.events.map((e) => [e.stage, e.kind]), [['dhcp', 'offer'], ['dhcp', 'ack']]);
  assert.equal(h.events[1]!.detail.ip, offer.p.yiaddr);
  const c = h.server.counters();
  assert.equal(c.received, 2);
  assert.equal(c.offered, 1);
  assert.equal(c.acked, 1);
});

test('the ACK is sent only once the lease write has resolved, and not at all if it fails', async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const store = new MemoryLeaseRepository();
  const put = store.put.bind(store);
  let durable = false;
  store.put = async (l) => {
    await gate;
    const written = await put(l);
    durable = true;
    return written;
  };
  const h = await harness(fullConfig(), { store });
  const offer = await h.one(request({ type: 1, mac: MAC }));
  let answered = false;
  const pending = h.send(request({ type: 3, mac: MAC, options: [opt.requestedIp(offer.p.yiaddr), opt.serverId(SERVER)] })).then((r) => {
    answered = true;
    assert.equal(durable, true, 'reply produced before the lease was durable');
    return r;
  });
  await new Promise((r) => setImmediate(r));
  assert.equal(answered, false);
  release();
  assert.equal((await pending).length, 1);

  const failing = new MemoryLeaseRepository();
  failing.failWrites = true;
  const h2 = await harness(fullConfig(), { store: failing });
  const o2 = await h2.one(request({ type: 1, mac: MAC }));
  const r2 = await h2.send(request({ type: 3, mac: MAC, options: [opt.requestedIp(o2.p.yiaddr), opt.serverId(SERVER)] }));
  assert.deepEqual(r2, []);
  assert.equal(h2.server.counters()['dropped.store_error'], 1);
  failing.failWrites = false;
  const again = await h2.one(request({ type: 3, mac: MAC, options: [opt.requestedIp(o2.p.yiaddr), opt.serverId(SERVER)] }));
  assert.equal(again.type, 5, 'once the store recovers the same address is ACKed');
  assert.equal(again.p.yiaddr, o2.p.yiaddr);
});

test('a relayed request is answered by unicast to the relay on port 67 from the giaddr subnet', async () => {
  const cfg = fullConfig({
    subnets: [
      { subnet: '198.18.0.0/24', pools: [{ start: '198.18.0.100', end: '198.18.0.199' }] },
      { subnet: '198.18.5.0/24', pools: [{ start: '198.18.5.10', end: '198.18.5.20' }], routers: ['198.18.5.1'] },
    ],
  });
  const h = await harness(cfg);
  const offer = await h.one(request({ type: 1, mac: MAC, giaddr: '198.18.5.1', options: [] }));
  assert.equal(offer.reply.broadcast, false);
  assert.deepEqual(offer.reply.to, { address: '198.18.5.1', port: 67 });
  assert.match(offer.p.yiaddr, /^198\.18\.5\.(1\d|20)$/);
  assert.equal(offer.p.giaddr, '198.18.5.1');
  assert.equal(ipOption(offer.p.options.get(OPT.ROUTER)), '198.18.5.1');
  const ip = await dora(h, '52:54:00:aa:00:02', [], meta67, '198.18.5.1');
  assert.match(ip, /^198\.18\.5\./);
});

test('a relay whose giaddr is in no served subnet, or not on the allow-list, is dropped', async () => {
  const h = await harness(fullConfig());
  assert.deepEqual(await h.send(request({ type: 1, mac: MAC, giaddr: '198.19.9.1' })), []);
  assert.equal(h.server.counters()['dropped.relay_not_allowed'], 1);
  const h2 = await harness(fullConfig({ access: { relays: ['198.18.0.254'] } }));
  assert.deepEqual(await h2.send(request({ type: 1, mac: MAC, giaddr: '198.18.0.2' })), []);
  assert.equal((await h2.one(request({ type: 1, mac: MAC, giaddr: '198.18.0.254' }))).type, 2);
});

test('same client, same address: across DISCOVERs, restarts and boot stages (firmware → iPXE → OS)', async () => {
  const store = new MemoryLeaseRepository();
  const h = await harness(fullConfig(), { store });
  const firmware = await dora(h, MAC, clients.edk2Pxe());
  // iPXE sends client id 01+MAC: the same client as the bare MAC.
  const ipxe = await dora(h, MAC, [...clients.ipxeEfi(), opt.clientId([1, 0x52, 0x54, 0, 0xaa, 0, 1])]);
  assert.equal(ipxe, firmware);
  // A restart: a new server over the same store.
  const h2 = await harness(fullConfig(), { store, clock: h.clock });
  const os = await dora(h2, MAC, [opt.clientId([0xff, 1, 2, 3, 4, 5, 6, 7, 8]), ...clients.linux()]);
  assert.equal(os, firmware, 'the installed OS (with a DUID client id) keeps the address by MAC');
  const again = await dora(h2, MAC, clients.edk2Pxe());
  assert.equal(again, firmware, 'the next PXE boot (no client id) still finds it');
  // A different client id on the same MAC while the first is bound is a different client.
  const other = await dora(h2, MAC, [opt.clientId([0xff, 9, 9, 9, 9])]);
  assert.notEqual(other, firmware);
});

test('INIT-REBOOT, RENEWING and REBINDING follow RFC 2131 §4.3.2', async () => {
  const h = await harness(fullConfig());
  const ip = await dora(h, MAC);
  // INIT-REBOOT: requested IP, no server id, ciaddr 0 → ACK by broadcast.
  const reboot = await h.one(request({ type: 3, mac: MAC, options: [opt.requestedIp(ip)] }));
  assert.equal(reboot.type, 5);
  assert.equal(reboot.p.yiaddr, ip);
  // INIT-REBOOT on the wrong network → NAK by broadcast.
  const wrong = await h.one(request({ type: 3, mac: MAC, options: [opt.requestedIp('198.19.1.5')] }));
  assert.equal(wrong.type, 6);
  assert.equal(wrong.reply.broadcast, true);
  assert.equal(wrong.p.yiaddr, '0.0.0.0');
  // RENEWING: ciaddr set, unicast from the client → ACK unicast to ciaddr, lease extended.
  h.clock.t += 300_000;
  const renew = await h.one(request({ type: 3, mac: MAC, ciaddr: ip }), { ...meta67, source: { address: ip, port: 68 } });
  assert.equal(renew.type, 5);
  assert.deepEqual(renew.reply.to, { address: ip, port: 68 });
  assert.equal(renew.reply.broadcast, false);
  assert.equal(renew.p.ciaddr, ip);
  assert.equal((await h.store.get(ip))?.expiresAt, h.clock.t + 600_000);
  // REBINDING (broadcast, same fields) for an address someone else holds → NAK.
  const otherIp = await dora(h, '52:54:00:aa:00:09');
  const steal = await h.one(request({ type: 3, mac: MAC, ciaddr: otherIp }));
  assert.equal(steal.type, 6);
  assert.equal(steal.reply.broadcast, true, 'a NAK is broadcast, not sent to ciaddr');
});

test('a REQUEST for another server (D31) gets no reply and frees our offer', async () => {
  const h = await harness(fullConfig({ subnets: [{ subnet: '198.18.0.0/24', pools: [{ start: '198.18.0.100', end: '198.18.0.100' }] }] }));
  const offer = await h.one(request({ type: 1, mac: MAC }));
  assert.deepEqual(await h.send(request({ type: 3, mac: MAC, options: [opt.requestedIp(offer.p.yiaddr), opt.serverId('198.18.0.2')] })), []);
  // The only address is free again for another client.
  const o2 = await h.one(request({ type: 1, mac: '52:54:00:aa:00:02' }));
  assert.equal(o2.p.yiaddr, offer.p.yiaddr);
});

test('an offered address is held for its client and never offered to a second one until the hold ends', async () => {
  const h = await harness(fullConfig({ offer_hold: 30, subnets: [{ subnet: '198.18.0.0/24', pools: [{ start: '198.18.0.100', end: '198.18.0.101' }] }] }));
  const a = await h.one(request({ type: 1, mac: '52:54:00:00:00:0a' }));
  const b = await h.one(request({ type: 1, mac: '52:54:00:00:00:0b' }));
  assert.notEqual(a.p.yiaddr, b.p.yiaddr);
  assert.deepEqual(await h.send(request({ type: 1, mac: '52:54:00:00:00:0c' })), [], 'pool of two is held by two offers');
  assert.equal(h.server.counters()['ignored.pool_exhausted'], 1);
  const again = await h.one(request({ type: 1, mac: '52:54:00:00:00:0a' }));
  assert.equal(again.p.yiaddr, a.p.yiaddr, 'a repeated DISCOVER gets the same offer');
  h.clock.t += 31_000;
  const c = await h.one(request({ type: 1, mac: '52:54:00:00:00:0c' }));
  assert.ok([a.p.yiaddr, b.p.yiaddr].includes(c.p.yiaddr), 'after the hold an address is reused');
});

test('DECLINE quarantines the address; the client gets another; RELEASE frees it but keeps it for the client', async () => {
  const h = await harness(fullConfig({ decline_quarantine: 600, subnets: [{ subnet: '198.18.0.0/24', pools: [{ start: '198.18.0.100', end: '198.18.0.102' }] }] }));
  const ip = await dora(h, MAC);
  assert.deepEqual(await h.send(request({ type: 4, mac: MAC, options: [opt.requestedIp(ip), opt.serverId(SERVER)] })), []);
  assert.equal((await h.store.get(ip))?.state, 'declined');
  const next = await dora(h, MAC);
  assert.notEqual(next, ip);
  const other = await dora(h, '52:54:00:aa:00:07');
  assert.notEqual(other, ip, 'a quarantined address is given to nobody');
  h.clock.t += 601_000;
  await h.server.reclaimExpired();
  const third = await dora(h, '52:54:00:aa:00:08');
  assert.equal(third, ip, 'after the quarantine the address returns to the pool');

  // RELEASE: state released, same address on the next DORA.
  assert.deepEqual(await h.send(request({ type: 7, mac: MAC, ciaddr: next, options: [opt.serverId(SERVER)] }), { ...meta67, source: { address: next, port: 68 } }), []);
  assert.equal((await h.store.get(next))?.state, 'released');
  assert.equal(await dora(h, MAC), next);
  assert.equal(h.server.counters().declined, 1);
  assert.equal(h.server.counters().released, 1);
});

test('RELEASE or DECLINE from a spoofed MAC does not touch the owner\'s lease (D32)', async () => {
  const h = await harness(fullConfig());
  const ip = await dora(h, MAC);
  await h.send(request({ type: 7, mac: '52:54:00:66:66:66', ciaddr: ip, options: [opt.serverId(SERVER)] }));
  await h.send(request({ type: 4, mac: '52:54:00:66:66:66', options: [opt.requestedIp(ip), opt.serverId(SERVER)] }));
  assert.equal((await h.store.get(ip))?.state, 'bound');
  assert.equal(h.server.counters()['ignored.release_not_owner'], 1);
  assert.equal(h.server.counters()['ignored.decline_not_owner'], 1);
});

test('INFORM is answered only to its source, with options and no lease (D33)', async () => {
  const h = await harness(fullConfig());
  const r = await h.one(request({ type: 8, mac: MAC, ciaddr: '198.18.0.77' }), { ...meta67, source: { address: '198.18.0.50', port: 68 } });
  assert.equal(r.type, 5);
  assert.deepEqual(r.reply.to, { address: '198.18.0.50', port: 68 });
  assert.equal(r.p.yiaddr, '0.0.0.0');
  assert.equal(r.p.options.has(OPT.LEASE_TIME), false);
  assert.equal(ipOption(r.p.options.get(OPT.ROUTER)), '198.18.0.1');
  // From a source we never send to: no reply.
  assert.deepEqual(await h.send(request({ type: 8, mac: MAC, ciaddr: '198.18.0.77' }), { ...meta67, source: { address: '127.0.0.1', port: 68 } }), []);
});

test('reservations: fixed address and hostname, never given to others, even under a DISCOVER flood', async () => {
  const cfg = fullConfig({
    subnets: [
      {
        subnet: '198.18.0.0/24',
        pools: [{ start: '198.18.0.100', end: '198.18.0.109' }],
        reservations: [{ mac: '52:54:00:12:34:56', ip: '198.18.0.105', hostname: 'node01', dns_servers: ['198.18.0.9'] }],
      },
    ],
  });
  const h = await harness(cfg);
  const seen = new Set<string>();
  for (let i = 0; i < 50; i++) {
    const mac = `02:00:00:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`;
    const rs = await h.send(request({ type: 1, mac, xid: i }));
    for (const r of rs) {
      const ip = `${r.data[16]}.${r.data[17]}.${r.data[18]}.${r.data[19]}`;
      assert.ok(!seen.has(ip), `address ${ip} offered twice`);
      seen.add(ip);
    }
  }
  assert.equal(seen.size, 9, 'nine dynamic addresses, the reserved one excluded');
  assert.ok(!seen.has('198.18.0.105'));
  assert.equal(h.server.counters()['ignored.pool_exhausted'], 41);
  const offer = await h.one(request({ type: 1, mac: '52:54:00:12:34:56' }));
  assert.equal(offer.p.yiaddr, '198.18.0.105');
  assert.equal(stringOption(offer.p.options.get(OPT.HOST_NAME)), 'node01');
  assert.equal(ipOption(offer.p.options.get(OPT.DNS_SERVERS)), '198.18.0.9', 'per-host options override the subnet');
  // The reserved client asking for a pool address is NAKed towards its reservation.
  const nak = await h.one(request({ type: 3, mac: '52:54:00:12:34:56', options: [opt.requestedIp('198.18.0.101')] }));
  assert.equal(nak.type, 6);
  const pex = h.events.filter((e) => e.kind === 'ignored' && e.detail.reason === 'pool_exhausted');
  assert.equal(pex.length, 41, 'each turned-away client gets an event');
});

test('expired leases are reclaimed and their addresses reused', async () => {
  const h = await harness(fullConfig({ subnets: [{ subnet: '198.18.0.0/24', lease_time: 60, pools: [{ start: '198.18.0.100', end: '198.18.0.100' }] }] }));
  const ip = await dora(h, MAC);
  assert.deepEqual(await h.send(request({ type: 1, mac: '52:54:00:aa:00:02' })), []);
  h.clock.t += 61_000;
  assert.equal(await h.server.reclaimExpired(), 1);
  assert.equal((await h.store.get(ip))?.state, 'expired');
  assert.equal(await dora(h, '52:54:00:aa:00:02'), ip);
});

test('extra options and per-subnet options come from the config', async () => {
  const h = await harness(fullConfig({
    subnets: [{ subnet: '198.18.0.0/24', pools: [{ start: '198.18.0.100', end: '198.18.0.110' }], ntp_servers: ['198.18.0.123'], options: [{ code: 150, type: 'ip', value: '198.18.0.1' }, { code: 26, type: 'u16', value: 1400 }, { code: 224, type: 'hex', value: '01:02:0a' }] }],
  }));
  const o = await h.one(request({ type: 1, mac: MAC }));
  assert.equal(ipOption(o.p.options.get(OPT.NTP_SERVERS)), '198.18.0.123');
  assert.equal(ipOption(o.p.options.get(150)), '198.18.0.1');
  assert.deepEqual([...o.p.options.get(26)!], [0x05, 0x78]);
  assert.deepEqual([...o.p.options.get(224)!], [1, 2, 10]);
});

test('relay agent information (option 82) is echoed to the relay, never to a direct client', async () => {
  const h = await harness(fullConfig());
  const rai = Uint8Array.of(1, 3, 0x65, 0x74, 0x31, 2, 2, 0xab, 0xcd);
  const relayed = await h.one(request({ type: 1, mac: MAC, giaddr: '198.18.0.254', options: [[82, rai]] }));
  assert.deepEqual([...relayed.p.options.get(82)!], [...rai]);
  const direct = await h.one(request({ type: 1, mac: '52:54:00:aa:00:02', options: [[82, rai]] }));
  assert.equal(direct.p.options.has(82), false);
});

test('a burst from one MAC is cut at max_requests_per_client per second and counted', async () => {
  const h = await harness(fullConfig({ max_requests_per_client: 5 }));
  let answered = 0;
  for (let i = 0; i < 12; i++) answered += (await h.send(request({ type: 1, mac: MAC, xid: i }))).length;
  assert.equal(answered, 5);
  assert.equal(h.server.counters()['dropped.rate_limited'], 7);
  h.clock.t += 1000;
  assert.equal((await h.send(request({ type: 1, mac: MAC }))).length, 1, 'the next second is answered again');
  assert.equal((await h.send(request({ type: 1, mac: '52:54:00:aa:00:03' }))).length, 1, 'other clients are not affected');
});
