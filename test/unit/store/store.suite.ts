// The storage test suite, run against every backend (sqlite.test.ts, integration/store/postgres.test.ts).
// Each test gets a fresh, empty database from the factory.
import { after, afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MIGRATIONS, isStoreError, openStore } from '../../../src/store/index.ts';
import type { Migration, OpenStoreOptions, Store } from '../../../src/store/index.ts';
import { silentLogger } from '../../../src/log/logger.ts';
import type { BootEvent } from '../../../src/events/bus.ts';
import { lease, rejectsWith, runLeaseSuite } from './leases.suite.ts';

export interface StoreFactory {
  backend: 'sqlite' | 'postgres';
  /** URL of a new, empty database. */
  freshUrl(): Promise<string>;
  /** Whether two Store objects in one process may migrate the same database at once. */
  concurrentStoresInOneProcess: boolean;
}

export function runStoreSuite(factory: StoreFactory): void {
  const open: Store[] = [];
  let clock = 1_700_000_000_000;
  const baseOpts = (): OpenStoreOptions => ({ logger: silentLogger(), now: () => clock });

  async function openAt(url: string, extra: Partial<OpenStoreOptions> = {}): Promise<Store> {
    const s = await openStore(url, { ...baseOpts(), ...extra });
    open.push(s);
    return s;
  }
  async function fresh(): Promise<{ store: Store; url: string }> {
    const url = await factory.freshUrl();
    const store = await openAt(url);
    await store.migrate();
    return { store, url };
  }

  afterEach(async () => {
    await Promise.all(open.splice(0).map((s) => s.close()));
  });
  after(async () => {
    await Promise.all(open.splice(0).map((s) => s.close()));
  });

  describe(`store on ${factory.backend}: migrations`, () => {
    it('reports an empty database, applies every migration once, then has nothing pending', async () => {
      const store = await openAt(await factory.freshUrl());
      const before = await store.status();
      assert.equal(before.backend, factory.backend);
      assert.equal(before.current, 0);
      assert.equal(before.latest, MIGRATIONS.at(-1)?.version);
      assert.deepEqual(before.pending, MIGRATIONS.map((m) => `${String(m.version).padStart(4, '0')}_${m.name}`));

      const progress: Array<[number, number, string]> = [];
      const first = await store.migrate((done, total, name) => progress.push([done, total, name]));
      assert.deepEqual(first.applied, before.pending);
      assert.deepEqual(progress.map((p) => p[2]), before.pending);
      assert.deepEqual(progress.map((p) => p[0]), before.pending.map((_, i) => i + 1));
      assert.ok(progress.every((p) => p[1] === before.pending.length));

      const second = await store.migrate();
      assert.deepEqual(second.applied, []);
      const afterStatus = await store.status();
      assert.equal(afterStatus.current, afterStatus.latest);
      assert.deepEqual(afterStatus.pending, []);
      assert.deepEqual(afterStatus.unknown, []);
    });

    it('rolls a failing migration back completely, so it can run again once fixed', async () => {
      const url = await factory.freshUrl();
      const broken: Migration = {
        version: 2,
        name: 'extra',
        async up({ db }) {
          await db.schema.createTable('extra').addColumn('x', 'text').execute();
          throw new Error('disk on fire');
        },
      };
      const s1 = await openAt(url, { migrations: [...MIGRATIONS.slice(0, 1), broken] });
      await assert.rejects(s1.migrate(), rejectsWith('BH_STORE_MIGRATE'));
      const st = await s1.status();
      assert.equal(st.current, 1);
      assert.deepEqual(st.pending, ['0002_extra']);
      const fixed: Migration = { ...broken, async up({ db }) { await db.schema.createTable('extra').addColumn('x', 'text').execute(); } };
      const s2 = await openAt(url, { migrations: [...MIGRATIONS.slice(0, 1), fixed] });
      // Would fail with "table extra already exists" had the broken attempt left it behind.
      assert.deepEqual((await s2.migrate()).applied, ['0002_extra']);
    });

    it('refuses to migrate a database that a newer bootherd migrated (BH_STORE_TOO_NEW)', async () => {
      const url = await factory.freshUrl();
      const future: Migration = { version: 9999, name: 'from_the_future', async up({ db }) { await db.schema.createTable('future').addColumn('x', 'text').execute(); } };
      const newer = await openAt(url, { migrations: [...MIGRATIONS, future] });
      await newer.migrate();
      const older = await openAt(url);
      const st = await older.status();
      assert.equal(st.current, 9999);
      assert.deepEqual(st.unknown, [9999]);
      await assert.rejects(older.migrate(), rejectsWith('BH_STORE_TOO_NEW'));
    });

    it('lets several stores migrate one database at the same time', { skip: factory.concurrentStoresInOneProcess ? false : 'one writer per SQLite file per process' }, async () => {
      const url = await factory.freshUrl();
      const stores = await Promise.all([1, 2, 3, 4].map(() => openAt(url)));
      const results = await Promise.all(stores.map((s) => s.migrate()));
      const applied = results.flatMap((r) => r.applied).sort();
      assert.deepEqual(applied, MIGRATIONS.map((m) => `${String(m.version).padStart(4, '0')}_${m.name}`).sort());
      for (const s of stores) assert.deepEqual((await s.status()).pending, []);
    });

    it('keeps data across close and reopen', async () => {
      const { store, url } = await fresh();
      await store.leases.put(lease(1));
      await store.kv.set('server-id', 'abc');
      await store.close();
      const again = await openAt(url);
      assert.deepEqual((await again.status()).pending, []);
      assert.equal((await again.leases.get(lease(1).ip))?.mac, lease(1).mac);
      assert.equal(await again.kv.get('server-id'), 'abc');
    });
  });

  // The lease tests, on this backend's store.leases with the suite's clock.
  runLeaseSuite(factory.backend, async () => (await fresh()).store.leases, {
    get: () => clock,
    advance: (ms) => {
      clock += ms;
    },
  });

  describe(`store on ${factory.backend}: boot events`, () => {
    it('appends events and lists them newest first, by host, with a limit and paging', async () => {
      const { store } = await fresh();
      const ids: number[] = [];
      for (let i = 0; i < 6; i++) {
        ids.push(await store.events.append({ host: i % 2 === 0 ? 'aa:bb' : 'cc:dd', stage: 'dhcp', kind: `k${i}`, detail: { n: i, nested: { ok: true } }, time: new Date(1000 + i) }));
      }
      assert.deepEqual([...ids].sort((a, b) => a - b), ids);
      const all = await store.events.list();
      assert.deepEqual(all.map((e) => e.kind), ['k5', 'k4', 'k3', 'k2', 'k1', 'k0']);
      assert.deepEqual(all[0], { id: ids[5], host: 'cc:dd', stage: 'dhcp', kind: 'k5', detail: { n: 5, nested: { ok: true } }, time: new Date(1005) });
      assert.deepEqual((await store.events.list({ host: 'aa:bb' })).map((e) => e.kind), ['k4', 'k2', 'k0']);
      assert.deepEqual((await store.events.list({ limit: 2 })).map((e) => e.kind), ['k5', 'k4']);
      assert.deepEqual((await store.events.list({ limit: 2, beforeId: ids[4] })).map((e) => e.kind), ['k3', 'k2']);
    });

    it('keeps an event whose detail is too large, without the detail', async () => {
      const { store } = await fresh();
      await store.events.append({ host: 'h', stage: 'tftp', kind: 'big', detail: { blob: 'x'.repeat(100_000) }, time: new Date(5) });
      const [e] = await store.events.list();
      assert.equal(e?.kind, 'big');
      assert.deepEqual(e?.detail, { truncated: true });
    });

    it('stores a detail the caller already serialised as given, and an oversize one as truncated', async () => {
      const { store } = await fresh();
      const detail = { ip: '198.18.0.7', why: 'address: free' };
      await store.events.append({ host: 'aa:bb', stage: 'dhcp', kind: 'offer', detail, time: new Date(7) }, JSON.stringify(detail));
      await store.events.append({ host: 'aa:bb', stage: 'dhcp', kind: 'big', detail: {}, time: new Date(8) }, JSON.stringify({ blob: 'x'.repeat(100_000) }));
      const [big, offer] = await store.events.list();
      assert.deepEqual(offer?.detail, detail);
      assert.deepEqual(big?.detail, { truncated: true });
    });

    it('appendMany stores a batch in order, with increasing ids, after earlier appends and before later ones', async () => {
      const { store } = await fresh();
      const first = await store.events.append({ host: 'aa:bb', stage: 'dhcp', kind: 'before', detail: {}, time: new Date(1) });
      // 150 events: more than one multi-row statement of every size.
      const batch = Array.from({ length: 150 }, (_, i) => ({ host: `02:00:00:00:00:${(i % 256).toString(16).padStart(2, '0')}`, stage: 'http' as const, kind: `k${i}`, detail: { n: i, path: `/f${i}` }, time: new Date(100 + i) }));
      const r = await store.events.appendMany(batch, batch.map((e) => JSON.stringify(e.detail)));
      assert.deepEqual(r, { stored: 150, refused: [] });
      const last = await store.events.append({ host: 'aa:bb', stage: 'dhcp', kind: 'after', detail: {}, time: new Date(2) });
      const all = (await store.events.list({ limit: 1000 })).reverse();
      assert.deepEqual(all.map((e) => e.kind), ['before', ...batch.map((e) => e.kind), 'after']);
      const ids = all.map((e) => e.id);
      assert.ok(ids.every((id, i) => i === 0 || id > ids[i - 1]!), `ids must increase: ${ids.join(',')}`);
      assert.equal(ids[0], first);
      assert.equal(ids.at(-1), last);
      assert.deepEqual(all.slice(1, -1).map(({ id: _, ...e }) => e), batch);
    });

    it('appendMany keeps the other events of a batch when one has an oversize or circular detail, and refuses only invalid ones', async () => {
      const { store } = await fresh();
      const circular: Record<string, unknown> = { a: 1 };
      circular.self = circular;
      const big = { blob: 'x'.repeat(100_000) };
      const ev = (kind: string, detail: Record<string, unknown>, over: Partial<BootEvent> = {}): BootEvent => ({ host: 'aa:bb', stage: 'tftp', kind, detail, time: new Date(50), ...over });
      const batch = [
        ev('ok1', { n: 1 }),
        ev('circular', circular),
        ev('big-given', {}),
        ev('bad-host', { n: 2 }, { host: 'a\nb' }),
        ev('big-object', big),
        ev('bad-time', { n: 3 }, { time: new Date(Number.NaN) }),
        ev('ok2', { n: 4 }),
      ];
      const jsons = [JSON.stringify({ n: 1 }), undefined, JSON.stringify(big), JSON.stringify({ n: 2 }), undefined, JSON.stringify({ n: 3 }), JSON.stringify({ n: 4 })];
      const r = await store.events.appendMany(batch, jsons);
      assert.equal(r.stored, 5);
      assert.deepEqual(r.refused.map((x) => x.index), [3, 5]);
      for (const x of r.refused) assert.ok(isStoreError(x.error, 'BH_STORE_INVALID'), String(x.error));
      const stored = (await store.events.list()).reverse();
      assert.deepEqual(stored.map((e) => [e.kind, e.detail]), [['ok1', { n: 1 }], ['circular', { truncated: true }], ['big-given', { truncated: true }], ['big-object', { truncated: true }], ['ok2', { n: 4 }]]);
      assert.deepEqual(await store.events.appendMany([]), { stored: 0, refused: [] });
    });

    it('close() stores a batch that was still waiting for its commit', async () => {
      const { store, url } = await fresh();
      const pending = store.events.appendMany([{ host: 'aa:bb', stage: 'http', kind: 'last', detail: { n: 1 }, time: new Date(9) }]);
      await store.close();
      assert.equal((await pending).stored, 1);
      const again = await openAt(url);
      assert.deepEqual((await again.events.list()).map((e) => e.kind), ['last']);
    });

    it('prunes events older than a time', async () => {
      const { store } = await fresh();
      for (const t of [10, 20, 30]) await store.events.append({ host: 'h', stage: 'http', kind: 'get', detail: {}, time: new Date(t) });
      assert.equal(await store.events.prune(25), 2);
      assert.deepEqual((await store.events.list()).map((e) => e.time.getTime()), [30]);
    });
  });

  describe(`store on ${factory.backend}: settings`, () => {
    it('gets, sets, replaces and deletes settings', async () => {
      const { store } = await fresh();
      assert.equal(await store.kv.get('server-id'), undefined);
      await store.kv.set('server-id', 'one');
      await store.kv.set('server-id', 'two');
      assert.equal(await store.kv.get('server-id'), 'two');
      assert.equal(await store.kv.delete('server-id'), true);
      assert.equal(await store.kv.get('server-id'), undefined);
      assert.equal(await store.kv.getOrSet('server-id', () => 'first'), 'first');
      assert.equal(await store.kv.getOrSet('server-id', () => 'second'), 'first');
      await assert.rejects(store.kv.set('Bad Key', 'x'), rejectsWith('BH_STORE_INVALID'));
    });
  });

  describe(`store on ${factory.backend}: inventory`, () => {
    it('creates, finds, updates and deletes profiles; names are unique', async () => {
      const { store } = await fresh();
      const p = await store.profiles.create({ name: 'debian-12', spec: { kernel: 'vmlinuz', args: ['quiet'] } });
      assert.deepEqual(await store.profiles.get(p.id), p);
      assert.deepEqual(await store.profiles.getByName('debian-12'), p);
      await assert.rejects(store.profiles.create({ name: 'debian-12', spec: {} }), rejectsWith('BH_STORE_CONFLICT'));
      const u = await store.profiles.update(p.id, { spec: { kernel: 'other' } });
      assert.deepEqual(u, { id: p.id, name: 'debian-12', spec: { kernel: 'other' } });
      assert.deepEqual((await store.profiles.list()).map((x) => x.name), ['debian-12']);
      await assert.rejects(store.profiles.update('nope', { name: 'x' }), rejectsWith('BH_STORE_NOT_FOUND'));
      assert.equal(await store.profiles.delete(p.id), true);
      assert.equal(await store.profiles.get(p.id), undefined);
    });

    it('links groups to profiles, refuses unknown profiles, and unlinks on profile delete', async () => {
      const { store } = await fresh();
      const p = await store.profiles.create({ name: 'rescue', spec: {} });
      const g = await store.groups.create({ name: 'lab', profileId: p.id, labels: { rack: 'r1' } });
      const noBoot = { bootfiles: null, ipxeScript: null, dhcpOptions: null };
      assert.deepEqual(await store.groups.getByName('lab'), { id: g.id, name: 'lab', profileId: p.id, labels: { rack: 'r1' }, ...noBoot });
      await assert.rejects(store.groups.create({ name: 'other', profileId: 'missing' }), rejectsWith('BH_STORE_NOT_FOUND'));
      await assert.rejects(store.groups.create({ name: 'lab' }), rejectsWith('BH_STORE_CONFLICT'));
      await store.profiles.delete(p.id);
      assert.equal((await store.groups.get(g.id))?.profileId, null);
      assert.deepEqual(await store.groups.update(g.id, { labels: { rack: 'r2' } }), { id: g.id, name: 'lab', profileId: null, labels: { rack: 'r2' }, ...noBoot });
      assert.equal(await store.groups.delete(g.id), true);
      assert.deepEqual(await store.groups.list(), []);
    });

    it('stores hosts with their MACs, finds them by MAC or UUID, and keeps MACs unique', async () => {
      const { store } = await fresh();
      const g = await store.groups.create({ name: 'lab' });
      const h = await store.hosts.create({ hostname: 'node1', uuid: 'A1B2C3D4-0000-1111-2222-333344445555', arch: 'x64-uefi', groupId: g.id, macs: ['AA:BB:CC:00:00:02', 'aa:bb:cc:00:00:01'], labels: { role: 'web' } });
      assert.deepEqual(h.macs, ['aa:bb:cc:00:00:01', 'aa:bb:cc:00:00:02']);
      assert.equal(h.uuid, 'a1b2c3d4-0000-1111-2222-333344445555');
      assert.equal(h.state, 'new');
      assert.equal(h.createdAt, clock);
      assert.deepEqual(await store.hosts.findByMac('AA:BB:CC:00:00:01'), h);
      assert.deepEqual(await store.hosts.findByUuid('a1b2c3d4-0000-1111-2222-333344445555'), h);
      await assert.rejects(store.hosts.create({ hostname: 'node2', macs: ['aa:bb:cc:00:00:02'] }), rejectsWith('BH_STORE_CONFLICT'));
      assert.equal((await store.hosts.list()).length, 1, 'a failed create leaves no half host behind');
      await assert.rejects(store.hosts.create({ groupId: 'missing' }), rejectsWith('BH_STORE_NOT_FOUND'));

      clock += 5;
      const u = await store.hosts.update(h.id, { state: 'installing', macs: ['aa:bb:cc:00:00:09'] });
      assert.equal(u.state, 'installing');
      assert.equal(u.updatedAt, clock);
      assert.deepEqual(u.macs, ['aa:bb:cc:00:00:09']);
      assert.equal(await store.hosts.findByMac('aa:bb:cc:00:00:01'), undefined);
      await assert.rejects(store.hosts.update('missing', { state: 'x' }), rejectsWith('BH_STORE_NOT_FOUND'));
      await assert.rejects(store.hosts.create({ macs: ['zz'] }), rejectsWith('BH_STORE_INVALID'));

      assert.equal(await store.hosts.delete(h.id), true);
      assert.equal(await store.hosts.findByMac('aa:bb:cc:00:00:09'), undefined);
      assert.deepEqual(await store.hosts.list(), []);
    });
  });

  describe(`store on ${factory.backend}: boot settings (migration 0002)`, () => {
    it('keeps hosts and groups written before 0002, which then have no boot settings', async () => {
      const url = await factory.freshUrl();
      // Rows as bootherd wrote them at schema version 1 (its repositories now write the new columns).
      const g = { id: 'g-old', name: 'old', profile_id: null, labels: '{"a":"b"}' };
      const h = { id: 'h-old', hostname: 'old1', uuid: null, arch: null, group_id: g.id, profile_id: null, state: 'active', labels: '{}', created_at: 1, updated_at: 1 };
      const withRows: Migration = { ...MIGRATIONS[0]!, async up(ctx) {
        await MIGRATIONS[0]!.up(ctx);
        await ctx.db.insertInto('groups').values(g).execute();
        await ctx.db.insertInto('hosts').values(h).execute();
        await ctx.db.insertInto('host_macs').values({ mac: 'aa:bb:cc:00:01:01', host_id: h.id }).execute();
      } };
      const v1 = await openAt(url, { migrations: [withRows] });
      await v1.migrate();
      await v1.close();
      const v2 = await openAt(url);
      assert.deepEqual((await v2.migrate()).applied, ['0002_boot_settings']);
      const host = await v2.hosts.get(h.id);
      assert.deepEqual([host?.hostname, host?.macs, host?.groupId, host?.ip, host?.bootfile, host?.ipxeScript, host?.dhcpOptions], ['old1', ['aa:bb:cc:00:01:01'], g.id, null, null, null, null]);
      assert.deepEqual(await v2.groups.get(g.id), { id: g.id, name: 'old', profileId: null, labels: { a: 'b' }, bootfiles: null, ipxeScript: null, dhcpOptions: null });
    });

    it('stores a host\'s address, boot file, iPXE script and DHCP options; an address belongs to one host', async () => {
      const { store } = await fresh();
      const dhcp = { routers: ['198.18.0.1'], options: [{ code: 150, type: 'ip', value: '198.18.0.2' }] };
      const h = await store.hosts.create({ macs: ['aa:bb:cc:00:02:01'], ip: '198.18.0.10', bootfile: 'pxelinux.0', ipxeScript: 'hosts/a.ipxe?mac=${net0/mac}', dhcpOptions: dhcp });
      assert.deepEqual([h.ip, h.bootfile, h.ipxeScript, h.dhcpOptions], ['198.18.0.10', 'pxelinux.0', 'hosts/a.ipxe?mac=${net0/mac}', dhcp]);
      assert.deepEqual(await store.hosts.findByMac('aa:bb:cc:00:02:01'), h);
      // Many hosts without an address; never two with the same one.
      await store.hosts.create({ macs: ['aa:bb:cc:00:02:02'] });
      await store.hosts.create({ macs: ['aa:bb:cc:00:02:03'] });
      await assert.rejects(store.hosts.create({ macs: ['aa:bb:cc:00:02:04'], ip: '198.18.0.10' }), rejectsWith('BH_STORE_CONFLICT'));
      const other = await store.hosts.create({ macs: ['aa:bb:cc:00:02:05'], ip: '198.18.0.11' });
      await assert.rejects(store.hosts.update(other.id, { ip: '198.18.0.10' }), rejectsWith('BH_STORE_CONFLICT'));
      // Moving the address: free it first, then it can be taken.
      const freed = await store.hosts.update(h.id, { ip: null, bootfile: null });
      assert.deepEqual([freed.ip, freed.bootfile, freed.ipxeScript], [null, null, 'hosts/a.ipxe?mac=${net0/mac}']);
      assert.equal((await store.hosts.update(other.id, { ip: '198.18.0.10' })).ip, '198.18.0.10');
      await assert.rejects(store.hosts.create({ macs: ['aa:bb:cc:00:02:06'], ip: '198.18.0.999' }), rejectsWith('BH_STORE_INVALID'));
      await assert.rejects(store.hosts.create({ macs: ['aa:bb:cc:00:02:07'], bootfile: 'a\nb' }), rejectsWith('BH_STORE_INVALID'));
      await assert.rejects(store.hosts.create({ macs: ['aa:bb:cc:00:02:08'], dhcpOptions: ['x'] as unknown as Record<string, unknown> }), rejectsWith('BH_STORE_INVALID'));
    });

    it('stores a group\'s boot files by architecture, iPXE script and DHCP options', async () => {
      const { store } = await fresh();
      const g = await store.groups.create({ name: 'workers', bootfiles: { bios: 'pxelinux.0', 'uefi-x64': 'grubx64.efi' }, ipxeScript: 'groups/workers.ipxe', dhcpOptions: { ntp_servers: ['198.18.0.123'] } });
      assert.deepEqual(await store.groups.getByName('workers'), g);
      assert.deepEqual([g.bootfiles, g.ipxeScript, g.dhcpOptions], [{ bios: 'pxelinux.0', 'uefi-x64': 'grubx64.efi' }, 'groups/workers.ipxe', { ntp_servers: ['198.18.0.123'] }]);
      const u = await store.groups.update(g.id, { bootfiles: { bios: 'undionly.kpxe' }, dhcpOptions: null });
      assert.deepEqual([u.bootfiles, u.ipxeScript, u.dhcpOptions, u.labels], [{ bios: 'undionly.kpxe' }, 'groups/workers.ipxe', null, {}]);
    });
  });

  describe(`store on ${factory.backend}: close`, () => {
    it('waits for writes in flight, then refuses new calls', async () => {
      const { store, url } = await fresh();
      const puts = Array.from({ length: 50 }, (_, i) => store.leases.put(lease(i)));
      const closed = store.close();
      await assert.rejects(store.leases.get('198.18.0.1'), rejectsWith('BH_STORE_CLOSED'));
      await Promise.all(puts);
      await closed;
      const again = await openAt(url);
      assert.equal((await again.leases.listAll()).length, 50);
    });
  });
}
