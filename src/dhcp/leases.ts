// The allocation engine: the in-memory lease table of every subnet, the rules for which address a
// client gets, and the lease state machine (offered → bound → released/expired; declined =
// quarantined). It writes through to the lease store (src/store's LeaseRepository, passed in);
// bind() resolves only once the row is durable. No I/O of its own, no logging, no sockets: the
// server decides what to send.
import type { Lease, LeaseRepository } from '../store/index.ts';
import type { Cidr } from '../util/ipv4.ts';
import { cidrContains, ipToU32, u32ToIp } from '../util/ipv4.ts';

export interface ClientIdent {
  /** `id:<hex>` when the client sent its own client identifier (option 61), else `mac:<mac>`. */
  clientKey: string;
  mac: string;
}

export interface LeaseSpace {
  /** The subnet in CIDR form; the `subnet` column of its leases. */
  key: string;
  cidr: Cidr;
  pools: { start: number; end: number }[];
  /** Reserved address → the MAC it belongs to. Reserved addresses are never allocated dynamically. */
  reserved: Map<number, string>;
  /** MAC → reserved address. */
  reservationByMac: Map<string, number>;
}

export type AllocateResult =
  | { ok: true; ip: string; reason: 'existing' | 'reserved' | 'requested' | 'free' | 'reused' }
  | { ok: false; reason: 'pool-exhausted' | 'reservation-conflict' };

interface SpaceState {
  space: LeaseSpace;
  /** Per pool: the next never-used candidate. */
  cursors: number[];
  /**
   * Pool addresses that have (had) a lease, by the time their lease ends: the top is the address
   * free longest ago. Entries go stale when a lease is renewed or retaken; they are checked when
   * popped, and the heap is rebuilt when stale entries pile up.
   */
  ended: ExpiryHeap;
}

/** When a lease's address becomes reusable by others: its end, or earlier if it was given up. */
function freeAt(l: Lease): number {
  return l.state === 'released' || l.state === 'expired' ? Math.min(l.expiresAt, l.updatedAt) : l.expiresAt;
}

/** A binary min-heap of (time, address). */
class ExpiryHeap {
  private at: number[] = [];
  private ip: string[] = [];

  get size(): number {
    return this.at.length;
  }

  clear(): void {
    this.at = [];
    this.ip = [];
  }

  push(t: number, ip: string): void {
    const a = this.at;
    const b = this.ip;
    let i = a.length;
    a.push(t);
    b.push(ip);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p]! <= t) break;
      a[i] = a[p]!;
      b[i] = b[p]!;
      i = p;
    }
    a[i] = t;
    b[i] = ip;
  }

  peekTime(): number | undefined {
    return this.at[0];
  }

  pop(): string | undefined {
    const a = this.at;
    const b = this.ip;
    if (a.length === 0) return undefined;
    const top = b[0];
    const t = a.pop()!;
    const ip = b.pop()!;
    const n = a.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && a[r]! < a[l]! ? r : l;
        if (a[c]! >= t) break;
        a[i] = a[c]!;
        b[i] = b[c]!;
        i = c;
      }
      a[i] = t;
      b[i] = ip;
    }
    return top;
  }
}

/** `id:` keys identify a client on their own; `mac:` keys may be matched by MAC (RFC 2131 §4.2). */
function explicitId(key: string): boolean {
  return key.startsWith('id:');
}

/** Which of a client's rows is "its" lease: a bound or offered one over an ended one. */
function rank(l: Lease): number {
  return l.state === 'bound' || l.state === 'offered' ? 1 : 0;
}

export class LeaseTable {
  private readonly store: LeaseRepository;
  private readonly now: () => number;
  private readonly offerHoldMs: number;
  private readonly quarantineMs: number;
  private readonly byIp = new Map<string, Lease>();
  private readonly byKey = new Map<string, Lease>();
  private readonly byMac = new Map<string, Lease>();
  private readonly spaces = new Map<string, SpaceState>();

  constructor(opts: { store: LeaseRepository; now: () => number; offerHoldMs: number; declineQuarantineMs: number; spaces: LeaseSpace[] }) {
    this.store = opts.store;
    this.now = opts.now;
    this.offerHoldMs = opts.offerHoldMs;
    this.quarantineMs = opts.declineQuarantineMs;
    for (const s of opts.spaces) this.spaces.set(s.key, { space: s, cursors: s.pools.map((p) => p.start), ended: new ExpiryHeap() });
  }

  /** Loads every lease from the store into memory. Rows the table cannot use are skipped and counted. */
  async load(): Promise<{ loaded: number; skipped: number }> {
    const rows = await this.store.listAll();
    rows.sort((a, b) => a.updatedAt - b.updatedAt);
    let loaded = 0;
    let skipped = 0;
    for (const r of rows) {
      if (ipToU32(r.ip) === undefined || typeof r.clientKey !== 'string' || typeof r.mac !== 'string') {
        skipped++;
        continue;
      }
      this.index({ ...r, state: r.state === 'offered' ? 'expired' : r.state });
      loaded++;
    }
    return { loaded, skipped };
  }

  get size(): number {
    return this.byIp.size;
  }

  leaseAt(ip: string): Lease | undefined {
    return this.byIp.get(ip);
  }

  all(): IterableIterator<Lease> {
    return this.byIp.values();
  }

  /** The client's lease in this subnet: by client key, else by MAC unless both sides carry different client ids. */
  findClient(subnet: string, id: ClientIdent): Lease | undefined {
    const k = this.byKey.get(`${subnet}|${id.clientKey}`);
    if (k !== undefined) return k;
    const m = this.byMac.get(`${subnet}|${id.mac}`);
    if (m === undefined) return undefined;
    if (explicitId(m.clientKey) && explicitId(id.clientKey) && m.clientKey !== id.clientKey) return undefined;
    return m;
  }

  /** True if the lease row belongs to this client (same key, or same MAC without conflicting ids). */
  owns(lease: Lease, id: ClientIdent): boolean {
    if (lease.clientKey === id.clientKey) return true;
    if (lease.mac !== id.mac) return false;
    return !(explicitId(lease.clientKey) && explicitId(id.clientKey));
  }

  /** Whether an address may be given to this client now. */
  availableTo(st: LeaseSpace, ipNum: number, id: ClientIdent, now = this.now()): boolean {
    const reservedFor = st.reserved.get(ipNum);
    if (reservedFor !== undefined && reservedFor !== id.mac) return false;
    if (ipNum === st.cidr.network || ipNum === st.cidr.broadcast) return false;
    const l = this.byIp.get(u32ToIp(ipNum));
    if (l === undefined) return true;
    if (this.owns(l, id)) return !(l.state === 'declined' && l.expiresAt > now);
    return !this.active(l, now);
  }

  /** A lease that still holds its address against other clients. */
  active(l: Lease, now: number): boolean {
    return (l.state === 'bound' || l.state === 'offered' || l.state === 'declined') && l.expiresAt > now;
  }

  inPool(space: LeaseSpace, ipNum: number): boolean {
    for (const p of space.pools) if (ipNum >= p.start && ipNum <= p.end) return true;
    return false;
  }

  /**
   * Chooses the address for a client (DISCOVER, or a REQUEST we must allocate for): its current
   * lease, its reservation, the address it asked for, a never-used address, then the longest-free one.
   */
  allocate(subnet: string, id: ClientIdent, requested?: string): AllocateResult {
    const st = this.spaces.get(subnet);
    if (st === undefined) return { ok: false, reason: 'pool-exhausted' };
    const now = this.now();
    const space = st.space;

    const resv = space.reservationByMac.get(id.mac);
    if (resv !== undefined) {
      return this.availableTo(space, resv, id, now) ? { ok: true, ip: u32ToIp(resv), reason: 'reserved' } : { ok: false, reason: 'reservation-conflict' };
    }

    const mine = this.findClient(subnet, id);
    if (mine !== undefined) {
      const n = ipToU32(mine.ip);
      if (n !== undefined && cidrContains(space.cidr, n) && this.inPool(space, n) && this.availableTo(space, n, id, now)) {
        return { ok: true, ip: mine.ip, reason: 'existing' };
      }
    }

    if (requested !== undefined) {
      const n = ipToU32(requested);
      if (n !== undefined && this.inPool(space, n) && this.availableTo(space, n, id, now)) return { ok: true, ip: requested, reason: 'requested' };
    }


    // Never-used addresses first: each pool's cursor only moves forward.
    for (let i = 0; i < space.pools.length; i++) {
      const p = space.pools[i]!;
      let c = st.cursors[i]!;
      while (c <= p.end) {
        if (!this.byIp.has(u32ToIp(c)) && this.availableTo(space, c, id, now)) {
          st.cursors[i] = c + 1;
          return { ok: true, ip: u32ToIp(c), reason: 'free' };
        }
        c++;
      }
      st.cursors[i] = c;
    }

    // Then the address whose lease ended longest ago (keeps recently released addresses for their
    // owners). O(log n) per allocation, O(1) when the pool is full: a flood cannot make us scan.
    const heap = st.ended;
    for (;;) {
      const t = heap.peekTime();
      if (t === undefined || t > now) return { ok: false, reason: 'pool-exhausted' };
      const ip = heap.pop()!;
      const l = this.byIp.get(ip);
      // Stale entry (renewed or retaken since): its current end is in the heap too, or it is active.
      if (l === undefined || freeAt(l) !== t) continue;
      const n = ipToU32(ip)!;
      if (this.availableTo(space, n, id, now)) {
        heap.push(t, ip); // stays a candidate until it is really taken (an OFFER may go unanswered)
        return { ok: true, ip, reason: 'reused' };
      }
    }
  }

  /** Holds an address for a client after an OFFER (memory only: an offer is not a lease). */
  hold(subnet: string, id: ClientIdent, ip: string, hostname: string | null, dhcpServerId: string): Lease {
    const now = this.now();
    const prev = this.byIp.get(ip);
    if (prev !== undefined && this.owns(prev, id) && prev.state === 'bound' && prev.expiresAt > now) {
      return prev; // re-offering a bound lease does not shorten it
    }
    const l: Lease = { subnet, ip, clientKey: this.keyFor(prev, id), mac: id.mac, hostname, state: 'offered', expiresAt: now + this.offerHoldMs, updatedAt: now, dhcpServerId };
    this.index(l);
    return l;
  }

  /**
   * Binds the address to the client and resolves once the row is durable. If the write fails the
   * table keeps the address only as an offer, and the error propagates (no ACK may be sent).
   */
  async bind(subnet: string, id: ClientIdent, ip: string, leaseMs: number, hostname: string | null, dhcpServerId: string): Promise<Lease> {
    const now = this.now();
    const l: Lease = { subnet, ip, clientKey: this.keyFor(this.byIp.get(ip), id), mac: id.mac, hostname, state: 'bound', expiresAt: now + leaseMs, updatedAt: now, dhcpServerId };
    // A client that moved to a new address gives up its old one in this subnet.
    const old = this.findClient(subnet, id);
    this.index(l);
    try {
      await this.store.put(l);
    } catch (err) {
      if (this.byIp.get(ip) === l) this.index({ ...l, state: 'offered', expiresAt: now + this.offerHoldMs });
      throw err;
    }
    if (old !== undefined && old.ip !== ip && this.byIp.get(old.ip) === old && old.state === 'bound') {
      const rel: Lease = { ...old, state: 'released', expiresAt: now, updatedAt: now };
      this.index(rel);
      this.store.put(rel).catch(() => {});
    }
    return l;
  }

  /** The client chose another server (D31): its offer from us ends now. */
  abandonOffer(subnet: string, id: ClientIdent): void {
    const held = this.findClient(subnet, id);
    const now = this.now();
    if (held !== undefined && held.state === 'offered' && held.expiresAt > now) this.index({ ...held, expiresAt: now, updatedAt: now });
  }

  /** Keeps a client id learned earlier (e.g. from the OS) when the same client comes back without one (firmware). */
  private keyFor(prev: Lease | undefined, id: ClientIdent): string {
    if (prev !== undefined && explicitId(prev.clientKey) && !explicitId(id.clientKey) && prev.mac === id.mac) return prev.clientKey;
    return id.clientKey;
  }

  /** DHCPDECLINE: the address is in use by someone else; quarantine it and forget the client. */
  async decline(lease: Lease): Promise<Lease> {
    const now = this.now();
    const l: Lease = { ...lease, clientKey: `declined:${lease.clientKey}`, state: 'declined', expiresAt: now + this.quarantineMs, updatedAt: now };
    this.index(l);
    await this.store.put(l);
    return l;
  }

  /** DHCPRELEASE: the address is free again, but remembered for this client. */
  async release(lease: Lease): Promise<Lease> {
    const now = this.now();
    const l: Lease = { ...lease, state: 'released', expiresAt: now, updatedAt: now };
    this.index(l);
    await this.store.put(l);
    return l;
  }

  /** Marks leases past their end as expired, in memory and in the store. Returns how many changed. */
  async reclaimExpired(): Promise<number> {
    const now = this.now();
    let n = 0;
    for (const l of this.byIp.values()) {
      if ((l.state === 'bound' || l.state === 'offered') && l.expiresAt <= now) {
        l.state = 'expired';
        l.updatedAt = now;
        n++;
      }
    }
    await this.store.reclaimExpired(now);
    return n;
  }

  /** Records when the lease's address becomes reusable, if it belongs to a pool of its subnet. */
  private track(l: Lease): void {
    const st = this.spaces.get(l.subnet);
    if (st === undefined) return;
    const n = ipToU32(l.ip);
    if (n === undefined || !this.inPool(st.space, n) || st.space.reserved.has(n)) return;
    if (st.ended.size > 4 * this.byIp.size + 1024) {
      st.ended.clear();
      for (const o of this.byIp.values()) if (o.subnet === l.subnet && o !== l) this.track(o);
    }
    st.ended.push(freeAt(l), l.ip);
  }

  private index(l: Lease): void {
    const prev = this.byIp.get(l.ip);
    if (prev !== undefined) {
      const pk = `${prev.subnet}|${prev.clientKey}`;
      if (this.byKey.get(pk) === prev) this.byKey.delete(pk);
      const pm = `${prev.subnet}|${prev.mac}`;
      if (this.byMac.get(pm) === prev) this.byMac.delete(pm);
    }
    this.byIp.set(l.ip, l);
    this.track(l);
    if (l.state === 'declined') return; // a quarantined address belongs to no client
    const k = `${l.subnet}|${l.clientKey}`;
    const ck = this.byKey.get(k);
    if (ck === undefined || ck.ip === l.ip || rank(l) >= rank(ck)) this.byKey.set(k, l);
    const m = `${l.subnet}|${l.mac}`;
    const cm = this.byMac.get(m);
    if (cm === undefined || cm.ip === l.ip || rank(l) >= rank(cm)) this.byMac.set(m, l);
  }
}
