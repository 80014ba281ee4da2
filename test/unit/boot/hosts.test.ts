// One host record per machine: found by MAC, UUID or lease IP across stages, created once even
// when the first sightings of a machine arrive together, in one process or from two servers.
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { openStore } from '../../../src/store/index.ts';
import type { Store } from '../../../src/store/index.ts';
import { silentLogger } from '../../../src/log/logger.ts';
import { HostDirectory } from '../../../src/boot/hosts.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'bh-hosts-'));
let n = 0;
let store: Store;
after(() => rmSync(dir, { recursive: true, force: true }));

async function fresh(): Promise<Store> {
  const s = await openStore(`sqlite:${path.join(dir, `h${++n}.db`)}`, { logger: silentLogger() });
  await s.migrate();
  return s;
}

const MAC = '52:54:00:12:34:56';
const MAC2 = '52:54:00:12:34:57';
const UUID = '4c4c4544-0000-1111-2222-333344445555';

describe('host directory', () => {
  beforeEach(async () => {
    store = await fresh();
  });
  after(async () => store?.close());

  it('finds the same record by MAC, by UUID and by lease IP across stages', async () => {
    const d = new HostDirectory({ store, logger: silentLogger() });
    const first = await d.identify({ mac: MAC, uuid: UUID, arch: 'bios', create: true });
    assert.ok(first);
    assert.equal(first.state, 'new');
    assert.equal((await d.identify({ uuid: UUID, create: true }))?.id, first.id);
    // A second NIC of the same machine (same SMBIOS UUID) joins the record.
    const second = await d.identify({ mac: MAC2, uuid: UUID, create: true });
    assert.equal(second?.id, first.id);
    assert.deepEqual(second?.macs, [MAC, MAC2]);
    // The lease IP leads to the record through the lease's MAC.
    await store.leases.put({ ip: '198.18.0.100', subnet: '198.18.0.0/24', clientKey: `mac:${MAC}`, mac: MAC, state: 'bound', expiresAt: Date.now() + 60_000, dhcpServerId: '198.18.0.1' });
    assert.equal((await d.identify({ ip: '198.18.0.100', create: true }))?.id, first.id);
    assert.equal((await store.hosts.list()).length, 1);
    // The snapshot answers synchronously too.
    assert.equal(d.byMac(MAC2)?.id, first.id);
    assert.equal(d.byUuid(UUID)?.id, first.id);
    assert.equal(d.byIp('198.18.0.100')?.id, first.id);
  });

  it('a new MAC seen from an IP another host used is a new machine, not that host (shared or reused IPs)', async () => {
    const d = new HostDirectory({ store, logger: silentLogger() });
    const a = await d.identify({ mac: MAC, ip: '198.18.0.7', create: true });
    const b = await d.identify({ mac: MAC2, ip: '198.18.0.7', create: true });
    assert.notEqual(a?.id, b?.id);
    assert.deepEqual(a?.macs, [MAC]);
    // With no MAC or UUID at all, the IP still finds the last host seen there.
    assert.equal((await d.identify({ ip: '198.18.0.7', create: true }))?.id, b?.id);
  });

  it('does not create a record when told not to, and refreshes from the store', async () => {
    const d = new HostDirectory({ store, logger: silentLogger() });
    assert.equal(await d.identify({ mac: MAC, create: false }), undefined);
    assert.equal((await store.hosts.list()).length, 0);
    const h = await store.hosts.create({ macs: [MAC], state: 'active' });
    assert.equal(d.byMac(MAC), undefined);
    await d.refresh();
    assert.equal(d.byMac(MAC)?.id, h.id);
  });

  it('records an unknown machine as pending under register, and promotes a new one', async () => {
    const d = new HostDirectory({ store, logger: silentLogger() });
    assert.equal((await d.identify({ mac: MAC, create: true, state: 'pending' }))?.state, 'pending');
    await d.identify({ mac: MAC2, create: true });
    assert.equal((await d.identify({ mac: MAC2, create: true, promoteToPending: true }))?.state, 'pending');
  });

  it('100 concurrent first sightings of one machine (MAC, UUID, both) create exactly one record', async () => {
    const d = new HostDirectory({ store, logger: silentLogger() });
    const sightings = Array.from({ length: 100 }, (_, i) => (i % 3 === 0 ? { mac: MAC, uuid: UUID } : i % 3 === 1 ? { mac: MAC } : { mac: MAC, uuid: UUID, ip: '198.18.0.9' }));
    const hosts = await Promise.all(sightings.map((s) => d.identify({ ...s, create: true })));
    assert.equal(new Set(hosts.map((h) => h?.id)).size, 1);
    const all = await store.hosts.list();
    assert.equal(all.length, 1);
    assert.equal(all[0]!.uuid, UUID);
  });

  it('two servers sharing one store (no shared lock) still make one record per machine', async () => {
    const a = new HostDirectory({ store, logger: silentLogger() });
    const b = new HostDirectory({ store, logger: silentLogger() });
    const macs = Array.from({ length: 20 }, (_, i) => `52:54:00:00:01:${i.toString(16).padStart(2, '0')}`);
    const results = await Promise.all(macs.flatMap((mac) => [a.identify({ mac, create: true }), b.identify({ mac, create: true }), a.identify({ mac, create: true })]));
    assert.ok(results.every((h) => h !== undefined));
    const all = await store.hosts.list();
    assert.equal(all.length, macs.length);
    for (const mac of macs) assert.equal(new Set(results.filter((h) => h!.macs.includes(mac)).map((h) => h!.id)).size, 1, mac);
  });

  it('bounds the records a flood of random MACs can create', async () => {
    const clock = { t: 1_000_000 };
    const d = new HostDirectory({ store, logger: silentLogger(), now: () => clock.t, maxNewPerMinute: 5 });
    const made = await Promise.all(Array.from({ length: 12 }, (_, i) => d.identify({ mac: `02:00:00:00:00:${i.toString(16).padStart(2, '0')}`, create: true })));
    assert.equal(made.filter((h) => h !== undefined).length, 5);
    clock.t += 60_000;
    assert.ok(await d.identify({ mac: '02:00:00:00:01:00', create: true }));
  });
});

describe('never duplicates (property)', () => {
  let s: Store;
  before(async () => {
    s = await fresh();
  });
  after(async () => s.close());

  it('any interleaving of sightings that carry the UUID gives one record per machine', async () => {
    // Machines with one or two MACs; every sighting carries the UUID, and one MAC or none.
    const machine = fc.record({ macs: fc.uniqueArray(fc.integer({ min: 0, max: 0xffff }), { minLength: 1, maxLength: 2 }) });
    let round = 0;
    await fc.assert(fc.asyncProperty(fc.array(machine, { minLength: 1, maxLength: 4 }), fc.array(fc.tuple(fc.nat(), fc.nat(), fc.boolean()), { minLength: 1, maxLength: 20 }), async (machines, picks) => {
      round++;
      for (const h of await s.hosts.list()) await s.hosts.delete(h.id);
      const d = new HostDirectory({ store: s, logger: silentLogger() });
      const mk = (m: number, k: number) => `52:54:${round.toString(16).padStart(2, '0').slice(-2)}:${m.toString(16).padStart(2, '0')}:${(machines[m]!.macs[k]! >> 8).toString(16).padStart(2, '0')}:${(machines[m]!.macs[k]! & 255).toString(16).padStart(2, '0')}`;
      const uuid = (m: number) => `00000000-0000-0000-0000-${(round * 16 + m).toString(16).padStart(12, '0')}`;
      const seen = new Set<number>();
      await Promise.all(picks.map(([mi, ki, withMac]) => {
        const m = mi % machines.length;
        seen.add(m);
        const mac = withMac ? mk(m, ki % machines[m]!.macs.length) : undefined;
        return d.identify({ mac, uuid: uuid(m), create: true });
      }));
      const all = await s.hosts.list();
      // A machine only ever sighted by UUID has no MAC to create a record with.
      assert.ok(all.length <= seen.size);
      assert.equal(new Set(all.map((h) => h.uuid)).size, all.length);
      for (const h of all) for (const mac of h.macs) assert.equal(all.filter((x) => x.macs.includes(mac)).length, 1);
    }), { numRuns: 25 });
  });
});
