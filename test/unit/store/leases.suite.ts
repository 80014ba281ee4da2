// The lease store's tests, run on every implementation of LeaseRepository: the SQLite and PostgreSQL
// stores (from store.suite.ts) and MemoryLeaseRepository (memory-leases.test.ts), so the in-memory
// store the DHCP unit tests use behaves as the real ones do.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isStoreError } from '../../../src/store/index.ts';
import type { LeaseInput, LeaseRepository, StoreErrorCode } from '../../../src/store/index.ts';

export function rejectsWith(code: StoreErrorCode): (err: unknown) => boolean {
  return (err) => {
    assert.ok(isStoreError(err, code), `expected ${code}, got ${String(err)}`);
    return true;
  };
}

export function lease(i: number, over: Partial<LeaseInput> = {}): LeaseInput {
  return {
    ip: `198.18.${Math.floor(i / 250)}.${(i % 250) + 1}`,
    subnet: '198.18.0.0/16',
    clientKey: `id:01${(0x100000 + i).toString(16)}`,
    mac: `02:00:00:${((i >> 8) & 0xff).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}:01`,
    hostname: `node-${i}`,
    state: 'bound',
    expiresAt: 1_000_000 + i,
    dhcpServerId: '198.18.0.1',
    ...over,
  };
}

/** The store's clock: what it stamps as updatedAt, and a way to move it. */
export interface SuiteClock {
  get(): number;
  advance(ms: number): void;
}

/** `fresh` gives an empty lease store whose clock is `clock`. */
export function runLeaseSuite(backend: string, fresh: () => Promise<LeaseRepository>, clock: SuiteClock): void {
  describe(`lease store on ${backend}`, () => {
    it('puts, gets and replaces a lease by IP', async () => {
      const leases = await fresh();
      assert.equal(await leases.get('198.18.0.1'), undefined);
      const l = lease(0);
      await leases.put(l);
      assert.deepEqual(await leases.get(l.ip), { ...l, hostname: 'node-0', updatedAt: clock.get() });
      await leases.put({ ...l, clientKey: 'id:ffee', hostname: null, state: 'offered', updatedAt: 42 });
      const got = await leases.get(l.ip);
      assert.equal(got?.clientKey, 'id:ffee');
      assert.equal(got?.hostname, null);
      assert.equal(got?.state, 'offered');
      assert.equal(got?.updatedAt, 42);
      assert.equal((await leases.listAll()).length, 1);
    });

    it('finds leases by client and by subnet', async () => {
      const leases = await fresh();
      await leases.putMany([
        lease(1, { clientKey: 'id:aa', updatedAt: 10 }),
        lease(2, { clientKey: 'id:aa', updatedAt: 20 }),
        lease(3, { clientKey: 'mac:02:00:00:00:00:bb' }),
        lease(4, { clientKey: 'id:aa', subnet: '198.19.0.0/24', ip: '198.19.0.9' }),
      ]);
      const mine = await leases.findByClient('198.18.0.0/16', 'id:aa');
      assert.deepEqual(mine.map((l) => l.ip), [lease(2).ip, lease(1).ip]);
      assert.deepEqual(await leases.findByClient('198.18.0.0/16', 'id:cc'), []);
      assert.deepEqual((await leases.listBySubnet('198.19.0.0/24')).map((l) => l.ip), ['198.19.0.9']);
      assert.equal((await leases.listBySubnet('198.18.0.0/16')).length, 3);
      assert.equal((await leases.listAll()).length, 4);
    });

    it('keeps the DHCP server\'s client keys (mac:, id:, declined:) as they were put', async () => {
    const leases = await fresh();
    const base = { subnet: '198.18.0.0/24', mac: '02:00:00:00:00:01', hostname: null, expiresAt: 2e12, updatedAt: 1e12, dhcpServerId: '198.18.0.1' };
    const longId = 'ab'.repeat(128); // the longest client id the DHCP server keeps
    const all = [
      { ...base, ip: '198.18.0.10', clientKey: 'mac:02:00:00:00:00:01', state: 'bound' as const },
      { ...base, ip: '198.18.0.11', clientKey: 'id:01020000000002', state: 'bound' as const },
      { ...base, ip: '198.18.0.12', clientKey: 'declined:mac:02:00:00:00:00:01', state: 'declined' as const },
      { ...base, ip: '198.18.0.13', clientKey: `declined:id:${longId}`, state: 'declined' as const },
    ];
    for (const l of all) await leases.put(l);
    for (const l of all) assert.deepEqual(await leases.get(l.ip), l);
    assert.deepEqual((await leases.findByClient(base.subnet, 'id:01020000000002')).map((l) => l.ip), ['198.18.0.11']);
    assert.deepEqual((await leases.findByClient(base.subnet, 'declined:mac:02:00:00:00:00:01')).map((l) => l.state), ['declined']);
    assert.deepEqual((await leases.findByClient(base.subnet, 'mac:02:00:00:00:00:01')).map((l) => l.ip), ['198.18.0.10']);
    assert.deepEqual((await leases.listAll()).map((l) => l.clientKey), all.map((l) => l.clientKey));
  });

  it('writes putMany all or nothing', async () => {
      const leases = await fresh();
      await assert.rejects(leases.putMany([lease(1), lease(2, { hostname: 'bad\nname' })]), rejectsWith('BH_STORE_INVALID'));
      assert.deepEqual(await leases.listAll(), []);
      const written = await leases.putMany([lease(1), lease(2)]);
      assert.equal(written.length, 2);
      assert.equal((await leases.listAll()).length, 2);
    });

    it('deletes a lease and says whether there was one', async () => {
      const leases = await fresh();
      await leases.put(lease(5));
      assert.equal(await leases.delete(lease(5).ip), true);
      assert.equal(await leases.delete(lease(5).ip), false);
      assert.equal(await leases.get(lease(5).ip), undefined);
    });

    it('expires offered and bound leases past their time, and only those', async () => {
      const leases = await fresh();
      await leases.putMany([
        lease(1, { state: 'bound', expiresAt: 100 }),
        lease(2, { state: 'offered', expiresAt: 200 }),
        lease(3, { state: 'bound', expiresAt: 301 }),
        lease(4, { state: 'released', expiresAt: 50 }),
        lease(5, { state: 'declined', expiresAt: 50 }),
      ]);
      clock.advance(1000);
      const reclaimed = await leases.reclaimExpired(300);
      assert.deepEqual(reclaimed.map((l) => l.ip), [lease(1).ip, lease(2).ip]);
      assert.ok(reclaimed.every((l) => l.state === 'expired' && l.updatedAt === clock.get()));
      const states = Object.fromEntries((await leases.listAll()).map((l) => [l.ip, l.state]));
      assert.deepEqual(states, { [lease(1).ip]: 'expired', [lease(2).ip]: 'expired', [lease(3).ip]: 'bound', [lease(4).ip]: 'released', [lease(5).ip]: 'declined' });
      assert.deepEqual(await leases.reclaimExpired(300), []);
    });

    it('group-commits many concurrent puts: every promise resolves and every lease lands', async () => {
      const leases = await fresh();
      const n = 300;
      const results = await Promise.all(Array.from({ length: n }, (_, i) => leases.put(lease(i))));
      assert.equal(results.length, n);
      const all = await leases.listAll();
      assert.equal(all.length, n);
      assert.deepEqual(new Set(all.map((l) => l.ip)), new Set(results.map((l) => l.ip)));
    });

    it('keeps the order of writes made in the same tick', async () => {
      const leases = await fresh();
      const a = lease(1);
      const b = lease(2);
      await Promise.all([leases.put(a), leases.delete(a.ip), leases.delete(b.ip), leases.put(b), leases.put({ ...b, state: 'offered' })]);
      assert.equal(await leases.get(a.ip), undefined);
      assert.equal((await leases.get(b.ip))?.state, 'offered');
    });

    it('fails only the bad write in a batch', async () => {
      const leases = await fresh();
      const results = await Promise.allSettled([leases.put(lease(1)), leases.put(lease(2, { mac: 'not a mac' })), leases.put(lease(3))]);
      assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
      assert.equal((await leases.listAll()).length, 2);
    });

    it('refuses client strings the store could not give back intact', async () => {
      const leases = await fresh();
      const bad: Array<Partial<LeaseInput>> = [
        { hostname: 'evil\r\nname' },
        { hostname: 'x'.repeat(254) },
        { hostname: ' leading-space' },
        { ip: '198.18.0.300' },
        { ip: 'not-an-ip' },
        { mac: 'aa:bb:cc:dd:ee:fg' },
        { clientKey: '<script>' },
        { clientKey: '' },
      { clientKey: 'ffee' },
      { clientKey: 'id:' },
      { clientKey: 'mac:02:00:00:00:00' + ':00'.repeat(16) },
      { clientKey: 'declined:declined:mac:02:00:00:00:00:01' },
      { clientKey: 'id:' + 'a'.repeat(511) },
        { subnet: 's'.repeat(65) },
        { state: 'bogus' as never },
        { expiresAt: -1 },
        { expiresAt: 1.5 },
        { dhcpServerId: '' },
      { dhcpServerId: 'srv-a' },
      { dhcpServerId: '2001:db8::1' },
      ];
      for (const over of bad) {
        await assert.rejects(leases.put(lease(1, over)), rejectsWith('BH_STORE_INVALID'), JSON.stringify(over));
      }
      assert.deepEqual(await leases.listAll(), []);
    });

    it('gives back exactly what it accepted, for any client strings (property)', async () => {
      const leases = await fresh();
      let i = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.option(fc.string({ maxLength: 260, unit: 'binary' }), { nil: null }),
          fc.option(fc.string({ maxLength: 260 }), { nil: null }),
          fc.constantFrom('offered', 'bound', 'declined', 'released', 'expired' as const),
          fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
          async (binaryName, asciiName, state, expiresAt) => {
            const l = lease(i++, { hostname: i % 2 === 0 ? binaryName : asciiName, state, expiresAt });
            let accepted = true;
            try {
              await leases.put(l);
            } catch (err) {
              assert.ok(isStoreError(err, 'BH_STORE_INVALID'), String(err));
              accepted = false;
            }
            const got = await leases.get(l.ip);
            if (accepted) assert.deepEqual(got, { ...l, updatedAt: clock.get() });
            else assert.equal(got, undefined);
          },
        ),
        { numRuns: 60 },
      );
    });
  });
}
