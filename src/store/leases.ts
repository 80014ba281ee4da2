// Leases: one row per IP address. Writes go through the store's write queue (group commit), so a
// put() resolves only after its transaction committed, and writes keep the order they were made in.
import type { Kysely } from 'kysely';
import type { Database, LeaseState, LeasesTable } from './schema.ts';
import { LEASE_STATES } from './schema.ts';
import type { WriteQueue } from './write-queue.ts';
import type { Gate } from './gate.ts';
import { CLIENT_KEY_PATTERN, HOSTNAME_PATTERN, MAC_PATTERN, checkIp, checkOptionalText, checkText, checkTime, invalid } from './validate.ts';

export interface Lease {
  ip: string;
  /** The subnet the lease belongs to, as configured (e.g. "198.18.0.0/24"). */
  subnet: string;
  /** Client identifier (option 61) in hex, or the MAC when the client sent none. */
  clientKey: string;
  mac: string;
  hostname: string | null;
  state: LeaseState;
  expiresAt: number;
  updatedAt: number;
  /** Which bootherd server wrote the lease last (several may share a PostgreSQL store). */
  serverId: string;
}

/** What put() takes: updatedAt defaults to now, hostname to null. */
export type LeaseInput = Omit<Lease, 'updatedAt' | 'hostname'> & { updatedAt?: number; hostname?: string | null };

export interface LeaseRepository {
  get(ip: string): Promise<Lease | undefined>;
  /** Leases of one client in one subnet, most recently updated first. */
  findByClient(subnet: string, clientKey: string): Promise<Lease[]>;
  listBySubnet(subnet: string): Promise<Lease[]>;
  listAll(): Promise<Lease[]>;
  /** Inserts or replaces the lease for lease.ip. Resolves once the lease is durable. */
  put(lease: LeaseInput): Promise<Lease>;
  /** Writes all the leases in one transaction: all or none. */
  putMany(leases: readonly LeaseInput[]): Promise<Lease[]>;
  /** Removes the lease for ip; true when there was one. */
  delete(ip: string): Promise<boolean>;
  /** Marks offered and bound leases with expiresAt <= nowMs as expired; returns them, as now stored. */
  reclaimExpired(nowMs: number): Promise<Lease[]>;
}

const WHAT = 'a lease';

export function checkLease(l: LeaseInput, now: number): LeasesTable {
  if (typeof l !== 'object' || l === null) throw invalid(WHAT, 'lease', l, 'is not an object');
  if (!LEASE_STATES.includes(l.state)) throw invalid(WHAT, 'state', l.state, `is not one of ${LEASE_STATES.join(', ')}`);
  return {
    ip: checkIp(WHAT, l.ip),
    subnet: checkText(WHAT, 'subnet', l.subnet, 64),
    client_key: checkText(WHAT, 'clientKey', l.clientKey, 520, { pattern: CLIENT_KEY_PATTERN }),
    mac: checkText(WHAT, 'mac', l.mac, 47, { pattern: MAC_PATTERN }),
    hostname: checkOptionalText(WHAT, 'hostname', l.hostname, 253, HOSTNAME_PATTERN),
    state: l.state,
    expires_at: checkTime(WHAT, 'expiresAt', l.expiresAt),
    updated_at: checkTime(WHAT, 'updatedAt', l.updatedAt ?? now),
    server_id: checkText(WHAT, 'serverId', l.serverId, 128),
  };
}

export function leaseFromRow(r: LeasesTable): Lease {
  return {
    ip: r.ip,
    subnet: r.subnet,
    clientKey: r.client_key,
    mac: r.mac,
    hostname: r.hostname ?? null,
    state: r.state,
    expiresAt: Number(r.expires_at),
    updatedAt: Number(r.updated_at),
    serverId: r.server_id,
  };
}

function upsert(trx: Kysely<Database>, row: LeasesTable) {
  const { ip: _ip, ...rest } = row;
  return trx.insertInto('leases').values(row).onConflict((oc) => oc.column('ip').doUpdateSet(rest)).execute();
}

export function createLeaseRepository(db: Kysely<Database>, queue: WriteQueue, gate: Gate, now: () => number): LeaseRepository {
  return {
    get: (ip) => gate.run(async () => {
      const r = await db.selectFrom('leases').selectAll().where('ip', '=', ip).executeTakeFirst();
      return r === undefined ? undefined : leaseFromRow(r);
    }),
    findByClient: (subnet, clientKey) => gate.run(async () => {
      const rows = await db.selectFrom('leases').selectAll().where('subnet', '=', subnet).where('client_key', '=', clientKey)
        .orderBy('updated_at', 'desc').orderBy('ip').execute();
      return rows.map(leaseFromRow);
    }),
    listBySubnet: (subnet) => gate.run(async () => {
      const rows = await db.selectFrom('leases').selectAll().where('subnet', '=', subnet).orderBy('ip').execute();
      return rows.map(leaseFromRow);
    }),
    listAll: () => gate.run(async () => (await db.selectFrom('leases').selectAll().orderBy('subnet').orderBy('ip').execute()).map(leaseFromRow)),
    put: (lease) => gate.run(async () => {
      const row = checkLease(lease, now());
      await queue.push((trx) => upsert(trx, row));
      return leaseFromRow(row);
    }),
    putMany: (leases) => gate.run(async () => {
      const t = now();
      const rows = leases.map((l) => checkLease(l, t));
      if (rows.length === 0) return [];
      // If any row fails, the shared batch rolls back and the queue retries this job alone, in its own transaction.
      await queue.push(async (trx) => {
        for (const row of rows) await upsert(trx, row);
      });
      return rows.map(leaseFromRow);
    }),
    delete: (ip) => gate.run(async () => {
      const r = await queue.push((trx) => trx.deleteFrom('leases').where('ip', '=', ip).executeTakeFirst());
      return Number(r.numDeletedRows) > 0;
    }),
    reclaimExpired: (nowMs) => gate.run(async () => {
      checkTime('a reclaim', 'nowMs', nowMs);
      const updatedAt = now();
      const rows = await queue.push((trx) => trx.updateTable('leases').set({ state: 'expired', updated_at: updatedAt })
        .where('state', 'in', ['offered', 'bound']).where('expires_at', '<=', nowMs).returningAll().execute());
      return rows.map(leaseFromRow).sort((a, b) => (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : 0));
    }),
  };
}
