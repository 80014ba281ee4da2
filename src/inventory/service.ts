// The inventory service: hosts, groups and profiles by name, with the rules (validation, canonical
// MACs and UUIDs, state transitions, references that must exist) on top of the store's plain
// repositories. The CLI, the API and apply talk to this; it talks to the store.
import type { GroupRepository, HostRepository, KvRepository, ProfileRepository, Host, Group, Profile, Labels } from '../store/index.ts';
import { FIRMWARE_ARCHES } from './types.ts';
import type { DhcpOptions, FirmwareArch, GroupBootSettings, HostBootSettings, HostState, ProfileSpec } from './types.ts';
import { checkBootPath, checkBootfiles, checkDhcpOptions, checkReservedIp } from './boot-settings.ts';
import { InventoryError } from './errors.ts';
import { NAME_PATTERN, referencedProfiles, validateProfileSpec } from './profile.ts';
import { approvedState, canonicalMac, canonicalUuid, checkState, checkTransition, isMac, isUuid, storedState } from './host.ts';
import type { NamedProfile } from './resolve.ts';

/** The parts of the Store the inventory uses (a Store satisfies it). */
export interface InventoryStore {
  readonly hosts: HostRepository;
  readonly groups: GroupRepository;
  readonly profiles: ProfileRepository;
  readonly kv: KvRepository;
}

export interface ProfileView {
  id: string;
  name: string;
  spec: ProfileSpec;
}

export interface GroupView extends GroupBootSettings {
  id: string;
  name: string;
  /** Profile name, or null. */
  profile: string | null;
  labels: Labels;
}

export interface HostView extends HostBootSettings {
  id: string;
  /** Canonical lower-case MACs, sorted. */
  macs: string[];
  hostname: string | null;
  uuid: string | null;
  /** The firmware last seen (or set). */
  arch: FirmwareArch | null;
  /** Group name, or null. */
  group: string | null;
  /** The host's own profile name, or null (it then boots its group's or the default). */
  profile: string | null;
  state: HostState;
  labels: Labels;
  createdAt: number;
  updatedAt: number;
}

export interface HostInput {
  macs: string[];
  hostname?: string | null;
  uuid?: string | null;
  arch?: string | null;
  group?: string | null;
  profile?: string | null;
  /** Default: active (an operator registered it on purpose). */
  state?: string;
  labels?: Labels;
  ip?: string | null;
  bootfile?: string | null;
  ipxeScript?: string | null;
  dhcp?: DhcpOptions | null;
}

export interface HostPatch {
  hostname?: string | null;
  uuid?: string | null;
  arch?: string | null;
  group?: string | null;
  profile?: string | null;
  state?: string;
  /** Replaces all labels. */
  labels?: Labels;
  /** Adds or changes these labels. */
  setLabels?: Labels;
  unsetLabels?: string[];
  /** Replaces all MACs. */
  macs?: string[];
  addMacs?: string[];
  removeMacs?: string[];
  ip?: string | null;
  bootfile?: string | null;
  ipxeScript?: string | null;
  dhcp?: DhcpOptions | null;
}

export interface GroupInput {
  name: string;
  profile?: string | null;
  labels?: Labels;
  bootfiles?: Record<string, string> | null;
  ipxeScript?: string | null;
  dhcp?: DhcpOptions | null;
}

export interface GroupPatch {
  profile?: string | null;
  labels?: Labels;
  setLabels?: Labels;
  unsetLabels?: string[];
  /** Replaces all boot files. */
  bootfiles?: Record<string, string> | null;
  /** Adds or changes these architectures' boot files. */
  setBootfiles?: Record<string, string>;
  unsetBootfiles?: string[];
  ipxeScript?: string | null;
  dhcp?: DhcpOptions | null;
}

export interface HostFilter {
  group?: string;
  state?: string;
  profile?: string;
}

/** What the planner needs to say what a host boots (src/boot/planner.ts decides; `bootherd hosts show` asks it). */
export interface EffectiveBoot {
  host: HostView;
  /** The host's own profile. */
  own: NamedProfile | null;
  group: { name: string; profile: NamedProfile | null } | undefined;
  defaultProfile: NamedProfile | null;
  /** Every profile by name (for menus). */
  profiles: ReadonlyMap<string, ProfileSpec>;
}

/** Where the inventory keeps the name of its default profile. */
export const DEFAULT_PROFILE_KEY = 'inventory.default_profile';

const LABEL_KEY = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,62}$/;
const CONTROL = /[\p{Cc}\u2028\u2029]/u;
const HOSTNAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/;

export function checkName(what: 'profile' | 'group', name: unknown): string {
  if (typeof name !== 'string' || !NAME_PATTERN.test(name)) {
    const code = what === 'profile' ? 'BH_INV_INVALID_PROFILE' : 'BH_INV_INVALID_GROUP';
    throw new InventoryError(code, `${JSON.stringify(String(name).slice(0, 70))} is not a valid ${what} name`, 'use 1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit');
  }
  return name;
}

export function checkLabels(labels: unknown, where = 'labels'): Labels {
  if (typeof labels !== 'object' || labels === null || Array.isArray(labels)) {
    throw new InventoryError('BH_INV_INVALID_HOST', `${where} must be a mapping of key: value`, 'write labels as key: value pairs, e.g. rack: r12');
  }
  const out: Labels = {};
  for (const [k, v] of Object.entries(labels as Record<string, unknown>)) {
    if (!LABEL_KEY.test(k)) throw new InventoryError('BH_INV_INVALID_HOST', `${where}: ${JSON.stringify(k.slice(0, 70))} is not a valid label key`, 'use up to 63 letters, digits, ".", "_", "/" or "-", starting with a letter or digit');
    const value = typeof v === 'number' || typeof v === 'boolean' ? String(v) : v;
    if (typeof value !== 'string' || value.length > 256 || CONTROL.test(value)) {
      throw new InventoryError('BH_INV_INVALID_HOST', `${where}.${k}: the value must be text of at most 256 characters on one line`, 'quote the value, e.g. rack: "r12"');
    }
    out[k] = value;
  }
  if (Object.keys(out).length > 64) throw new InventoryError('BH_INV_INVALID_HOST', `${where}: more than 64 labels`, 'keep at most 64 labels per record');
  return sortLabels(out);
}

export function sortLabels(l: Labels): Labels {
  return Object.fromEntries(Object.entries(l).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

export function checkHostname(v: unknown): string | null {
  if (v === null || v === undefined || v === '') return null;
  if (typeof v !== 'string' || !HOSTNAME.test(v)) {
    throw new InventoryError('BH_INV_INVALID_HOST', `hostname ${JSON.stringify(String(v).slice(0, 70))} is not valid`, 'use letters, digits, ".", "_" and "-" (at most 253), starting with a letter or digit');
  }
  return v;
}

export function checkArch(v: unknown): FirmwareArch | null {
  if (v === null || v === undefined || v === '') return null;
  if (typeof v !== 'string' || !(FIRMWARE_ARCHES as readonly string[]).includes(v)) {
    throw new InventoryError('BH_INV_INVALID_HOST', `arch ${JSON.stringify(String(v).slice(0, 40))} is not a firmware bootherd knows`, `use one of: ${FIRMWARE_ARCHES.join(', ')}`);
  }
  return v as FirmwareArch;
}

export function checkMacs(macs: unknown): string[] {
  if (!Array.isArray(macs)) throw new InventoryError('BH_INV_BAD_MAC', 'macs must be a list', 'write macs: [52:54:00:12:34:56]');
  const out = [...new Set(macs.map((m) => canonicalMac(String(m))))].sort();
  if (out.length > 32) throw new InventoryError('BH_INV_BAD_MAC', `${out.length} MACs on one host`, 'a host has at most 32 MACs');
  return out;
}

function notFound(what: string, ref: string, listCmd: string): InventoryError {
  return new InventoryError('BH_INV_NOT_FOUND', `no ${what} ${JSON.stringify(ref.slice(0, 70))}`, `'${listCmd}' shows the ${what}s there are`);
}

export interface InventoryServiceOptions {
  store: InventoryStore;
  /**
   * A profile that is not in the store, used as the default when the inventory names none (quick
   * mode's `serve --kernel …`). The inventory's own default profile wins over it.
   */
  builtinDefault?: NamedProfile;
}

export class InventoryService {
  readonly #s: InventoryStore;
  readonly #builtin: NamedProfile | undefined;

  constructor(opts: InventoryServiceOptions) {
    this.#s = opts.store;
    this.#builtin = opts.builtinDefault === undefined ? undefined : { name: opts.builtinDefault.name, spec: validateProfileSpec(opts.builtinDefault.spec, opts.builtinDefault.name) };
  }

  // ---- profiles -------------------------------------------------------------------------------

  async listProfiles(): Promise<ProfileView[]> {
    return (await this.#s.profiles.list()).map(profileView);
  }

  async findProfile(name: string): Promise<ProfileView | undefined> {
    const p = await this.#s.profiles.getByName(name);
    return p === undefined ? undefined : profileView(p);
  }

  async getProfile(name: string): Promise<ProfileView> {
    const p = await this.findProfile(name);
    if (p === undefined) throw notFound('profile', name, 'bootherd profiles list');
    return p;
  }

  async createProfile(name: string, spec: unknown): Promise<ProfileView> {
    checkName('profile', name);
    const clean = validateProfileSpec(spec, name);
    if ((await this.#s.profiles.getByName(name)) !== undefined) {
      throw new InventoryError('BH_INV_CONFLICT', `profile ${name} already exists`, `change it with 'bootherd profiles set ${name}', or choose another name`);
    }
    await this.#checkMenuRefs(name, clean);
    return profileView(await this.#s.profiles.create({ name, spec: clean as unknown as Record<string, unknown> }));
  }

  /** Replaces a profile's spec. */
  async updateProfile(name: string, spec: unknown): Promise<ProfileView> {
    const p = await this.getProfile(name);
    const clean = validateProfileSpec(spec, name);
    await this.#checkMenuRefs(name, clean);
    return profileView(await this.#s.profiles.update(p.id, { spec: clean as unknown as Record<string, unknown> }));
  }

  /** Who uses a profile: groups, hosts, other profiles' menus, and whether it is the default. */
  async profileUsers(name: string): Promise<{ groups: string[]; hosts: string[]; menus: string[]; isDefault: boolean }> {
    const p = await this.getProfile(name);
    const groups = (await this.#s.groups.list()).filter((g) => g.profileId === p.id).map((g) => g.name);
    const hosts = (await this.#s.hosts.list()).filter((h) => h.profileId === p.id).map((h) => hostLabel(h));
    const menus = (await this.listProfiles()).filter((o) => o.name !== name && referencedProfiles(o.spec).includes(name)).map((o) => o.name);
    return { groups, hosts, menus, isDefault: (await this.#s.kv.get(DEFAULT_PROFILE_KEY)) === name };
  }

  /** Deletes a profile. In use (by groups, hosts, menus or as the default): refused unless force, which detaches it. */
  async deleteProfile(name: string, opts: { force?: boolean } = {}): Promise<void> {
    const p = await this.getProfile(name);
    const users = await this.profileUsers(name);
    const uses = [
      ...users.groups.map((g) => `group ${g}`),
      ...users.hosts.map((h) => `host ${h}`),
      ...users.menus.map((m) => `the menu of profile ${m}`),
      ...(users.isDefault ? ['the default profile setting'] : []),
    ];
    if (uses.length > 0 && opts.force !== true) {
      throw new InventoryError('BH_INV_IN_USE', `profile ${name} is used by ${uses.slice(0, 5).join(', ')}${uses.length > 5 ? ` and ${uses.length - 5} more` : ''}`, `point them at another profile first, or add --force (they then fall back to their group's or the default profile)`);
    }
    if (users.isDefault) await this.#s.kv.delete(DEFAULT_PROFILE_KEY);
    // Groups and hosts lose the reference through the store's ON DELETE SET NULL.
    await this.#s.profiles.delete(p.id);
  }

  async getDefaultProfile(): Promise<string | null> {
    return (await this.#s.kv.get(DEFAULT_PROFILE_KEY)) ?? null;
  }

  async setDefaultProfile(name: string | null): Promise<void> {
    if (name === null) {
      await this.#s.kv.delete(DEFAULT_PROFILE_KEY);
      return;
    }
    await this.getProfile(name);
    await this.#s.kv.set(DEFAULT_PROFILE_KEY, name);
  }

  async #checkMenuRefs(self: string, spec: ProfileSpec): Promise<void> {
    for (const ref of referencedProfiles(spec)) {
      if (ref === self) throw new InventoryError('BH_INV_INVALID_PROFILE', `profile ${self}: its menu lists itself`, 'list other profiles in a menu');
      if ((await this.#s.profiles.getByName(ref)) === undefined) {
        throw new InventoryError('BH_INV_INVALID_PROFILE', `profile ${self}: its menu lists profile ${ref}, which does not exist`, `create profile ${ref} first, or fix the name`);
      }
    }
  }

  // ---- groups ---------------------------------------------------------------------------------

  async listGroups(): Promise<GroupView[]> {
    const names = await this.#profileNames();
    return (await this.#s.groups.list()).map((g) => groupView(g, names));
  }

  async findGroup(name: string): Promise<GroupView | undefined> {
    const g = await this.#s.groups.getByName(name);
    return g === undefined ? undefined : groupView(g, await this.#profileNames());
  }

  async getGroup(name: string): Promise<GroupView> {
    const g = await this.findGroup(name);
    if (g === undefined) throw notFound('group', name, 'bootherd groups list');
    return g;
  }

  async createGroup(input: GroupInput): Promise<GroupView> {
    const name = checkName('group', input.name);
    const labels = checkLabels(input.labels ?? {});
    const profileId = await this.#profileId(input.profile);
    if ((await this.#s.groups.getByName(name)) !== undefined) {
      throw new InventoryError('BH_INV_CONFLICT', `group ${name} already exists`, `change it with 'bootherd groups set ${name}', or choose another name`);
    }
    const boot = { bootfiles: checkBootfiles(input.bootfiles), ipxeScript: checkBootPath(input.ipxeScript, 'ipxe_script', 'BH_INV_INVALID_GROUP'), dhcpOptions: checkDhcpOptions(input.dhcp, 'BH_INV_INVALID_GROUP') as Record<string, unknown> | null };
    return groupView(await this.#s.groups.create({ name, profileId: profileId ?? null, labels, ...boot }), await this.#profileNames());
  }

  async updateGroup(name: string, patch: GroupPatch): Promise<GroupView> {
    const g = await this.#s.groups.getByName(name);
    if (g === undefined) throw notFound('group', name, 'bootherd groups list');
    const set: Parameters<GroupRepository['update']>[1] = {};
    if (patch.profile !== undefined) set.profileId = await this.#profileId(patch.profile);
    const labels = mergeLabels(g.labels, patch);
    if (labels !== undefined) set.labels = labels;
    if (patch.bootfiles !== undefined || patch.setBootfiles !== undefined || patch.unsetBootfiles !== undefined) {
      const files: Record<string, string> = { ...(patch.bootfiles === undefined ? g.bootfiles : checkBootfiles(patch.bootfiles)), ...checkBootfiles(patch.setBootfiles ?? {}) };
      for (const k of patch.unsetBootfiles ?? []) delete files[k];
      set.bootfiles = checkBootfiles(files);
    }
    if (patch.ipxeScript !== undefined) set.ipxeScript = checkBootPath(patch.ipxeScript, 'ipxe_script', 'BH_INV_INVALID_GROUP');
    if (patch.dhcp !== undefined) set.dhcpOptions = checkDhcpOptions(patch.dhcp, 'BH_INV_INVALID_GROUP') as Record<string, unknown> | null;
    return groupView(await this.#s.groups.update(g.id, set), await this.#profileNames());
  }

  /** Deletes a group. With members: refused unless force, which leaves the hosts without a group. */
  async deleteGroup(name: string, opts: { force?: boolean } = {}): Promise<void> {
    const g = await this.#s.groups.getByName(name);
    if (g === undefined) throw notFound('group', name, 'bootherd groups list');
    const members = (await this.#s.hosts.list()).filter((h) => h.groupId === g.id);
    if (members.length > 0 && opts.force !== true) {
      throw new InventoryError('BH_INV_IN_USE', `group ${name} has ${members.length} host(s): ${members.slice(0, 5).map(hostLabel).join(', ')}${members.length > 5 ? ', …' : ''}`, 'move the hosts to another group first, or add --force (they are left without a group)');
    }
    await this.#s.groups.delete(g.id);
  }

  // ---- hosts ----------------------------------------------------------------------------------

  async listHosts(filter: HostFilter = {}): Promise<HostView[]> {
    const [groups, profiles] = [await this.#groupNames(), await this.#profileNames()];
    let hosts = (await this.#s.hosts.list()).map((h) => hostView(h, groups, profiles));
    if (filter.group !== undefined) hosts = hosts.filter((h) => h.group === filter.group);
    if (filter.profile !== undefined) hosts = hosts.filter((h) => h.profile === filter.profile);
    if (filter.state !== undefined) {
      const st = checkState(filter.state);
      hosts = hosts.filter((h) => h.state === st);
    }
    return hosts;
  }

  /** A host by MAC, UUID, id or hostname; undefined when none matches. Throws BH_INV_AMBIGUOUS for a hostname several hosts share. */
  async findHost(ref: string): Promise<HostView | undefined> {
    const h = await this.#findHostRecord(ref);
    return h === undefined ? undefined : hostView(h, await this.#groupNames(), await this.#profileNames());
  }

  async getHost(ref: string): Promise<HostView> {
    const h = await this.findHost(ref);
    if (h === undefined) throw notFound('host', ref, 'bootherd hosts list');
    return h;
  }

  async createHost(input: HostInput): Promise<HostView> {
    const macs = checkMacs(input.macs);
    if (macs.length === 0) throw new InventoryError('BH_INV_BAD_MAC', 'a host needs at least one MAC', 'add --mac 52:54:00:12:34:56 (the MAC it network-boots from)');
    const uuid = input.uuid === null || input.uuid === undefined || input.uuid === '' ? null : canonicalUuid(input.uuid);
    const state = checkState(input.state ?? 'active');
    const row = {
      macs,
      hostname: checkHostname(input.hostname),
      uuid,
      arch: checkArch(input.arch),
      groupId: await this.#groupId(input.group),
      profileId: await this.#profileId(input.profile),
      state,
      labels: checkLabels(input.labels ?? {}),
      ip: checkReservedIp(input.ip),
      bootfile: checkBootPath(input.bootfile, 'bootfile', 'BH_INV_INVALID_HOST'),
      ipxeScript: checkBootPath(input.ipxeScript, 'ipxe_script', 'BH_INV_INVALID_HOST'),
      dhcpOptions: checkDhcpOptions(input.dhcp, 'BH_INV_INVALID_HOST') as Record<string, unknown> | null,
    };
    await this.#checkUnique(undefined, macs, uuid, row.ip);
    return hostView(await this.#s.hosts.create(row), await this.#groupNames(), await this.#profileNames());
  }

  async updateHost(ref: string, patch: HostPatch): Promise<HostView> {
    const h = await this.#findHostRecord(ref);
    if (h === undefined) throw notFound('host', ref, 'bootherd hosts list');
    const set: Parameters<HostRepository['update']>[1] = {};
    if (patch.hostname !== undefined) set.hostname = checkHostname(patch.hostname);
    if (patch.uuid !== undefined) set.uuid = patch.uuid === null || patch.uuid === '' ? null : canonicalUuid(patch.uuid);
    if (patch.arch !== undefined) set.arch = checkArch(patch.arch);
    if (patch.group !== undefined) set.groupId = await this.#groupId(patch.group);
    if (patch.profile !== undefined) set.profileId = await this.#profileId(patch.profile);
    if (patch.state !== undefined) {
      const to = checkState(patch.state);
      checkTransition(hostLabel(h), storedState(h.state), to);
      set.state = to;
    }
    const labels = mergeLabels(h.labels, patch);
    if (labels !== undefined) set.labels = labels;
    if (patch.ip !== undefined) set.ip = checkReservedIp(patch.ip);
    if (patch.bootfile !== undefined) set.bootfile = checkBootPath(patch.bootfile, 'bootfile', 'BH_INV_INVALID_HOST');
    if (patch.ipxeScript !== undefined) set.ipxeScript = checkBootPath(patch.ipxeScript, 'ipxe_script', 'BH_INV_INVALID_HOST');
    if (patch.dhcp !== undefined) set.dhcpOptions = checkDhcpOptions(patch.dhcp, 'BH_INV_INVALID_HOST') as Record<string, unknown> | null;
    if (patch.macs !== undefined || patch.addMacs !== undefined || patch.removeMacs !== undefined) {
      let macs = patch.macs === undefined ? [...h.macs] : checkMacs(patch.macs);
      macs = [...new Set([...macs, ...checkMacs(patch.addMacs ?? [])])];
      const remove = new Set(checkMacs(patch.removeMacs ?? []));
      for (const m of remove) if (!macs.includes(m)) throw new InventoryError('BH_INV_BAD_MAC', `host ${hostLabel(h)} has no MAC ${m}`, `its MACs are: ${h.macs.join(', ')}`);
      macs = macs.filter((m) => !remove.has(m)).sort();
      if (macs.length === 0) throw new InventoryError('BH_INV_BAD_MAC', `host ${hostLabel(h)} would be left without a MAC`, "add another MAC first, or remove the host with 'bootherd hosts rm'");
      set.macs = macs;
    }
    await this.#checkUnique(h.id, set.macs ?? [], set.uuid ?? null, set.ip ?? null);
    return hostView(await this.#s.hosts.update(h.id, set), await this.#groupNames(), await this.#profileNames());
  }

  /** pending (or new) → active. Approving an active host changes nothing. */
  async approveHost(ref: string): Promise<HostView> {
    const h = await this.#findHostRecord(ref);
    if (h === undefined) throw notFound('host', ref, 'bootherd hosts list');
    const to = approvedState(hostLabel(h), storedState(h.state));
    const updated = to === h.state ? h : await this.#s.hosts.update(h.id, { state: to });
    return hostView(updated, await this.#groupNames(), await this.#profileNames());
  }

  async deleteHost(ref: string): Promise<HostView> {
    const h = await this.getHost(ref);
    await this.#s.hosts.delete(h.id);
    return h;
  }

  /** The records that decide what a host boots: its own profile, its group's, the default, and every profile. */
  async effectiveBoot(ref: string): Promise<EffectiveBoot> {
    const host = await this.getHost(ref);
    const load = async (name: string | null): Promise<NamedProfile | null> => {
      if (name === null) return null;
      const p = await this.findProfile(name);
      return p === undefined ? null : { name: p.name, spec: p.spec };
    };
    const group = host.group === null ? undefined : await this.findGroup(host.group);
    const profiles = new Map((await this.#s.profiles.list()).map((p) => [p.name, p.spec as unknown as ProfileSpec]));
    return {
      host,
      own: await load(host.profile),
      group: group === undefined ? undefined : { name: group.name, profile: await load(group.profile) },
      defaultProfile: await this.defaultProfile(),
      profiles,
    };
  }

  /** The default profile: the inventory's setting, else the built-in (quick mode) one, else null. */
  async defaultProfile(): Promise<NamedProfile | null> {
    const name = await this.getDefaultProfile();
    if (name !== null) {
      const p = await this.findProfile(name);
      if (p !== undefined) return { name: p.name, spec: p.spec };
    }
    return this.#builtin ?? null;
  }

  // ---- helpers --------------------------------------------------------------------------------

  async #findHostRecord(ref: string): Promise<Host | undefined> {
    const r = ref.trim();
    if (isMac(r)) return this.#s.hosts.findByMac(canonicalMac(r));
    if (isUuid(r)) {
      const u = canonicalUuid(r);
      return (await this.#s.hosts.get(u)) ?? (await this.#s.hosts.findByUuid(u));
    }
    const byName = (await this.#s.hosts.list()).filter((h) => h.hostname === r);
    if (byName.length > 1) {
      throw new InventoryError('BH_INV_AMBIGUOUS', `${byName.length} hosts are named ${r}`, `name the host by MAC instead: ${byName.map((h) => h.macs[0] ?? h.id).join(', ')}`);
    }
    return byName[0];
  }

  async #checkUnique(self: string | undefined, macs: string[], uuid: string | null, ip: string | null): Promise<void> {
    if (ip !== null) {
      const other = (await this.#s.hosts.list()).find((o) => o.ip === ip && o.id !== self);
      if (other !== undefined) {
        throw new InventoryError('BH_INV_CONFLICT', `address ${ip} is already reserved for host ${hostLabel(other)}`, `give each host its own address, or take it from the other first: bootherd hosts set ${other.macs[0] ?? other.id} --no-ip`);
      }
    }
    for (const m of macs) {
      const other = await this.#s.hosts.findByMac(m);
      if (other !== undefined && other.id !== self) {
        throw new InventoryError('BH_INV_CONFLICT', `MAC ${m} already belongs to host ${hostLabel(other)}`, `remove it there first: bootherd hosts set ${other.macs[0] ?? other.id} --remove-mac ${m}`);
      }
    }
    if (uuid !== null) {
      const other = await this.#s.hosts.findByUuid(uuid);
      if (other !== undefined && other.id !== self) {
        throw new InventoryError('BH_INV_CONFLICT', `UUID ${uuid} already belongs to host ${hostLabel(other)}`, 'each machine has its own SMBIOS UUID: check which host is which');
      }
    }
  }

  async #profileId(name: string | null | undefined): Promise<string | null> {
    if (name === null || name === undefined || name === '') return null;
    const p = await this.#s.profiles.getByName(name);
    if (p === undefined) throw notFound('profile', name, 'bootherd profiles list');
    return p.id;
  }

  async #groupId(name: string | null | undefined): Promise<string | null> {
    if (name === null || name === undefined || name === '') return null;
    const g = await this.#s.groups.getByName(name);
    if (g === undefined) throw notFound('group', name, 'bootherd groups list');
    return g.id;
  }

  async #profileNames(): Promise<Map<string, string>> {
    return new Map((await this.#s.profiles.list()).map((p) => [p.id, p.name]));
  }

  async #groupNames(): Promise<Map<string, string>> {
    return new Map((await this.#s.groups.list()).map((g) => [g.id, g.name]));
  }
}

function mergeLabels(current: Labels, patch: { labels?: Labels; setLabels?: Labels; unsetLabels?: string[] }): Labels | undefined {
  if (patch.labels === undefined && patch.setLabels === undefined && patch.unsetLabels === undefined) return undefined;
  const out: Labels = { ...(patch.labels === undefined ? current : checkLabels(patch.labels)), ...checkLabels(patch.setLabels ?? {}) };
  for (const k of patch.unsetLabels ?? []) delete out[k];
  return sortLabels(out);
}

/** How a host is named in messages: hostname, else first MAC, else id. */
export function hostLabel(h: { hostname: string | null; macs: string[]; id: string }): string {
  return h.hostname ?? h.macs[0] ?? h.id;
}

function profileView(p: Profile): ProfileView {
  // A stored spec that no longer validates (written by a newer bootherd) is shown as stored.
  try {
    return { id: p.id, name: p.name, spec: validateProfileSpec(p.spec) };
  } catch {
    return { id: p.id, name: p.name, spec: p.spec as unknown as ProfileSpec };
  }
}

function groupView(g: Group, profiles: Map<string, string>): GroupView {
  return { id: g.id, name: g.name, profile: g.profileId === null ? null : (profiles.get(g.profileId) ?? null), labels: sortLabels(g.labels), bootfiles: g.bootfiles, ipxeScript: g.ipxeScript, dhcp: g.dhcpOptions as DhcpOptions | null };
}

function hostView(h: Host, groups: Map<string, string>, profiles: Map<string, string>): HostView {
  return {
    id: h.id,
    macs: [...h.macs].sort(),
    hostname: h.hostname,
    uuid: h.uuid,
    arch: (FIRMWARE_ARCHES as readonly string[]).includes(h.arch ?? '') ? (h.arch as FirmwareArch) : null,
    group: h.groupId === null ? null : (groups.get(h.groupId) ?? null),
    profile: h.profileId === null ? null : (profiles.get(h.profileId) ?? null),
    state: storedState(h.state),
    labels: sortLabels(h.labels),
    createdAt: h.createdAt,
    updatedAt: h.updatedAt,
    ip: h.ip,
    bootfile: h.bootfile,
    ipxeScript: h.ipxeScript,
    dhcp: h.dhcpOptions as DhcpOptions | null,
  };
}
