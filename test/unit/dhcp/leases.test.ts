// The lease state machine and allocation discipline of LeaseTable, without packets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { LeaseTable } from '../../../src/dhcp/leases.ts';
import type { ClientIdent, LeaseSpace } from '../../../src/dhcp/leases.ts';
import { MemoryLeaseRepository } from '../../../src/store/index.ts';
import { ipToU32, parseCidr } from '../../../src/util/ipv4.ts';

const SUBNET = '198.18.0.0/24';
/** Option 54: the server address a lease was granted under. */
const SID = '198.18.0.1';
function space(start: string, end: string, reserved: [string, string][] = []): LeaseSpace {
  const cidr = parseCidr(SUBNET)!;
  return {
    key: SUBNET,
    cidr,
    pools: [{ start: ipToU32(start)!, end: ipToU32(end)! }],
    reserved: new Map(reserved.map(([mac, ip]) => [ipToU32(ip)!, mac])),
    reservationByMac: new Map(reserved.map(([mac, ip]) => [mac, ipToU32(ip)!])),
  };
}
const client = (n: number, id?: string): ClientIdent => {
  const mac = `02:00:00:00:00:${n.toString(16).padStart(2, '0')}`;
  return { mac, clientKey: id === undefined ? `mac:${mac}` : `id:${id}` };
};
function table(sp: LeaseSpace, store = new MemoryLeaseRepository(), clock = { t: 1_000_000 }) {
  return { t: new LeaseTable({ store, now: () => clock.t, offerHoldMs: 30_000, declineQuarantineMs: 600_000, spaces: [sp] }), store, clock };
}

test('offered → bound → released → bound again (same client, same address)', async () => {
  const { t, store } = table(space('198.18.0.10', '198.18.0.20'));
  const c = client(1);
  const a = t.allocate(SUBNET, c);
  assert.deepEqual(a, { ok: true, ip: '198.18.0.10', reason: 'free' });
  assert.equal(t.hold(SUBNET, c, '198.18.0.10', null, SID).state, 'offered');
  assert.equal(store.writes, 0, 'an offer is not written');
  const b = await t.bind(SUBNET, c, '198.18.0.10', 60_000, 'h', SID);
  assert.equal(b.state, 'bound');
  assert.equal((await store.get('198.18.0.10'))?.state, 'bound');
  await t.release(b);
  assert.equal((await store.get('198.18.0.10'))?.state, 'released');
  assert.deepEqual(t.allocate(SUBNET, c), { ok: true, ip: '198.18.0.10', reason: 'existing' });
});

test('a client that moves to another address gives up the old one', async () => {
  const { t, store } = table(space('198.18.0.10', '198.18.0.20'));
  const c = client(1);
  await t.bind(SUBNET, c, '198.18.0.10', 60_000, null, SID);
  await t.bind(SUBNET, c, '198.18.0.15', 60_000, null, SID);
  assert.equal((await store.get('198.18.0.10'))?.state, 'released');
  assert.equal(t.findClient(SUBNET, c)?.ip, '198.18.0.15');
});

test('a failed durable write leaves the address only offered, and propagates', async () => {
  const store = new MemoryLeaseRepository();
  store.failWrites = true;
  const { t } = table(space('198.18.0.10', '198.18.0.20'), store);
  await assert.rejects(t.bind(SUBNET, client(1), '198.18.0.10', 60_000, null, SID));
  assert.equal(t.leaseAt('198.18.0.10')?.state, 'offered');
});

test('load() restores the table from the store; stale offers do not hold addresses', async () => {
  const store = new MemoryLeaseRepository([
    { subnet: SUBNET, ip: '198.18.0.10', clientKey: 'mac:02:00:00:00:00:01', mac: '02:00:00:00:00:01', hostname: null, state: 'bound', expiresAt: 2_000_000, updatedAt: 1, dhcpServerId: SID },
    { subnet: SUBNET, ip: '198.18.0.11', clientKey: 'mac:02:00:00:00:00:02', mac: '02:00:00:00:00:02', hostname: null, state: 'offered', expiresAt: 2_000_000, updatedAt: 1, dhcpServerId: SID },
    { subnet: SUBNET, ip: 'not-an-ip', clientKey: 'mac:x', mac: 'x', hostname: null, state: 'bound', expiresAt: 2_000_000, updatedAt: 1, dhcpServerId: SID },
  ]);
  const { t } = table(space('198.18.0.10', '198.18.0.11'), store);
  assert.deepEqual(await t.load(), { loaded: 2, skipped: 1 });
  assert.deepEqual(t.allocate(SUBNET, client(1)), { ok: true, ip: '198.18.0.10', reason: 'existing' });
  const other = t.allocate(SUBNET, client(3));
  assert.deepEqual(other, { ok: true, ip: '198.18.0.11', reason: 'reused' });
});

test('pool exhaustion is reported, and ends when a lease is released or expires', async () => {
  const { t, clock } = table(space('198.18.0.10', '198.18.0.11'));
  const l1 = await t.bind(SUBNET, client(1), '198.18.0.10', 60_000, null, SID);
  await t.bind(SUBNET, client(2), '198.18.0.11', 120_000, null, SID);
  assert.deepEqual(t.allocate(SUBNET, client(3)), { ok: false, reason: 'pool-exhausted' });
  assert.deepEqual(t.allocate(SUBNET, client(4)), { ok: false, reason: 'pool-exhausted' });
  await t.release(l1);
  assert.deepEqual(t.allocate(SUBNET, client(3)), { ok: true, ip: '198.18.0.10', reason: 'reused' });
  t.hold(SUBNET, client(3), '198.18.0.10', null, SID);
  clock.t += 121_000;
  assert.equal((t.allocate(SUBNET, client(5)) as { ok: boolean }).ok, true, 'after expiry addresses come back');
});

test('reserved addresses go only to their owner; a reservation held by another lease is a conflict', async () => {
  const sp = space('198.18.0.10', '198.18.0.12', [['02:00:00:00:00:09', '198.18.0.11']]);
  const { t } = table(sp);
  const got = new Set<string>();
  for (let i = 1; i <= 5; i++) {
    const a = t.allocate(SUBNET, client(i));
    if (a.ok) {
      got.add(a.ip);
      t.hold(SUBNET, client(i), a.ip, null, SID);
    }
  }
  assert.deepEqual([...got].sort(), ['198.18.0.10', '198.18.0.12']);
  assert.deepEqual(t.allocate(SUBNET, client(9)), { ok: true, ip: '198.18.0.11', reason: 'reserved' });
  // A stale lease of another client on the reserved address (e.g. the reservation was added later).
  const sp2 = space('198.18.0.10', '198.18.0.12', [['02:00:00:00:00:09', '198.18.0.11']]);
  const { t: t2 } = table(sp2, new MemoryLeaseRepository([{ subnet: SUBNET, ip: '198.18.0.11', clientKey: 'mac:02:00:00:00:00:01', mac: '02:00:00:00:00:01', hostname: null, state: 'bound', expiresAt: 9_000_000, updatedAt: 1, dhcpServerId: SID }]));
  await t2.load();
  assert.deepEqual(t2.allocate(SUBNET, client(9)), { ok: false, reason: 'reservation-conflict' });
});

test('client-id and MAC matching: 01+MAC ≡ MAC, an explicit id is learned, two different ids are two clients', async () => {
  const { t } = table(space('198.18.0.10', '198.18.0.20'));
  const fw = client(1);
  await t.bind(SUBNET, fw, '198.18.0.10', 60_000, null, SID);
  const os = client(1, 'ff0001');
  assert.equal(t.findClient(SUBNET, os)?.ip, '198.18.0.10', 'the OS finds the firmware lease by MAC');
  await t.bind(SUBNET, os, '198.18.0.10', 60_000, null, SID);
  assert.equal(t.leaseAt('198.18.0.10')?.clientKey, 'id:ff0001');
  await t.bind(SUBNET, fw, '198.18.0.10', 60_000, null, SID);
  assert.equal(t.leaseAt('198.18.0.10')?.clientKey, 'id:ff0001', 'the learned id is kept when firmware renews');
  assert.equal(t.findClient(SUBNET, client(1, 'ff0002')), undefined, 'another id on the same MAC is another client');
});

test('property: no address is ever held by two clients at once, reserved ones only by their owner, and none is lost', async () => {
  const ops = fc.array(
    fc.oneof(
      fc.record({ op: fc.constant('discover' as const), c: fc.integer({ min: 1, max: 12 }) }),
      fc.record({ op: fc.constant('request' as const), c: fc.integer({ min: 1, max: 12 }) }),
      fc.record({ op: fc.constant('release' as const), c: fc.integer({ min: 1, max: 12 }) }),
      fc.record({ op: fc.constant('decline' as const), c: fc.integer({ min: 1, max: 12 }) }),
      fc.record({ op: fc.constant('tick' as const), ms: fc.integer({ min: 1, max: 200_000 }) }),
    ),
    { maxLength: 80 },
  );
  await fc.assert(
    fc.asyncProperty(ops, async (seq) => {
      const sp = space('198.18.0.10', '198.18.0.15', [['02:00:00:00:00:0c', '198.18.0.12']]);
      const { t, clock } = table(sp);
      for (const s of seq) {
        if (s.op === 'tick') {
          clock.t += s.ms;
          continue;
        }
        const c = client(s.c);
        if (s.op === 'discover' || s.op === 'request') {
          const a = t.allocate(SUBNET, c);
          if (!a.ok && a.reason === 'reservation-conflict') {
            // A reserved client gets its reserved address or nothing (a declined or otherwise taken
            // reservation is the operator's to resolve); the conflict must be real.
            assert.equal(c.mac, '02:00:00:00:00:0c');
            assert.ok(!t.availableTo(sp, ipToU32('198.18.0.12')!, c, clock.t), 'reservation-conflict while the reserved address was available');
            continue;
          }
          if (!a.ok) {
            // Completeness: "exhausted" only when no pool address is really available to this client.
            for (let n = ipToU32('198.18.0.10')!; n <= ipToU32('198.18.0.15')!; n++) assert.ok(!t.availableTo(sp, n, c, clock.t), `allocation failed but ${n & 255} was available to ${c.mac}`);
            continue;
          }
          // Invariant: nobody else actively holds the address we are about to give.
          const cur = t.leaseAt(a.ip);
          if (cur !== undefined && !t.owns(cur, c)) assert.ok(!t.active(cur, clock.t), `${a.ip} is active for ${cur.mac}, given to ${c.mac}`);
          if (a.ip === '198.18.0.12') assert.equal(c.mac, '02:00:00:00:00:0c');
          if (s.op === 'discover') t.hold(SUBNET, c, a.ip, null, SID);
          else await t.bind(SUBNET, c, a.ip, 100_000, null, SID);
        } else {
          const l = t.findClient(SUBNET, c);
          if (l === undefined || (l.state !== 'bound' && l.state !== 'offered')) continue;
          if (s.op === 'release') await t.release(l);
          else await t.decline(l);
        }
      }
    }),
    { numRuns: 300 },
  );
});
