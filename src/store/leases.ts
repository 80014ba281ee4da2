// Leases: one row per IP address, and the one lease store the DHCP server writes through (it gets
// `store.leases` from src/daemon). Writes go through the store's write queue (group commit), so a
// put() resolves only after its transaction committed, and writes keep the order they were made in:
// the DHCP server may ACK once put() resolved. Writes are data (SqlWrite): on SQLite one prepared
// upsert per row, run by the write worker; on PostgreSQL one multi-row `insert … on conflict` per call.
// memory-leases.ts holds the same store in a Map, for tests and benchmarks.
import { isIP } from 'node:net';
import type { Kysely } from 'kysely';
import type { Database, LeaseState, LeasesTable } from './schema.ts';
import { LEASE_STATES } from './schema.ts';
import type { WriteQueue } from './write-queue.ts';
import type { SqlStatement } from './sqlite-writer.ts';
import type { Gate } from './gate.ts';
import { CLIENT_KEY_PATTERN, HOSTNAME_PATTERN, MAC_PATTERN, checkIp, checkOptionalText, checkText, checkTime, invalid } from './validate.ts';

export interface Lease {
  ip: string;
  /** The subnet the lease belongs to, as configured (e.g. "198.18.0.0/24"). */
  subnet: string;
  /**
   * Who holds the lease (RFC 2131 §4.2): `id:<hex>` for a client that sent its own client
   * identifier (option 61), else `mac:<aa:bb:..>`. A quarantined address (DHCPDECLINE) belongs to no
   * client: `declined:` + the key of the client that declined it.
   */
  clientKey: string;
  /** aa:bb:cc:dd:ee:ff */
  mac: string;
  /** Sanitised, or null. */
  hostname: string | null;
  state: LeaseState;
  /** Milliseconds since the epoch. For `declined`, the end of the quarantine. */
  expiresAt: number;
  updatedAt: number;
  /**
   * The DHCP server identifier (option 54) the lease was granted under: the IPv4 address of the
   * bootherd interface that answered. Stored in the `server_id` column.
   */
  dhcpServerId: string;
}

/** What put() takes: updatedAt defaults to now, hostname to null. */
export type LeaseInput = Omit<Lease, 'updatedAt' | 'hostname'> & { updatedAt?: number; hostname?: string | null };

/** The lease store: `store.leases`, and what the DHCP server is given. */
export interface LeaseRepository {
  get(ip: string): Promise<Lease | undefined>;
  /** Leases of one client in one subnet, most recently updated first. */
  findByClient(subnet: string, clientKey: string): Promise<Lease[]>;
  listBySubnet(subnet: string): Promise<Lease[]>;
  /** Every lease, by subnet, then IP. */
  listAll(): Promise<Lease[]>;
  /** Inserts or replaces the lease for lease.ip. Resolves once the lease is durable (committed). */
  put(lease: LeaseInput): Promise<Lease>;
  /** Writes all the leases in one transaction: all or none. */
  putMany(leases: readonly LeaseInput[]): Promise<Lease[]>;
  /** Removes the lease for ip; true when there was one. */
  delete(ip: string): Promise<boolean>;
  /** Marks offered and bound leases with expiresAt <= nowMs as expired; returns them, as now stored, by IP. */
  reclaimExpired(nowMs: number): Promise<Lease[]>;
}

const WHAT = 'a lease';

// The client_key column keeps the encoding databases already hold (written before the store knew the
// DHCP key format): `mac:<mac>` as the bare MAC, `id:<hex>` as '-' + hex, `declined:<key>` as '.' +
// the hex of its text.
export function clientKeyColumn(key: string): string {
  if (key.startsWith('mac:')) return key.slice(4);
  if (key.startsWith('id:')) return `-${key.slice(3)}`;
  return `.${Buffer.from(key, 'utf8').toString('hex')}`;
}

export function clientKeyOfColumn(column: string): string {
  if (column.startsWith('-')) return `id:${column.slice(1)}`;
  if (column.startsWith('.')) return Buffer.from(column.slice(1), 'hex').toString('utf8');
  return `mac:${column}`;
}

function checkDhcpServerId(v: unknown): string {
  if (typeof v !== 'string' || isIP(v) !== 4) throw invalid(WHAT, 'dhcpServerId', v, 'is not an IPv4 address');
  return v;
}

export function checkLease(l: LeaseInput, now: number): LeasesTable {
  if (typeof l !== 'object' || l === null) throw invalid(WHAT, 'lease', l, 'is not an object');
  if (!LEASE_STATES.includes(l.state)) throw invalid(WHAT, 'state', l.state, `is not one of ${LEASE_STATES.join(', ')}`);
  return {
    ip: checkIp(WHAT, l.ip),
    subnet: checkText(WHAT, 'subnet', l.subnet, 64),
    client_key: clientKeyColumn(checkText(WHAT, 'clientKey', l.clientKey, 522, { pattern: CLIENT_KEY_PATTERN })),
    mac: checkText(WHAT, 'mac', l.mac, 47, { pattern: MAC_PATTERN }),
    hostname: checkOptionalText(WHAT, 'hostname', l.hostname, 253, HOSTNAME_PATTERN),
    state: l.state,
    expires_at: checkTime(WHAT, 'expiresAt', l.expiresAt),
    updated_at: checkTime(WHAT, 'updatedAt', l.updatedAt ?? now),
    server_id: checkDhcpServerId(l.dhcpServerId),
  };
}

export function leaseFromRow(r: LeasesTable): Lease {
  return {
    ip: r.ip,
    subnet: r.subnet,
    clientKey: clientKeyOfColumn(r.client_key),
    mac: r.mac,
    hostname: r.hostname ?? null,
    state: r.state,
    expiresAt: Number(r.expires_at),
    updatedAt: Number(r.updated_at),
    dhcpServerId: r.server_id,
  };
}

const COLUMNS = ['ip', 'subnet', 'client_key', 'mac', 'hostname', 'state', 'expires_at', 'updated_at', 'server_id'] as const;

/** One prepared upsert (SQLite): the SQL text never changes, so the worker compiles it once. */
const UPSERT_SQL = `insert into leases (${COLUMNS.join(', ')}) values (${COLUMNS.map(() => '?').join(', ')}) ` +
  `on conflict (ip) do update set ${COLUMNS.slice(1).map((c) => `${c} = excluded.${c}`).join(', ')}`;

const upsertStatement = (r: LeasesTable): SqlStatement => ({
  sql: UPSERT_SQL,
  params: [r.ip, r.subnet, r.client_key, r.mac, r.hostname, r.state, r.expires_at, r.updated_at, r.server_id],
  rows: false,
});

/** One multi-row `insert … on conflict` (PostgreSQL). A later row for the same ip wins, as it would row by row. */
async function upsertRows(trx: Kysely<Database>, rows: readonly LeasesTable[]): Promise<void> {
  const byIp = new Map<string, LeasesTable>();
  for (const r of rows) {
    byIp.delete(r.ip);
    byIp.set(r.ip, r);
  }
  const unique = [...byIp.values()];
  // PostgreSQL allows 65 535 parameters per statement: 9 per row.
  for (let i = 0; i < unique.length; i += 5000) {
    await trx.insertInto('leases').values(unique.slice(i, i + 5000))
      .onConflict((oc) => oc.column('ip').doUpdateSet((eb) => ({
        subnet: eb.ref('excluded.subnet'),
        client_key: eb.ref('excluded.client_key'),
        mac: eb.ref('excluded.mac'),
        hostname: eb.ref('excluded.hostname'),
        state: eb.ref('excluded.state'),
        expires_at: eb.ref('excluded.expires_at'),
        updated_at: eb.ref('excluded.updated_at'),
        server_id: eb.ref('excluded.server_id'),
      })))
      .execute();
  }
}

const RECLAIM_SQL = "update leases set state = 'expired', updated_at = ? where state in ('offered', 'bound') and expires_at <= ? returning *";

const byIp = (a: Lease, b: Lease): number => (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : 0);

export function createLeaseRepository(db: Kysely<Database>, queue: WriteQueue, gate: Gate, now: () => number): LeaseRepository {
  return {
    get: (ip) => gate.run(async () => {
      const r = await db.selectFrom('leases').selectAll().where('ip', '=', ip).executeTakeFirst();
      return r === undefined ? undefined : leaseFromRow(r);
    }),
    findByClient: (subnet, clientKey) => gate.run(async () => {
      const rows = await db.selectFrom('leases').selectAll().where('subnet', '=', subnet).where('client_key', '=', clientKeyColumn(clientKey))
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
      await queue.push({ statements: [upsertStatement(row)], result: () => undefined, kysely: (trx) => upsertRows(trx, [row]) });
      return leaseFromRow(row);
    }),
    putMany: (leases) => gate.run(async () => {
      const t = now();
      const rows = leases.map((l) => checkLease(l, t));
      if (rows.length === 0) return [];
      // One job: all rows commit together or none does. If any row fails, the shared batch rolls back
      // and the queue retries this job alone, in its own transaction.
      await queue.push({ statements: rows.map(upsertStatement), result: () => undefined, kysely: (trx) => upsertRows(trx, rows) });
      return rows.map(leaseFromRow);
    }),
    delete: (ip) => gate.run(async () => {
      if (typeof ip !== 'string') throw invalid(WHAT, 'ip', ip, 'is not a string');
      return queue.push({
        statements: [{ sql: 'delete from leases where ip = ?', params: [ip], rows: false }],
        result: (r) => 'changes' in r[0]! && r[0].changes > 0,
        kysely: async (trx) => Number((await trx.deleteFrom('leases').where('ip', '=', ip).executeTakeFirst()).numDeletedRows) > 0,
      });
    }),
    reclaimExpired: (nowMs) => gate.run(async () => {
      checkTime('a reclaim', 'nowMs', nowMs);
      const updatedAt = now();
      const rows = await queue.push<LeasesTable[]>({
        statements: [{ sql: RECLAIM_SQL, params: [updatedAt, nowMs], rows: true }],
        result: (r) => ('rows' in r[0]! ? (r[0].rows as unknown as LeasesTable[]) : []),
        kysely: (trx) => trx.updateTable('leases').set({ state: 'expired', updated_at: updatedAt })
          .where('state', 'in', ['offered', 'bound']).where('expires_at', '<=', nowMs).returningAll().execute(),
      });
      return rows.map(leaseFromRow).sort(byIp);
    }),
  };
}
