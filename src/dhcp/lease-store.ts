// The storage port the DHCP server needs (the shape of `store.leases` in src/store), and an
// in-memory implementation for tests and for running without a database.
// The server keeps its own lease table in memory; it reads the store once at start and writes
// through to it. A put() that resolves means the row is durable (group commits allowed).

export type LeaseState = 'offered' | 'bound' | 'declined' | 'released' | 'expired';

export interface Lease {
  /** The subnet in CIDR form, as configured (e.g. 198.18.0.0/24). */
  subnet: string;
  ip: string;
  /** `id:<hex>` for a client with its own client identifier (option 61), else `mac:<aa:bb:..>`. */
  clientKey: string;
  /** aa:bb:cc:dd:ee:ff */
  mac: string;
  /** Sanitised (`[A-Za-z0-9.-]`, ≤ 63) or null. */
  hostname: string | null;
  state: LeaseState;
  /** Milliseconds since the epoch. For `declined`, the end of the quarantine. */
  expiresAt: number;
  updatedAt: number;
  /** The server identifier (option 54) the lease was granted under. */
  serverId: string;
}

export interface LeaseStore {
  get(ip: string): Promise<Lease | undefined>;
  findByClient(subnet: string, clientKey: string): Promise<Lease | undefined>;
  listBySubnet(subnet: string): Promise<Lease[]>;
  listAll(): Promise<Lease[]>;
  /** Resolves when the row is durable. Calls made in one tick may be committed together. */
  put(lease: Lease): Promise<void>;
  putMany(leases: Lease[]): Promise<void>;
  delete(ip: string): Promise<void>;
  /** Marks bound/offered leases whose expiresAt ≤ nowMs as expired; resolves to how many. */
  reclaimExpired(nowMs: number): Promise<number>;
}

/** A LeaseStore in a Map. Not durable across processes; `failWrites` makes put() reject (for tests). */
export class MemoryLeaseStore implements LeaseStore {
  private readonly rows = new Map<string, Lease>();
  failWrites = false;
  writes = 0;

  constructor(initial: Lease[] = []) {
    for (const l of initial) this.rows.set(l.ip, { ...l });
  }

  async get(ip: string): Promise<Lease | undefined> {
    const l = this.rows.get(ip);
    return l === undefined ? undefined : { ...l };
  }

  async findByClient(subnet: string, clientKey: string): Promise<Lease | undefined> {
    for (const l of this.rows.values()) if (l.subnet === subnet && l.clientKey === clientKey) return { ...l };
    return undefined;
  }

  async listBySubnet(subnet: string): Promise<Lease[]> {
    return [...this.rows.values()].filter((l) => l.subnet === subnet).map((l) => ({ ...l }));
  }

  async listAll(): Promise<Lease[]> {
    return [...this.rows.values()].map((l) => ({ ...l }));
  }

  async put(lease: Lease): Promise<void> {
    if (this.failWrites) throw Object.assign(new Error('lease store write failed (test)'), { code: 'BH_STORE_WRITE' });
    this.writes++;
    this.rows.set(lease.ip, { ...lease });
  }

  async putMany(leases: Lease[]): Promise<void> {
    for (const l of leases) await this.put(l);
  }

  async delete(ip: string): Promise<void> {
    this.rows.delete(ip);
  }

  async reclaimExpired(nowMs: number): Promise<number> {
    let n = 0;
    for (const l of this.rows.values()) {
      if ((l.state === 'bound' || l.state === 'offered') && l.expiresAt <= nowMs) {
        l.state = 'expired';
        l.updatedAt = nowMs;
        n++;
      }
    }
    return n;
  }
}
