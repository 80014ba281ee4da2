// The lease store in a Map: the same LeaseRepository as `store.leases`, with the same checks
// (checkLease) and the same order of results, but nothing survives the process. For tests and
// benchmarks of the DHCP server without a database.
import type { Lease, LeaseInput, LeaseRepository } from './leases.ts';
import { checkLease, leaseFromRow } from './leases.ts';
import { StoreError } from './errors.ts';

const byIp = (a: Lease, b: Lease): number => (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : 0);
const bySubnetIp = (a: Lease, b: Lease): number => (a.subnet < b.subnet ? -1 : a.subnet > b.subnet ? 1 : byIp(a, b));

export class MemoryLeaseRepository implements LeaseRepository {
  readonly #rows = new Map<string, Lease>();
  readonly #now: () => number;
  /** For tests: writes reject with BH_STORE_WRITE while this is true. */
  failWrites = false;
  /** Leases written so far (put counts one, putMany one per lease). */
  writes = 0;

  /** `initial` is taken as a database would hold it: unchecked, so a test can seed rows no server would write. */
  constructor(initial: readonly Lease[] = [], now: () => number = Date.now) {
    for (const l of initial) this.#rows.set(l.ip, { ...l });
    this.#now = now;
  }

  async get(ip: string): Promise<Lease | undefined> {
    const l = this.#rows.get(ip);
    return l === undefined ? undefined : { ...l };
  }

  async findByClient(subnet: string, clientKey: string): Promise<Lease[]> {
    const mine = [...this.#rows.values()].filter((l) => l.subnet === subnet && l.clientKey === clientKey);
    return mine.sort((a, b) => b.updatedAt - a.updatedAt || byIp(a, b)).map((l) => ({ ...l }));
  }

  async listBySubnet(subnet: string): Promise<Lease[]> {
    return [...this.#rows.values()].filter((l) => l.subnet === subnet).sort(byIp).map((l) => ({ ...l }));
  }

  async listAll(): Promise<Lease[]> {
    return [...this.#rows.values()].sort(bySubnetIp).map((l) => ({ ...l }));
  }

  async put(lease: LeaseInput): Promise<Lease> {
    return (await this.putMany([lease]))[0]!;
  }

  async putMany(leases: readonly LeaseInput[]): Promise<Lease[]> {
    this.#failIfAsked();
    const t = this.#now();
    const checked = leases.map((l) => leaseFromRow(checkLease(l, t)));
    for (const l of checked) this.#rows.set(l.ip, l);
    this.writes += checked.length;
    return checked.map((l) => ({ ...l }));
  }

  async delete(ip: string): Promise<boolean> {
    this.#failIfAsked();
    return this.#rows.delete(ip);
  }

  async reclaimExpired(nowMs: number): Promise<Lease[]> {
    this.#failIfAsked();
    const updatedAt = this.#now();
    const out: Lease[] = [];
    for (const l of this.#rows.values()) {
      if ((l.state === 'bound' || l.state === 'offered') && l.expiresAt <= nowMs) {
        l.state = 'expired';
        l.updatedAt = updatedAt;
        out.push({ ...l });
      }
    }
    return out.sort(byIp);
  }

  #failIfAsked(): void {
    if (this.failWrites) throw new StoreError('BH_STORE_WRITE', 'lease store write failed (test)', 'failWrites is set on this MemoryLeaseRepository');
  }
}
