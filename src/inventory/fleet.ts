// Declarative inventory: a fleet file (YAML) holding profiles, groups and hosts. parseFleet() reads
// and checks it, naming file:line for every problem; planFleet() compares it with the inventory and
// returns the changes (create, change with field-level before → after, delete with prune);
// applyPlan() makes them. Applying the same file twice changes nothing the second time.
//
// The store offers no multi-record transaction, so a plan is checked completely before the first
// write and then applied in a safe order: profiles a menu refers to before the menu, profiles
// before groups, groups before hosts, and deletions last (hosts, groups, then profiles). A run cut
// short leaves a consistent inventory; running apply again finishes the job.
import { LineCounter, isMap, isSeq, parseDocument } from 'yaml';
import type { Document } from 'yaml';
import { ConfigError } from '../errors.ts';
import { suggest } from '../util/suggest.ts';
import type { ConfigProblem } from '../errors.ts';
import type { Labels } from '../store/index.ts';
import type { DhcpOptions, ProfileSpec } from './types.ts';
import { checkBootPath, checkBootfiles, checkDhcpOptions, checkReservedIp } from './boot-settings.ts';
import { HOST_STATES } from './types.ts';
import { profileProblems, referencedProfiles, validateProfileSpec } from './profile.ts';
import { canTransition, canonicalMac, canonicalUuid, storedState, TRANSITIONS } from './host.ts';
import { InventoryError } from './errors.ts';
import { checkArch, checkHostname, checkLabels, checkName, hostLabel, sortLabels } from './service.ts';
import type { HostInput, HostView, InventoryService } from './service.ts';

type Path = (string | number)[];

/** A host as the fleet file gives it: only the keys the file sets; the others are left as they are. */
export interface FleetHost extends HostInput {
  /** Index in the file's hosts list. */
  index: number;
}

export interface FleetGroup {
  profile: string | null;
  labels: Labels;
  bootfiles: Record<string, string> | null;
  ipxeScript: string | null;
  dhcp: DhcpOptions | null;
}

export interface Fleet {
  file: string;
  /** undefined: the file does not set it (left as it is). null: no default profile. */
  defaultProfile?: string | null;
  profiles: Map<string, ProfileSpec>;
  groups: Map<string, FleetGroup>;
  hosts: FleetHost[];
  /** Where a key is in the file, for problems found while planning. */
  locate(path: Path): { source: string; line?: number };
}

export type RecordKind = 'setting' | 'profile' | 'group' | 'host';

export interface FieldChange {
  field: string;
  before: unknown;
  after: unknown;
}

export interface Change {
  op: 'create' | 'update' | 'delete';
  kind: RecordKind;
  /** Profile or group name, host label (first MAC, with the hostname), or the setting's name. */
  name: string;
  /** For create: every field set; for update: what differs; for delete: what is lost (summary). */
  fields: FieldChange[];
  /** Internal: what applyPlan() needs. */
  apply: () => Promise<void>;
}

export interface Plan {
  changes: Change[];
  /** Counts per op, for the summary line. */
  summary: { create: number; update: number; delete: number };
  /** Internal: run before the changes (frees the addresses hosts give up, so two hosts may swap theirs). */
  prepare?: () => Promise<void>;
}

const TOP_KEYS = ['default_profile', 'profiles', 'groups', 'hosts'];
const HOST_KEYS = ['mac', 'macs', 'hostname', 'uuid', 'arch', 'group', 'profile', 'state', 'labels', 'ip', 'bootfile', 'ipxe_script', 'dhcp'];
const GROUP_KEYS = ['profile', 'labels', 'bootfiles', 'ipxe_script', 'dhcp'];
/** A host's keys that the file may leave out (then left as they are): file key → HostView key. */
const HOST_FIELDS = [['hostname', 'hostname'], ['uuid', 'uuid'], ['arch', 'arch'], ['group', 'group'], ['profile', 'profile'], ['state', 'state'], ['ip', 'ip'], ['bootfile', 'bootfile'], ['ipxe_script', 'ipxeScript'], ['dhcp', 'dhcp']] as const;

/** A group as the plan compares it (file key names; undefined for none). */
function groupFields(g: { profile: string | null; labels: Labels; bootfiles: Record<string, string> | null; ipxeScript: string | null; dhcp: DhcpOptions | null }): Record<string, unknown> {
  return { profile: g.profile ?? undefined, labels: g.labels, bootfiles: g.bootfiles ?? undefined, ipxe_script: g.ipxeScript ?? undefined, dhcp: g.dhcp ?? undefined };
}

// ---- parse ---------------------------------------------------------------------------------

function locator(doc: Document.Parsed, lines: LineCounter, file: string): Fleet['locate'] {
  return (path) => {
    for (let n = path.length; n > 0; n--) {
      const parent = n === 1 ? doc.contents : doc.getIn(path.slice(0, n - 1), true);
      const last = path[n - 1];
      let range: [number, number, number] | undefined;
      if (isMap(parent)) {
        const pair = parent.items.find((it) => (it.key as { value?: unknown } | null)?.value === last);
        range = (pair?.key as { range?: [number, number, number] } | undefined)?.range;
      } else if (isSeq(parent) && typeof last === 'number') {
        range = (parent.items[last] as { range?: [number, number, number] } | undefined)?.range;
      }
      if (range !== undefined) return { source: file, line: lines.linePos(range[0]).line };
    }
    return { source: file, line: 1 };
  };
}

function keyOf(path: Path): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? p : `.${p}`;
  return out;
}

function pathOf(dotted: string): Path {
  const out: Path = [];
  for (const m of dotted.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) out.push(m[2] !== undefined ? Number(m[2]) : (m[1] ?? ''));
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Reads a fleet file's text. Throws ConfigError listing every problem as file:line: key: problem (fix: …). */
export function parseFleet(text: string, file: string): Fleet {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const problems: ConfigProblem[] = [];
  for (const e of doc.errors) {
    problems.push({
      source: file,
      line: lines.linePos(e.pos[0]).line,
      key: '',
      message: `YAML syntax: ${e.message.split('\n')[0] ?? e.code}`,
      fix: e.code === 'DUPLICATE_KEY' ? 'keep one of the two keys (a name may appear once)' : 'correct the YAML at that line (indentation with spaces, "key: value")',
    });
  }
  if (problems.length > 0) throw new ConfigError(problems);
  const locate = locator(doc, lines, file);
  const problem = (path: Path, message: string, fix: string) => problems.push({ ...locate(path), key: keyOf(path), message, fix });
  const guard = (path: Path, fn: () => void) => {
    try {
      fn();
    } catch (err) {
      if (!(err instanceof InventoryError)) throw err;
      problem(path, err.message.replace(/^(hostname|arch) /, ''), err.hint);
    }
  };

  const fleet: Fleet = { file, profiles: new Map(), groups: new Map(), hosts: [], locate };
  const js: unknown = doc.toJS() ?? {};
  if (!isObject(js)) {
    throw new ConfigError([{ source: file, line: 1, key: '', message: 'a fleet file is a mapping with profiles:, groups: and hosts:', fix: 'start with "profiles:", "groups:" or "hosts:" (docs/inventory.md)' }]);
  }
  for (const k of Object.keys(js)) if (!TOP_KEYS.includes(k)) problem([k], 'unknown key', suggest(k, TOP_KEYS) ?? `remove it; a fleet file has: ${TOP_KEYS.join(', ')}`);

  const section = (key: string, want: 'map' | 'list'): unknown => {
    const v = js[key];
    if (v === undefined || v === null) return want === 'map' ? {} : [];
    if (want === 'map' ? !isObject(v) : !Array.isArray(v)) {
      problem([key], want === 'map' ? 'must be a mapping of name: settings' : 'must be a list', want === 'map' ? `write ${key}: then one "name:" per entry, indented` : 'write one "- mac: …" entry per host');
      return want === 'map' ? {} : [];
    }
    return v;
  };

  if ('default_profile' in js) {
    const d = js['default_profile'];
    if (d === null || d === '') fleet.defaultProfile = null;
    else if (typeof d !== 'string') problem(['default_profile'], 'must be a profile name', 'write default_profile: NAME, or null for none');
    else fleet.defaultProfile = d;
  }

  for (const [name, spec] of Object.entries(section('profiles', 'map') as Record<string, unknown>)) {
    guard(['profiles', name], () => checkName('profile', name));
    const ps = profileProblems(spec);
    for (const p of ps) problem(['profiles', name, ...pathOf(p.field)], p.message, p.fix);
    if (ps.length === 0) fleet.profiles.set(name, validateProfileSpec(spec, name));
  }

  for (const [name, g] of Object.entries(section('groups', 'map') as Record<string, unknown>)) {
    guard(['groups', name], () => checkName('group', name));
    const body = g ?? {};
    if (!isObject(body)) {
      problem(['groups', name], 'must be a mapping', 'write "profile: NAME" and/or "labels:" under the group');
      continue;
    }
    for (const k of Object.keys(body)) if (!GROUP_KEYS.includes(k)) problem(['groups', name, k], 'unknown key', suggest(k, GROUP_KEYS) ?? `remove it; a group has: ${GROUP_KEYS.join(', ')}`);
    const profile = body['profile'];
    if (profile !== undefined && profile !== null && typeof profile !== 'string') problem(['groups', name, 'profile'], 'must be a profile name', 'write profile: NAME');
    const group: FleetGroup = { profile: typeof profile === 'string' && profile !== '' ? profile : null, labels: {}, bootfiles: null, ipxeScript: null, dhcp: null };
    guard(['groups', name, 'labels'], () => (group.labels = checkLabels(body['labels'] ?? {}, 'labels')));
    guard(['groups', name, 'bootfiles'], () => (group.bootfiles = checkBootfiles(body['bootfiles'])));
    guard(['groups', name, 'ipxe_script'], () => (group.ipxeScript = checkBootPath(body['ipxe_script'], 'ipxe_script', 'BH_INV_INVALID_GROUP')));
    guard(['groups', name, 'dhcp'], () => (group.dhcp = checkDhcpOptions(body['dhcp'], 'BH_INV_INVALID_GROUP')));
    fleet.groups.set(name, group);
  }

  const seenMacs = new Map<string, number>();
  const seenUuids = new Map<string, number>();
  const seenIps = new Map<string, number>();
  (section('hosts', 'list') as unknown[]).forEach((h, i) => {
    const at = (k?: string): Path => (k === undefined ? ['hosts', i] : ['hosts', i, k]);
    if (!isObject(h)) {
      problem(at(), 'must be a mapping', 'write "- mac: 52:54:00:12:34:56" and the host\'s other keys');
      return;
    }
    for (const k of Object.keys(h)) if (!HOST_KEYS.includes(k)) problem(at(k), 'unknown key', suggest(k, HOST_KEYS) ?? `remove it; a host has: ${HOST_KEYS.join(', ')}`);
    const host: FleetHost = { macs: [], index: i };
    const rawMacs: [unknown, Path][] = [];
    if (h['mac'] !== undefined && h['macs'] !== undefined) problem(at('macs'), 'mac and macs are both set', 'list every MAC under macs: and remove mac:');
    if (h['mac'] !== undefined) rawMacs.push([h['mac'], at('mac')]);
    if (h['macs'] !== undefined) {
      if (!Array.isArray(h['macs'])) problem(at('macs'), 'must be a list', 'write macs: [52:54:00:12:34:56, 52:54:00:12:34:57]');
      else h['macs'].forEach((m, j) => rawMacs.push([m, ['hosts', i, 'macs', j]]));
    }
    if (rawMacs.length === 0) problem(at(), 'has no MAC', 'add mac: 52:54:00:12:34:56 (hosts are matched by MAC)');
    for (const [m, path] of rawMacs) {
      // YAML 1.1 reads some unquoted MACs (all digits, colons) as sexagesimal numbers.
      if (typeof m !== 'string') {
        problem(path, `${JSON.stringify(m)} is not a MAC address`, 'quote the MAC: "52:54:00:12:34:56"');
        continue;
      }
      guard(path, () => {
        const mac = canonicalMac(m);
        const prev = seenMacs.get(mac);
        if (prev !== undefined && prev !== i) problem(path, `MAC ${mac} is also listed for hosts[${prev}]`, 'a MAC belongs to one host: remove one of the two');
        seenMacs.set(mac, i);
        if (!host.macs.includes(mac)) host.macs.push(mac);
      });
    }
    host.macs.sort();
    if ('hostname' in h) guard(at('hostname'), () => (host.hostname = checkHostname(h['hostname'])));
    if ('uuid' in h) {
      const u = h['uuid'];
      if (u === null || u === '') host.uuid = null;
      else if (typeof u !== 'string') problem(at('uuid'), 'must be a UUID', 'quote it: uuid: "4c4c4544-0042-3510-8051-c7c04f4a4d32"');
      else guard(at('uuid'), () => {
        host.uuid = canonicalUuid(u);
        const prev = seenUuids.get(host.uuid);
        if (prev !== undefined) problem(at('uuid'), `UUID ${host.uuid} is also listed for hosts[${prev}]`, 'each machine has its own UUID: remove one');
        seenUuids.set(host.uuid, i);
      });
    }
    if ('arch' in h) guard(at('arch'), () => (host.arch = checkArch(h['arch'])));
    for (const k of ['group', 'profile'] as const) {
      if (!(k in h)) continue;
      const v = h[k];
      if (v === null || v === '') host[k] = null;
      else if (typeof v !== 'string') problem(at(k), `must be a ${k} name`, `write ${k}: NAME, or null for none`);
      else host[k] = v;
    }
    if ('state' in h) {
      const s = h['state'];
      if (typeof s !== 'string' || !(HOST_STATES as readonly string[]).includes(s)) problem(at('state'), `${JSON.stringify(s)} is not a host state`, `use one of: ${HOST_STATES.join(', ')}`);
      else host.state = s;
    }
    if ('labels' in h) guard(at('labels'), () => (host.labels = checkLabels(h['labels'] ?? {}, 'labels')));
    if ('ip' in h) guard(at('ip'), () => {
      const ip = (host.ip = checkReservedIp(h['ip']));
      const prev = ip === null ? undefined : seenIps.get(ip);
      if (prev !== undefined) problem(at('ip'), `address ${ip} is also reserved for hosts[${prev}]`, 'give each host its own address');
      if (ip !== null) seenIps.set(ip, i);
    });
    if ('bootfile' in h) guard(at('bootfile'), () => (host.bootfile = checkBootPath(h['bootfile'], 'bootfile', 'BH_INV_INVALID_HOST')));
    if ('ipxe_script' in h) guard(at('ipxe_script'), () => (host.ipxeScript = checkBootPath(h['ipxe_script'], 'ipxe_script', 'BH_INV_INVALID_HOST')));
    if ('dhcp' in h) guard(at('dhcp'), () => (host.dhcp = checkDhcpOptions(h['dhcp'], 'BH_INV_INVALID_HOST')));
    fleet.hosts.push(host);
  });

  if (problems.length > 0) throw new ConfigError(problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0)));
  return fleet;
}

// ---- plan ----------------------------------------------------------------------------------

/** Flattens a value to dotted fields (arrays of scalars and of objects stay whole). */
export function flatten(v: unknown, prefix = ''): Map<string, unknown> {
  const out = new Map<string, unknown>();
  if (isObject(v)) {
    for (const [k, x] of Object.entries(v)) for (const [kk, xx] of flatten(x, prefix === '' ? k : `${prefix}.${k}`)) out.set(kk, xx);
  } else if (prefix !== '') {
    out.set(prefix, v);
  }
  return out;
}

export function diffFields(before: unknown, after: unknown): FieldChange[] {
  const a = flatten(before);
  const b = flatten(after);
  const out: FieldChange[] = [];
  const keys = [...new Set([...b.keys(), ...a.keys()])];
  for (const k of keys) {
    const x = a.get(k);
    const y = b.get(k);
    if (JSON.stringify(x) !== JSON.stringify(y)) out.push({ field: k, before: x, after: y });
  }
  return out;
}

function hostName(h: { macs: string[]; hostname?: string | null | undefined }): string {
  const mac = h.macs[0] ?? '?';
  return h.hostname ? `${mac} (${h.hostname})` : mac;
}

/**
 * Compares a fleet with the inventory. Throws ConfigError (file:line) for references that do not
 * resolve or hosts the file cannot be matched to unambiguously; nothing is written.
 */
export async function planFleet(inv: InventoryService, fleet: Fleet, opts: { prune?: boolean } = {}): Promise<Plan> {
  const prune = opts.prune === true;
  const problems: ConfigProblem[] = [];
  const problem = (path: Path, message: string, fix: string) => problems.push({ ...fleet.locate(path), key: keyOf(path), message, fix });

  const profiles = new Map((await inv.listProfiles()).map((p) => [p.name, p]));
  const groups = new Map((await inv.listGroups()).map((g) => [g.name, g]));
  const hosts = await inv.listHosts();
  const currentDefault = await inv.getDefaultProfile();

  // What exists once the plan has run: the file's records, plus the store's unless pruned.
  const profileWillExist = (n: string) => fleet.profiles.has(n) || (!prune && profiles.has(n));
  const groupWillExist = (n: string) => fleet.groups.has(n) || (!prune && groups.has(n));
  const missingProfileFix = (n: string) => suggest(n, [...fleet.profiles.keys(), ...(prune ? [] : profiles.keys())]) ?? `add profile ${n} under profiles:${prune && profiles.has(n) ? ' (it exists, but --prune deletes what the file does not list)' : ''}`;

  for (const [name, spec] of fleet.profiles) {
    spec.menu?.items.forEach((it, i) => {
      if (it.profile === name) problem(['profiles', name, 'menu', 'items', i, 'profile'], 'a menu cannot list its own profile', 'list other profiles');
      else if (!profileWillExist(it.profile)) problem(['profiles', name, 'menu', 'items', i, 'profile'], `no profile ${it.profile}`, missingProfileFix(it.profile));
    });
    for (const [arch, v] of Object.entries(spec.arch ?? {})) {
      v?.menu?.items.forEach((it, i) => {
        if (!profileWillExist(it.profile)) problem(['profiles', name, 'arch', arch, 'menu', 'items', i, 'profile'], `no profile ${it.profile}`, missingProfileFix(it.profile));
      });
    }
  }
  if (fleet.defaultProfile !== undefined && fleet.defaultProfile !== null && !profileWillExist(fleet.defaultProfile)) {
    problem(['default_profile'], `no profile ${fleet.defaultProfile}`, missingProfileFix(fleet.defaultProfile));
  }
  for (const [name, g] of fleet.groups) {
    if (g.profile !== null && !profileWillExist(g.profile)) problem(['groups', name, 'profile'], `no profile ${g.profile}`, missingProfileFix(g.profile));
  }

  // Match each file host to at most one inventory host: by MAC, else by UUID.
  const byMac = new Map<string, HostView>();
  for (const h of hosts) for (const m of h.macs) byMac.set(m, h);
  const byUuid = new Map(hosts.filter((h) => h.uuid !== null).map((h) => [h.uuid as string, h]));
  const matched = new Map<string, number>(); // host id → file index
  const matches: (HostView | undefined)[] = [];
  for (const fh of fleet.hosts) {
    const found = new Map<string, HostView>();
    for (const m of fh.macs) {
      const h = byMac.get(m);
      if (h !== undefined) found.set(h.id, h);
    }
    if (found.size === 0 && fh.uuid) {
      const h = byUuid.get(fh.uuid);
      if (h !== undefined) found.set(h.id, h);
    }
    if (found.size > 1) {
      problem(['hosts', fh.index], `its MACs belong to ${found.size} different hosts: ${[...found.values()].map(hostLabel).join(', ')}`, "merge them first (bootherd hosts set … --remove-mac, bootherd hosts rm), or list them as separate hosts");
      matches.push(undefined);
      continue;
    }
    const h = [...found.values()][0];
    if (h !== undefined) {
      const prev = matched.get(h.id);
      if (prev !== undefined) problem(['hosts', fh.index], `matches the same host as hosts[${prev}] (${hostLabel(h)})`, 'list each machine once, with all its MACs');
      matched.set(h.id, fh.index);
      if (fh.uuid) {
        const other = byUuid.get(fh.uuid);
        if (other !== undefined && other.id !== h.id) problem(['hosts', fh.index, 'uuid'], `UUID ${fh.uuid} belongs to host ${hostLabel(other)}`, 'each machine has its own UUID: check which host is which');
      }
      if (fh.state !== undefined && !canTransition(storedState(h.state), fh.state as HostView['state'])) {
        problem(['hosts', fh.index, 'state'], `host ${hostLabel(h)} cannot go from ${h.state} to ${fh.state}`, `from ${h.state} a host may go to: ${TRANSITIONS[h.state].join(', ')}`);
      }
    } else if (fh.uuid && byUuid.has(fh.uuid)) {
      problem(['hosts', fh.index, 'uuid'], `UUID ${fh.uuid} belongs to host ${hostLabel(byUuid.get(fh.uuid)!)}`, 'each machine has its own UUID');
    }
    if (fh.ip !== undefined && fh.ip !== null) {
      // The address may be taken from another host only if the file moves that host elsewhere.
      const owner = hosts.find((o) => o.ip === fh.ip && o.id !== h?.id);
      const ownerEntry = owner === undefined ? undefined : fleet.hosts.find((o) => o.macs.some((m) => owner.macs.includes(m)));
      if (owner !== undefined && (ownerEntry === undefined || ownerEntry.ip === undefined || ownerEntry.ip === fh.ip)) {
        problem(['hosts', fh.index, 'ip'], `address ${fh.ip} is reserved for host ${hostLabel(owner)}`, 'give each host its own address (or set another ip: for that host in the file)');
      }
    }
    for (const k of ['group', 'profile'] as const) {
      const ref = fh[k];
      if (ref === undefined || ref === null) continue;
      const ok = k === 'group' ? groupWillExist(ref) : profileWillExist(ref);
      if (!ok) problem(['hosts', fh.index, k], `no ${k} ${ref}`, k === 'profile' ? missingProfileFix(ref) : suggest(ref, [...fleet.groups.keys(), ...(prune ? [] : groups.keys())]) ?? `add group ${ref} under groups:`);
    }
    matches.push(h);
  }
  if (problems.length > 0) throw new ConfigError(problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0)));

  // ---- the changes, in the order they are applied ----
  const changes: Change[] = [];

  // Profiles: those a menu refers to first (a simple topological order; menus only point at profiles).
  const order: string[] = [];
  const visiting = new Set<string>();
  const visit = (n: string) => {
    if (order.includes(n) || visiting.has(n) || !fleet.profiles.has(n)) return;
    visiting.add(n);
    for (const r of referencedProfiles(fleet.profiles.get(n)!)) visit(r);
    visiting.delete(n);
    order.push(n);
  };
  for (const n of [...fleet.profiles.keys()].sort()) visit(n);
  for (const name of order) {
    const spec = fleet.profiles.get(name)!;
    const cur = profiles.get(name);
    if (cur === undefined) {
      changes.push({ op: 'create', kind: 'profile', name, fields: diffFields(undefined, spec), apply: async () => void (await inv.createProfile(name, spec)) });
    } else {
      const fields = diffFields(cur.spec, spec);
      if (fields.length > 0) changes.push({ op: 'update', kind: 'profile', name, fields, apply: async () => void (await inv.updateProfile(name, spec)) });
    }
  }

  if (fleet.defaultProfile !== undefined && fleet.defaultProfile !== currentDefault) {
    const want = fleet.defaultProfile;
    changes.push({
      op: currentDefault === null ? 'create' : want === null ? 'delete' : 'update',
      kind: 'setting',
      name: 'default_profile',
      fields: [{ field: 'default_profile', before: currentDefault ?? undefined, after: want ?? undefined }],
      apply: () => inv.setDefaultProfile(want),
    });
  }

  for (const name of [...fleet.groups.keys()].sort()) {
    const want = fleet.groups.get(name)!;
    const cur = groups.get(name);
    const wantFields = groupFields(want);
    const input = { profile: want.profile, labels: want.labels, bootfiles: want.bootfiles, ipxeScript: want.ipxeScript, dhcp: want.dhcp };
    if (cur === undefined) {
      changes.push({ op: 'create', kind: 'group', name, fields: diffFields(undefined, wantFields), apply: async () => void (await inv.createGroup({ name, ...input })) });
    } else {
      const fields = diffFields(groupFields(cur), wantFields);
      if (fields.length > 0) changes.push({ op: 'update', kind: 'group', name, fields, apply: async () => void (await inv.updateGroup(name, input)) });
    }
  }

  // Hosts: changes that release MACs first, so a MAC moving between hosts is free when it is claimed.
  const hostUpdates: Change[] = [];
  const hostCreates: Change[] = [];
  fleet.hosts.forEach((fh, i) => {
    const cur = matches[i];
    const managed = (h: { macs: string[] } & Partial<Record<string, unknown>>) => {
      const o: Record<string, unknown> = { macs: h.macs };
      for (const [k, view] of HOST_FIELDS) if (view in fh) o[k] = h[view] ?? undefined;
      if (fh.labels !== undefined) o['labels'] = sortLabels((h['labels'] as Labels | undefined) ?? {});
      return o;
    };
    if (cur === undefined) {
      const input = { macs: fh.macs, hostname: fh.hostname ?? null, uuid: fh.uuid ?? null, arch: fh.arch ?? null, group: fh.group ?? null, profile: fh.profile ?? null, state: fh.state ?? 'active', labels: fh.labels ?? {}, ip: fh.ip ?? null, bootfile: fh.bootfile ?? null, ipxeScript: fh.ipxeScript ?? null, dhcp: fh.dhcp ?? null };
      const fields = diffFields(undefined, { ...managed(fh as unknown as { macs: string[] }), state: input.state });
      hostCreates.push({ op: 'create', kind: 'host', name: hostName(fh), fields, apply: async () => void (await inv.createHost(input)) });
    } else {
      const fields = diffFields(managed(cur as unknown as { macs: string[] }), managed(fh as unknown as { macs: string[] }));
      if (fields.length === 0) return;
      const patch = {
        macs: fh.macs,
        ...('hostname' in fh ? { hostname: fh.hostname ?? null } : {}),
        ...('uuid' in fh ? { uuid: fh.uuid ?? null } : {}),
        ...('arch' in fh ? { arch: fh.arch ?? null } : {}),
        ...('group' in fh ? { group: fh.group ?? null } : {}),
        ...('profile' in fh ? { profile: fh.profile ?? null } : {}),
        ...(fh.state !== undefined ? { state: fh.state } : {}),
        ...(fh.labels !== undefined ? { labels: fh.labels } : {}),
        ...('ip' in fh ? { ip: fh.ip ?? null } : {}),
        ...('bootfile' in fh ? { bootfile: fh.bootfile ?? null } : {}),
        ...('ipxeScript' in fh ? { ipxeScript: fh.ipxeScript ?? null } : {}),
        ...('dhcp' in fh ? { dhcp: fh.dhcp ?? null } : {}),
      };
      hostUpdates.push({ op: 'update', kind: 'host', name: hostName(cur), fields, apply: async () => void (await inv.updateHost(cur.id, patch)) });
    }
  });
  // MACs and addresses a host gives up are free before another host claims them.
  const releases = (c: Change) => c.fields.some((f) => f.field === 'macs' || f.field === 'ip');
  // Addresses that move: every host giving one up lets go of it before any host claims one.
  const movingIps = fleet.hosts.flatMap((fh, i) => {
    const cur = matches[i];
    return cur !== undefined && cur.ip !== null && 'ip' in fh && fh.ip !== cur.ip ? [cur.id] : [];
  });
  changes.push(...hostUpdates.filter(releases), ...hostUpdates.filter((c) => !releases(c)), ...hostCreates);

  if (prune) {
    // In name order (a host's name starts with its first MAC): the store lists hosts by creation
    // time, and hosts made within the same millisecond would come in any order.
    const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
    const gone = hosts.filter((h) => !matched.has(h.id)).map((h) => ({ h, name: hostName(h) }));
    for (const { h, name } of gone.sort((a, b) => byName(a.name, b.name))) {
      changes.push({ op: 'delete', kind: 'host', name, fields: [], apply: async () => void (await inv.deleteHost(h.id)) });
    }
    for (const name of [...groups.keys()].sort(byName)) {
      if (!fleet.groups.has(name)) changes.push({ op: 'delete', kind: 'group', name, fields: [], apply: () => inv.deleteGroup(name, { force: true }) });
    }
    for (const name of [...profiles.keys()].sort(byName)) {
      if (!fleet.profiles.has(name)) changes.push({ op: 'delete', kind: 'profile', name, fields: [], apply: () => inv.deleteProfile(name, { force: true }) });
    }
  }

  const summary = { create: 0, update: 0, delete: 0 };
  for (const c of changes) summary[c.op]++;
  return { changes, summary, ...(movingIps.length > 1 ? { prepare: async () => { for (const id of movingIps) await inv.updateHost(id, { ip: null }); } } : {}) };
}

/** Applies a plan's changes in order; onChange is told of each one as it is done. */
export async function applyPlan(plan: Plan, onChange: (c: Change) => void = () => {}): Promise<void> {
  await plan.prepare?.();
  for (const c of plan.changes) {
    await c.apply();
    onChange(c);
  }
}

// ---- diff text -----------------------------------------------------------------------------

function show(v: unknown): string {
  if (v === undefined) return '(none)';
  if (typeof v === 'string') return /^[\x21-\x7e]+$/.test(v) && !/^[-[{"'(]/.test(v) ? v : JSON.stringify(v);
  return JSON.stringify(v);
}

/** The plan as text: `+ kind name` with its fields, `~ kind name` with `field: before → after`, `- kind name`. */
export function formatPlan(plan: Plan): string[] {
  const out: string[] = [];
  for (const c of plan.changes) {
    const sign = c.op === 'create' ? '+' : c.op === 'update' ? '~' : '-';
    out.push(`${sign} ${c.kind} ${c.name}`);
    for (const f of c.fields) {
      if (c.kind === 'setting') out.push(`    ${show(f.before)} → ${show(f.after)}`);
      else if (c.op === 'create') out.push(`    ${f.field}: ${show(f.after)}`);
      else out.push(`    ${f.field}: ${show(f.before)} → ${show(f.after)}`);
    }
  }
  return out;
}

/** A plan as JSON (without the internal apply functions). */
export function planJson(plan: Plan): { changes: Omit<Change, 'apply'>[]; summary: Plan['summary'] } {
  return { changes: plan.changes.map(({ op, kind, name, fields }) => ({ op, kind, name, fields })), summary: plan.summary };
}
