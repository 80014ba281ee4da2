// Reserved addresses follow the inventory: a host given an `ip` gets it at its next DISCOVER,
// moving or removing it frees the old address, bound leases are left alone, and an address in no
// subnet is logged and ignored. A real store, host directory, engine and DHCP server (no sockets).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { Store } from '../../../src/store/index.ts';
import { silentLogger } from '../../../src/log/logger.ts';
import { EventBus } from '../../../src/events/bus.ts';
import { HostDirectory } from '../../../src/boot/hosts.ts';
import { BootEngine } from '../../../src/boot/engine.ts';
import { syncReservations } from '../../../src/dhcp/reservations.ts';
import type { LeaseSpace } from '../../../src/dhcp/leases.ts';
import { parseCidr } from '../../../src/util/ipv4.ts';
import { clients, dora, fullConfig, harness, opt, request } from './helpers.ts';
import type { Harness } from './helpers.ts';
import { freshStore } from '../inventory/helpers.ts';

const A = '52:54:00:cc:00:01';
const B = '52:54:00:cc:00:02';

interface Rig {
  store: Store;
  directory: HostDirectory;
  h: Harness;
  logs: Record<string, unknown>[];
  /** What bootherd serve does after every snapshot refresh. */
  refresh(): Promise<void>;
}

async function rig(dhcp: Record<string, unknown> = {}): Promise<Rig> {
  const store = await freshStore();
  const directory = new HostDirectory({ store, logger: silentLogger() });
  const engine = new BootEngine({ directory, events: new EventBus(), logger: silentLogger() });
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({ write(chunk: Buffer, _enc, cb) { for (const line of chunk.toString().split('\n')) if (line) logs.push(JSON.parse(line) as Record<string, unknown>); cb(); } });
  const h = await harness(fullConfig(dhcp), { planner: engine, logger: pino({ level: 'info' }, sink) });
  const refresh = async () => {
    await directory.refresh();
    h.server.syncReservations(directory.reservations());
  };
  await refresh();
  return { store, directory, h, logs, refresh };
}

const offer = async (h: Harness, mac: string, requested?: string) => (await h.one(request({ type: 1, mac, options: [...clients.edk2Pxe(), ...(requested ? [opt.requestedIp(requested)] : [])] }))).p;

describe('reservations from the inventory', () => {
  it('a host given an ip gets it at its next DISCOVER, with its own boot file; removing the ip frees the address', async () => {
    const r = await rig();
    const host = await r.store.hosts.create({ macs: [A], hostname: 'a1', state: 'active', ip: '198.18.0.150', bootfile: 'shimx64.efi' });
    assert.notEqual((await offer(r.h, A)).yiaddr, '198.18.0.150', 'before the refresh: not reserved yet');
    r.h.clock.t += 31_000; // past the offer hold
    await r.refresh();
    const o = await offer(r.h, A);
    assert.equal(o.yiaddr, '198.18.0.150');
    assert.equal(o.file, 'shimx64.efi');
    assert.match(String(r.h.events.filter((e) => e.kind === 'offer').at(-1)?.detail['bootWhy']), /boot file from host a1/);
    // Reserved (inside the pool): never given to another client, even when it asks for it.
    assert.notEqual((await offer(r.h, B, '198.18.0.150')).yiaddr, '198.18.0.150');

    await r.store.hosts.update(host.id, { ip: null });
    await r.refresh();
    r.h.clock.t += 31_000;
    assert.equal((await offer(r.h, '52:54:00:cc:00:03', '198.18.0.150')).yiaddr, '198.18.0.150', 'freed: another client may have it');
    assert.ok(r.logs.some((l) => l['msg'] === 'dhcp reservations follow the inventory' && l['removed'] === 1));
  });

  it('moving the ip: the next DISCOVER gets the new address; the bound lease on the old one is left alone', async () => {
    const r = await rig();
    const host = await r.store.hosts.create({ macs: [A], state: 'active', ip: '198.18.0.20' });
    await r.refresh();
    assert.equal(await dora(r.h, A), '198.18.0.20');
    await r.store.hosts.update(host.id, { ip: '198.18.0.21' });
    await r.refresh();
    const old = r.h.server.leases().find((l) => l.ip === '198.18.0.20');
    assert.deepEqual([old?.state, old?.mac], ['bound', A], 'the bound lease is untouched');
    assert.equal((await offer(r.h, A)).yiaddr, '198.18.0.21');
    assert.equal(await dora(r.h, A), '198.18.0.21');
  });

  it('a host loaded from a config reservation (state new, with an ip) is known to DHCP: answered under unknown_clients ignore, with its boot file', async () => {
    const r = await rig({ unknown_clients: 'ignore' });
    await r.store.hosts.create({ macs: [A], state: 'new', ip: '198.18.0.30', bootfile: 'shimx64.efi' });
    await r.store.hosts.create({ macs: [B], state: 'new' });
    await r.refresh();
    const o = await offer(r.h, A);
    assert.deepEqual([o.yiaddr, o.file], ['198.18.0.30', 'shimx64.efi']);
    assert.deepEqual(await r.h.send(request({ type: 1, mac: B, options: clients.edk2Pxe() })), [], 'a new record without DHCP settings stays unknown');
  });

  it('a group\'s boot files and DHCP options in the store reach the reply through the snapshot; the host\'s own options win', async () => {
    const r = await rig();
    const g = await r.store.groups.create({ name: 'workers', bootfiles: { 'uefi-x64': 'grubx64.efi' }, dhcpOptions: { ntp_servers: ['198.18.0.123'], options: [{ code: 150, type: 'ip', value: '198.18.0.9' }] } });
    await r.store.hosts.create({ macs: [A], hostname: 'w1', state: 'active', groupId: g.id, dhcpOptions: { options: [{ code: 150, type: 'ip', value: '198.18.0.10' }] } });
    await r.refresh();
    const o = await offer(r.h, A);
    assert.equal(o.file, 'grubx64.efi');
    assert.deepEqual([...(o.options.get(42) ?? [])], [198, 18, 0, 123]);
    assert.deepEqual([...(o.options.get(150) ?? [])], [198, 18, 0, 10]);
    assert.match(String(r.h.events.filter((e) => e.kind === 'offer').at(-1)?.detail['bootWhy']), /boot file of group workers for uefi-x64/);
  });

  it('an address in no subnet is logged (BH_DHCP_RESERVATION_OUTSIDE) and ignored; the host gets a pool address', async () => {
    const r = await rig();
    await r.store.hosts.create({ macs: [A], hostname: 'far', state: 'active', ip: '10.9.8.7' });
    await r.refresh();
    const warn = r.logs.find((l) => l['code'] === 'BH_DHCP_RESERVATION_OUTSIDE');
    assert.deepEqual([warn?.['ip'], warn?.['host']], ['10.9.8.7', 'far']);
    assert.match((await offer(r.h, A)).yiaddr, /^198\.18\.0\.1\d\d$/);
  });
});

describe('syncReservations', () => {
  const space = (cidr: string): LeaseSpace => ({ key: cidr, cidr: parseCidr(cidr)!, pools: [], reserved: new Map(), reservationByMac: new Map() });

  it('adds, moves and removes, each subnet holding its own addresses; the network and broadcast addresses are no host\'s', () => {
    const s1 = space('198.18.0.0/24');
    const s2 = space('198.18.1.0/24');
    const first = syncReservations([s1, s2], [{ mac: A, ip: '198.18.0.10', host: 'a' }, { mac: B, ip: '198.18.1.10', host: 'b' }, { mac: '52:54:00:cc:00:03', ip: '198.18.1.255', host: 'c' }]);
    assert.deepEqual([first.added, first.moved, first.removed, first.outside.map((w) => w.host)], [2, 0, 0, ['c']]);
    assert.deepEqual([[...s1.reservationByMac], [...s2.reserved]], [[[A, 0xc612000a]], [[0xc612010a, B]]]);
    // A moves to the other subnet, B's address changes, nobody else.
    const second = syncReservations([s1, s2], [{ mac: A, ip: '198.18.1.11', host: 'a' }, { mac: B, ip: '198.18.1.12', host: 'b' }]);
    assert.deepEqual([second.added, second.moved, second.removed], [1, 1, 1]);
    assert.deepEqual([[...s1.reserved], [...s1.reservationByMac]], [[], []]);
    assert.deepEqual(new Map(s2.reserved), new Map([[0xc612010b, A], [0xc612010c, B]]));
    const clash = syncReservations([s1, s2], [{ mac: A, ip: '198.18.1.11', host: 'a' }, { mac: B, ip: '198.18.1.11', host: 'b' }]);
    assert.deepEqual(clash.clashes.map((w) => w.host), ['b']);
    assert.deepEqual([...s2.reservationByMac], [[A, 0xc612010b]]);
  });
});
