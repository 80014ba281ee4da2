// The lease store's suite on MemoryLeaseRepository, the store the DHCP unit tests and bench/dhcp use,
// plus what only it has: rows seeded as a database would hold them, and failing writes on demand.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryLeaseRepository } from '../../../src/store/index.ts';
import type { Lease } from '../../../src/store/index.ts';
import { lease, rejectsWith, runLeaseSuite } from './leases.suite.ts';

let clock = 1_700_000_000_000;
runLeaseSuite('memory', async () => new MemoryLeaseRepository([], () => clock), {
  get: () => clock,
  advance: (ms) => {
    clock += ms;
  },
});

describe('MemoryLeaseRepository', () => {
  it('takes its initial rows unchecked, as a database holds them, and checks what is written', async () => {
    const corrupt: Lease = { ...lease(1), ip: 'not-an-ip', hostname: null, updatedAt: 1 };
    const store = new MemoryLeaseRepository([corrupt], () => clock);
    assert.deepEqual(await store.listAll(), [corrupt]);
    await assert.rejects(store.put(corrupt), rejectsWith('BH_STORE_INVALID'));
  });

  it('fails writes while failWrites is set, and counts the leases written', async () => {
    const store = new MemoryLeaseRepository([], () => clock);
    store.failWrites = true;
    await assert.rejects(store.put(lease(1)), rejectsWith('BH_STORE_WRITE'));
    assert.equal(store.writes, 0);
    store.failWrites = false;
    await store.putMany([lease(1), lease(2)]);
    assert.equal(store.writes, 2);
  });
});
