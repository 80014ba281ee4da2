// The host directory: one host record per machine across every boot stage, found by MAC, UUID
// (DHCP option 97 / iPXE ${uuid}) or lease IP, and created on first sighting when the policy says
// so. Keeps an in-memory snapshot of hosts, groups and profiles, so that the synchronous hooks
// (the DHCP planner, TFTP providers) answer without waiting on the store; writes go to the store
// and refresh the snapshot.
//
// No duplicates: every find-or-create in this process runs one at a time (a queue), and a
// concurrent creation by another process (a shared PostgreSQL) hits the unique MAC / UUID
// constraint, after which the record is looked up again instead of created.
import type { Logger } from '../log/logger.ts';
import { RateLimitedLog } from '../log/logger.ts';
import type { Group, Host, HostRepository, GroupRepository, KvRepository, LeaseRepository, ProfileRepository } from '../store/index.ts';
import { isStoreError } from '../store/index.ts';
import type { DhcpOptions, FirmwareArch, ProfileSpec } from '../inventory/types.ts';
import { DEFAULT_PROFILE_KEY } from '../inventory/service.ts';

export interface HostDirectoryStore {
  hosts: HostRepository;
  groups: GroupRepository;
  profiles: ProfileRepository;
  leases?: LeaseRepository;
  /** Holds the inventory's default profile name (`inventory.default_profile`). */
  kv?: KvRepository;
}


export interface HostDirectoryOptions {
  store: HostDirectoryStore;
  logger: Logger;
  now?: () => number;
  /** New host records created per minute at most (a flood of random MACs must not fill the inventory). Default 120. */
  maxNewPerMinute?: number;
  /** Quick mode's built-in profile: the default when the inventory names none. */
  builtinDefault?: { name: string; spec: ProfileSpec } | undefined;
}

export interface Sighting {
  mac?: string | undefined;
  uuid?: string | undefined;
  /** The client's IPv4 address (lease or HTTP source). */
  ip?: string | undefined;
  arch?: FirmwareArch | undefined;
  /** Create a record when none matches. */
  create: boolean;
  /** State of a created record (`pending` under the register policy). */
  state?: 'new' | 'pending';
  /** Move an existing record in state `new` to `pending` (register policy). */
  promoteToPending?: boolean;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** An address the inventory reserves: a host's `ip`, for its first MAC. */
export interface ReservedAddress {
  mac: string;
  ip: string;
  /** The host, for log lines: its hostname, else its id. */
  host: string;
}

/** A group as the DHCP stage of the plan sees it: its name, profile and boot settings. */
export interface GroupSnapshot {
  name: string;
  profile: { name: string; spec: ProfileSpec } | undefined;
  bootfiles: Record<string, string> | null;
  ipxeScript: string | null;
  /** As stored: the DHCP server encodes what it can and skips the rest. */
  dhcp: DhcpOptions | null;
}

export class HostDirectory {
  private readonly store: HostDirectoryStore;
  private readonly log: Logger;
  private readonly rl: RateLimitedLog;
  private readonly now: () => number;
  private readonly maxNew: number;
  private hosts = new Map<string, Host>();
  private macIndex = new Map<string, string>();
  private uuidIndex = new Map<string, string>();
  private readonly ipIndex = new Map<string, { hostId?: string; mac?: string; at: number }>();
  /** The address setIp saw last (the newest in ipIndex's order). */
  private lastIp: string | undefined;
  private groups = new Map<string, Group>();
  private profilesById = new Map<string, { name: string; spec: ProfileSpec }>();
  private profilesByName = new Map<string, ProfileSpec>();
  private defaultName: string | undefined;
  private readonly builtinDefault: { name: string; spec: ProfileSpec } | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private window = { start: 0, count: 0 };
  /**
   * Changes whenever the snapshot may have (a reload, a host record added or changed): anything
   * derived from the snapshot (the engine's rendered scripts) is valid only for the epoch it was
   * made in.
   */
  epoch = 0;

  constructor(opts: HostDirectoryOptions) {
    this.store = opts.store;
    this.log = opts.logger;
    this.now = opts.now ?? Date.now;
    this.rl = new RateLimitedLog(opts.logger, 5, 60_000, this.now);
    this.maxNew = opts.maxNewPerMinute ?? 120;
    this.builtinDefault = opts.builtinDefault;
  }

  /** Reloads hosts, groups and profiles from the store into the snapshot. */
  async refresh(): Promise<void> {
    const [hosts, groups, profiles, defaultName] = await Promise.all([this.store.hosts.list(), this.store.groups.list(), this.store.profiles.list(), this.store.kv?.get(DEFAULT_PROFILE_KEY)]);
    this.defaultName = defaultName;
    this.hosts = new Map(hosts.map((h) => [h.id, h]));
    this.reindex();
    this.groups = new Map(groups.map((g) => [g.id, g]));
    this.profilesById = new Map(profiles.map((p) => [p.id, { name: p.name, spec: p.spec as unknown as ProfileSpec }]));
    this.profilesByName = new Map(profiles.map((p) => [p.name, p.spec as unknown as ProfileSpec]));
    this.epoch++;
  }

  private reindex(): void {
    this.macIndex = new Map();
    this.uuidIndex = new Map();
    for (const h of this.hosts.values()) {
      for (const m of h.macs) this.macIndex.set(m, h.id);
      if (h.uuid !== null) this.uuidIndex.set(h.uuid, h.id);
    }
  }

  private remember(h: Host): Host {
    const old = this.hosts.get(h.id);
    if (old !== undefined) {
      for (const m of old.macs) if (this.macIndex.get(m) === h.id) this.macIndex.delete(m);
      if (old.uuid !== null && this.uuidIndex.get(old.uuid) === h.id) this.uuidIndex.delete(old.uuid);
    }
    this.hosts.set(h.id, h);
    for (const m of h.macs) this.macIndex.set(m, h.id);
    if (h.uuid !== null) this.uuidIndex.set(h.uuid, h.id);
    this.epoch++;
    return h;
  }

  // ------------------------------------------------------------ snapshot reads (synchronous)

  byMac(mac: string | undefined): Host | undefined {
    const id = mac === undefined ? undefined : this.macIndex.get(mac.toLowerCase());
    return id === undefined ? undefined : this.hosts.get(id);
  }

  byUuid(uuid: string | undefined): Host | undefined {
    const id = uuid === undefined ? undefined : this.uuidIndex.get(uuid.toLowerCase());
    return id === undefined ? undefined : this.hosts.get(id);
  }

  /** The host last seen at this IP (HTTP source or lease), if the record still exists. */
  byIp(ip: string | undefined): Host | undefined {
    const e = ip === undefined ? undefined : this.ipIndex.get(ip);
    if (e === undefined) return undefined;
    return e.hostId !== undefined ? this.hosts.get(e.hostId) : this.byMac(e.mac);
  }

  byId(id: string): Host | undefined {
    return this.hosts.get(id);
  }

  /** The first match by MAC, then UUID, then IP, in the snapshot. */
  find(s: { mac?: string | undefined; uuid?: string | undefined; ip?: string | undefined }): Host | undefined {
    return this.byMac(s.mac) ?? this.byUuid(s.uuid) ?? this.byIp(s.ip);
  }

  /** Records that `ip` belongs to the host (bounded: the oldest entries go first). */
  rememberIp(ip: string, hostId: string): void {
    this.setIp(ip, { hostId, at: this.now() });
  }

  /** Records that `ip` was leased to `mac` (a DHCP ACK); resolved to the MAC's host when asked. */
  rememberLease(ip: string, mac: string): void {
    this.setIp(ip, { mac: mac.toLowerCase(), at: this.now() });
  }

  private setIp(ip: string, e: { hostId?: string; mac?: string; at: number }): void {
    // The same client again (it is then already the newest entry): refresh it in place.
    if (ip === this.lastIp) {
      const cur = this.ipIndex.get(ip);
      if (cur !== undefined && cur.hostId === e.hostId && cur.mac === e.mac) {
        cur.at = e.at;
        return;
      }
    }
    this.lastIp = ip;
    this.ipIndex.delete(ip);
    this.ipIndex.set(ip, e);
    if (this.ipIndex.size > 65_536) this.ipIndex.delete(this.ipIndex.keys().next().value!);
  }

  /** The host's own profile (the planner picks between it, its group's and the default). */
  ownProfile(h: Host): { name: string; spec: ProfileSpec } | undefined {
    return h.profileId === null ? undefined : this.profilesById.get(h.profileId);
  }

  /** The host's group with the group's profile and boot settings. */
  groupOf(h: Host): GroupSnapshot | undefined {
    const g = h.groupId === null ? undefined : this.groups.get(h.groupId);
    if (g === undefined) return undefined;
    return { name: g.name, profile: g.profileId === null ? undefined : this.profilesById.get(g.profileId), bootfiles: g.bootfiles, ipxeScript: g.ipxeScript, dhcp: g.dhcpOptions as DhcpOptions | null };
  }

  /** Every reserved address in the snapshot: each host with an `ip`, for its first MAC (sorted). */
  reservations(): ReservedAddress[] {
    const out: ReservedAddress[] = [];
    for (const h of this.hosts.values()) {
      const mac = [...h.macs].sort()[0];
      if (h.ip !== null && mac !== undefined) out.push({ mac, ip: h.ip, host: h.hostname ?? h.id });
    }
    return out;
  }

  /** The inventory's default profile, else the built-in one (quick mode), else undefined. */
  defaultProfile(): { name: string; spec: ProfileSpec } | undefined {
    const spec = this.defaultName === undefined ? undefined : this.profilesByName.get(this.defaultName);
    return spec !== undefined ? { name: this.defaultName!, spec } : this.builtinDefault;
  }

  profiles(): ReadonlyMap<string, ProfileSpec> {
    return this.profilesByName;
  }

  // ------------------------------------------------------------ find-or-create (asynchronous)

  /**
   * identify's fast path, synchronous: the host when the snapshot already holds everything this
   * sighting could teach (every DHCP packet or script fetch of a known machine would otherwise cost
   * a store round trip); undefined when identify must ask the store.
   */
  known(s: Sighting): Host | undefined {
    const known = s.mac === undefined ? undefined : this.byMac(s.mac);
    if (known === undefined || (s.uuid !== undefined && known.uuid !== s.uuid) || (s.arch !== undefined && known.arch === null) || (s.promoteToPending === true && known.state === 'new')) return undefined;
    if (s.ip !== undefined) this.rememberIp(s.ip, known.id);
    return known;
  }

  /** Finds the one host record of a machine, creating it when asked; serialized in this process. */
  identify(s: Sighting): Promise<Host | undefined> {
    const known = this.known(s);
    if (known !== undefined) return Promise.resolve(known);
    const run = this.queue.then(() => this.identifyNow(s));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async findInStore(s: Sighting): Promise<Host | undefined> {
    const mac = s.mac?.toLowerCase();
    const byMac = mac === undefined ? undefined : await this.store.hosts.findByMac(mac);
    const byUuid = s.uuid === undefined ? undefined : await this.store.hosts.findByUuid(s.uuid);
    if (byMac !== undefined && byUuid !== undefined && byMac.id !== byUuid.id) {
      // Two records claim this machine (or someone spoofs one): keep the MAC's, never merge silently (TM-03).
      this.rl.warn(`split:${byMac.id}:${byUuid.id}`, { code: 'BH_BOOT_HOST_SPLIT', mac, uuid: s.uuid, macHost: byMac.id, uuidHost: byUuid.id }, 'a MAC and a UUID seen together belong to two different host records: check for a spoofed client, or merge the records');
      return byMac;
    }
    let h = byMac ?? byUuid;
    // The IP is the weakest identity (reused by DHCP, shared behind NAT): only when nothing else is known.
    if (h === undefined && mac === undefined && s.uuid === undefined && s.ip !== undefined) {
      h = this.byIp(s.ip);
      if (h === undefined && this.store.leases !== undefined) {
        const lease = await this.store.leases.get(s.ip);
        if (lease !== undefined && (lease.state === 'bound' || lease.state === 'offered')) h = await this.store.hosts.findByMac(lease.mac);
      }
    }
    return h;
  }

  private async identifyNow(s: Sighting): Promise<Host | undefined> {
    let h = await this.findInStore(s);
    if (h === undefined && s.create && s.mac !== undefined) h = await this.create(s);
    if (h === undefined) return undefined;
    h = await this.complete(h, s);
    if (s.ip !== undefined) this.rememberIp(s.ip, h.id);
    return this.remember(h);
  }

  /** Adds what the sighting taught (a new MAC, the UUID, the arch, pending) to an existing record. */
  private async complete(h: Host, s: Sighting): Promise<Host> {
    const patch: { macs?: string[]; uuid?: string; arch?: string; state?: string } = {};
    const mac = s.mac?.toLowerCase();
    if (mac !== undefined && !h.macs.includes(mac) && h.macs.length < 32 && (await this.store.hosts.findByMac(mac)) === undefined) patch.macs = [...h.macs, mac];
    if (s.uuid !== undefined && h.uuid === null && (await this.store.hosts.findByUuid(s.uuid)) === undefined) patch.uuid = s.uuid;
    if (s.arch !== undefined && h.arch === null) patch.arch = s.arch;
    if (s.promoteToPending === true && h.state === 'new') patch.state = 'pending';
    if (Object.keys(patch).length === 0) return h;
    try {
      return await this.store.hosts.update(h.id, patch);
    } catch (err) {
      if (isStoreError(err) && err.code === 'BH_STORE_CONFLICT') return (await this.store.hosts.get(h.id)) ?? h; // another server took the MAC/UUID first
      throw err;
    }
  }

  private async create(s: Sighting): Promise<Host | undefined> {
    const t = this.now();
    if (t - this.window.start >= 60_000) this.window = { start: t, count: 0 };
    if (this.window.count >= this.maxNew) {
      this.rl.warn('new-host-limit', { code: 'BH_BOOT_NEW_HOST_LIMIT', limit: this.maxNew }, `more than ${this.maxNew} new machines in a minute: not recording more (a flood of random MACs?); they boot as unknown hosts`);
      return undefined;
    }
    this.window.count++;
    try {
      const h = await this.store.hosts.create({
        macs: [s.mac!.toLowerCase()],
        uuid: s.uuid ?? null,
        arch: s.arch !== undefined && NAME.test(s.arch) ? s.arch : null,
        state: s.state ?? 'new',
      });
      this.log.info({ host: h.id, mac: h.macs[0], uuid: h.uuid, state: h.state }, 'new machine recorded');
      return h;
    } catch (err) {
      // Another process created it between our lookup and insert: use that record.
      if (isStoreError(err) && err.code === 'BH_STORE_CONFLICT') return this.findInStore({ ...s, create: false });
      throw err;
    }
  }
}
