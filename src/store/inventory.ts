// Hosts (with their MACs), groups and profiles: plain CRUD. The inventory service (src/inventory)
// holds the rules; this file only stores and loads records. Ids are random UUIDs made here.
import { randomUUID } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import type { Database, GroupsTable, HostsTable, ProfilesTable } from './schema.ts';
import type { Gate } from './gate.ts';
import { StoreError } from './errors.ts';
import { withConstraints } from './constraint.ts';
import { MAC_PATTERN, NO_CONTROL, checkOptionalText, checkText, invalid, jsonText, parseJson } from './validate.ts';

export type Labels = Record<string, string>;

export interface Profile {
  id: string;
  name: string;
  /** The profile's settings as the inventory defines them (stored as JSON). */
  spec: Record<string, unknown>;
}
export interface ProfileInput {
  name: string;
  spec: Record<string, unknown>;
}

/** JSON objects the inventory validates (src/inventory/boot-settings.ts); the store checks only their size. */
export type JsonObject = Record<string, unknown>;

export interface Group {
  id: string;
  name: string;
  profileId: string | null;
  labels: Labels;
  /** Architecture key → boot file or URL. */
  bootfiles: Record<string, string> | null;
  ipxeScript: string | null;
  dhcpOptions: JsonObject | null;
}
export interface GroupInput {
  name: string;
  profileId?: string | null;
  labels?: Labels;
  bootfiles?: Record<string, string> | null;
  ipxeScript?: string | null;
  dhcpOptions?: JsonObject | null;
}

export interface Host {
  id: string;
  hostname: string | null;
  /** SMBIOS UUID (DHCP option 97), lower case. */
  uuid: string | null;
  arch: string | null;
  groupId: string | null;
  profileId: string | null;
  state: string;
  labels: Labels;
  /** Lower-case MACs, sorted. */
  macs: string[];
  createdAt: number;
  updatedAt: number;
  /** Reserved IPv4 address (unique among hosts). */
  ip: string | null;
  bootfile: string | null;
  ipxeScript: string | null;
  dhcpOptions: JsonObject | null;
}
export interface HostInput {
  hostname?: string | null;
  uuid?: string | null;
  arch?: string | null;
  groupId?: string | null;
  profileId?: string | null;
  /** Defaults to "new". */
  state?: string;
  labels?: Labels;
  macs?: string[];
  ip?: string | null;
  bootfile?: string | null;
  ipxeScript?: string | null;
  dhcpOptions?: JsonObject | null;
}

export interface ProfileRepository {
  create(input: ProfileInput): Promise<Profile>;
  get(id: string): Promise<Profile | undefined>;
  getByName(name: string): Promise<Profile | undefined>;
  list(): Promise<Profile[]>;
  update(id: string, patch: Partial<ProfileInput>): Promise<Profile>;
  delete(id: string): Promise<boolean>;
}
export interface GroupRepository {
  create(input: GroupInput): Promise<Group>;
  get(id: string): Promise<Group | undefined>;
  getByName(name: string): Promise<Group | undefined>;
  list(): Promise<Group[]>;
  update(id: string, patch: Partial<GroupInput>): Promise<Group>;
  delete(id: string): Promise<boolean>;
}
export interface HostRepository {
  create(input: HostInput): Promise<Host>;
  get(id: string): Promise<Host | undefined>;
  findByMac(mac: string): Promise<Host | undefined>;
  findByUuid(uuid: string): Promise<Host | undefined>;
  list(): Promise<Host[]>;
  /** Changes the given fields; `macs`, when given, replaces the host's MACs. */
  update(id: string, patch: Partial<HostInput>): Promise<Host>;
  delete(id: string): Promise<boolean>;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const STATE = /^[a-z][a-z0-9-]*$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const LABEL_KEY = /^[A-Za-z0-9][A-Za-z0-9._/-]*$/;
const IPV4 = /^(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])){3}$/;
/** A boot file, URL or script path: printable ASCII, no blank at either end. */
const BOOT_PATH = /^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$/;

function checkJsonObject(what: string, field: string, v: unknown, max: number): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v !== 'object' || Array.isArray(v)) throw invalid(what, field, v, 'is not an object');
  return jsonText(what, field, v, max);
}

function objectFrom(s: string | null | undefined): JsonObject | null {
  if (s === null || s === undefined) return null;
  const v = parseJson(s);
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as JsonObject) : null;
}

function bootfilesFrom(s: string | null | undefined): Record<string, string> | null {
  const o = objectFrom(s);
  return o === null ? null : (Object.fromEntries(Object.entries(o).filter(([, x]) => typeof x === 'string')) as Record<string, string>);
}

/** The boot-settings columns of a host or group row from an input or patch (only the keys given). */
function bootColumns(what: string, input: { ipxeScript?: string | null; dhcpOptions?: JsonObject | null }): { ipxe_script?: string | null; dhcp_options?: string | null } {
  const out: { ipxe_script?: string | null; dhcp_options?: string | null } = {};
  if (input.ipxeScript !== undefined) out.ipxe_script = checkOptionalText(what, 'ipxe_script', input.ipxeScript, 255, BOOT_PATH);
  if (input.dhcpOptions !== undefined) out.dhcp_options = checkJsonObject(what, 'dhcp_options', input.dhcpOptions, 65_536);
  return out;
}

function checkLabels(what: string, labels: unknown): string {
  if (labels === undefined || labels === null) return '{}';
  if (typeof labels !== 'object' || Array.isArray(labels)) throw invalid(what, 'labels', labels, 'is not an object of strings');
  const entries = Object.entries(labels as Record<string, unknown>);
  if (entries.length > 64) throw invalid(what, 'labels', `${entries.length} labels`, 'are more than 64');
  for (const [k, v] of entries) {
    checkText(what, 'label key', k, 63, { pattern: LABEL_KEY });
    checkText(what, `label ${k}`, v, 256, { pattern: NO_CONTROL, allowEmpty: true });
  }
  return JSON.stringify(Object.fromEntries(entries.sort(([a], [b]) => (a < b ? -1 : 1))));
}

function labelsFrom(s: string): Labels {
  const v = parseJson(s);
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return {};
  return Object.fromEntries(Object.entries(v).filter(([, x]) => typeof x === 'string')) as Labels;
}

function checkMac(what: string, mac: unknown): string {
  return checkText(what, 'mac', mac, 47, { pattern: MAC_PATTERN }).toLowerCase();
}

function checkUuid(what: string, uuid: unknown): string | null {
  if (uuid === null || uuid === undefined) return null;
  if (typeof uuid !== 'string') throw invalid(what, 'uuid', uuid, 'is not a UUID');
  return checkText(what, 'uuid', uuid.toLowerCase(), 36, { pattern: UUID });
}

function checkSpec(what: string, spec: unknown): string {
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) throw invalid(what, 'spec', spec, 'is not an object');
  return jsonText(what, 'spec', spec, 1_048_576);
}

function notFound(what: string, id: string): StoreError {
  return new StoreError('BH_STORE_NOT_FOUND', `no ${what} with id ${JSON.stringify(id.slice(0, 64))}`, 'List the records to find the right id');
}

function profileFrom(r: Selectable<ProfilesTable>): Profile {
  const spec = parseJson(r.spec);
  return { id: r.id, name: r.name, spec: typeof spec === 'object' && spec !== null && !Array.isArray(spec) ? (spec as Record<string, unknown>) : {} };
}

function groupFrom(r: Selectable<GroupsTable>): Group {
  return { id: r.id, name: r.name, profileId: r.profile_id ?? null, labels: labelsFrom(r.labels), bootfiles: bootfilesFrom(r.bootfiles), ipxeScript: r.ipxe_script ?? null, dhcpOptions: objectFrom(r.dhcp_options) };
}

export function createProfileRepository(db: Kysely<Database>, gate: Gate): ProfileRepository {
  const W = 'a profile';
  const get = async (id: string) => {
    const r = await db.selectFrom('profiles').selectAll().where('id', '=', id).executeTakeFirst();
    return r === undefined ? undefined : profileFrom(r);
  };
  return {
    create: (input) => gate.run(() => withConstraints(`cannot create profile ${JSON.stringify(String(input.name).slice(0, 64))}`, async () => {
      const row = { id: randomUUID(), name: checkText(W, 'name', input.name, 64, { pattern: NAME }), spec: checkSpec(W, input.spec) };
      await db.insertInto('profiles').values(row).execute();
      return profileFrom(row);
    })),
    get: (id) => gate.run(() => get(id)),
    getByName: (name) => gate.run(async () => {
      const r = await db.selectFrom('profiles').selectAll().where('name', '=', name).executeTakeFirst();
      return r === undefined ? undefined : profileFrom(r);
    }),
    list: () => gate.run(async () => (await db.selectFrom('profiles').selectAll().orderBy('name').execute()).map(profileFrom)),
    update: (id, patch) => gate.run(() => withConstraints('cannot update the profile', async () => {
      const set: Partial<ProfilesTable> = {};
      if (patch.name !== undefined) set.name = checkText(W, 'name', patch.name, 64, { pattern: NAME });
      if (patch.spec !== undefined) set.spec = checkSpec(W, patch.spec);
      if (Object.keys(set).length > 0) {
        const r = await db.updateTable('profiles').set(set).where('id', '=', id).executeTakeFirst();
        if (Number(r.numUpdatedRows) === 0) throw notFound('profile', id);
      }
      const p = await get(id);
      if (p === undefined) throw notFound('profile', id);
      return p;
    })),
    delete: (id) => gate.run(async () => Number((await db.deleteFrom('profiles').where('id', '=', id).executeTakeFirst()).numDeletedRows) > 0),
  };
}

export function createGroupRepository(db: Kysely<Database>, gate: Gate): GroupRepository {
  const W = 'a group';
  const get = async (id: string) => {
    const r = await db.selectFrom('groups').selectAll().where('id', '=', id).executeTakeFirst();
    return r === undefined ? undefined : groupFrom(r);
  };
  return {
    create: (input) => gate.run(() => withConstraints(`cannot create group ${JSON.stringify(String(input.name).slice(0, 64))}`, async () => {
      const row = {
        id: randomUUID(),
        name: checkText(W, 'name', input.name, 64, { pattern: NAME }),
        profile_id: input.profileId ?? null,
        labels: checkLabels(W, input.labels),
        bootfiles: checkJsonObject(W, 'bootfiles', input.bootfiles, 16_384),
        ipxe_script: null,
        dhcp_options: null,
        ...bootColumns(W, input),
      };
      await db.insertInto('groups').values(row).execute();
      return groupFrom(row);
    })),
    get: (id) => gate.run(() => get(id)),
    getByName: (name) => gate.run(async () => {
      const r = await db.selectFrom('groups').selectAll().where('name', '=', name).executeTakeFirst();
      return r === undefined ? undefined : groupFrom(r);
    }),
    list: () => gate.run(async () => (await db.selectFrom('groups').selectAll().orderBy('name').execute()).map(groupFrom)),
    update: (id, patch) => gate.run(() => withConstraints('cannot update the group', async () => {
      const set: Partial<GroupsTable> = {};
      if (patch.name !== undefined) set.name = checkText(W, 'name', patch.name, 64, { pattern: NAME });
      if (patch.profileId !== undefined) set.profile_id = patch.profileId;
      if (patch.labels !== undefined) set.labels = checkLabels(W, patch.labels);
      if (patch.bootfiles !== undefined) set.bootfiles = checkJsonObject(W, 'bootfiles', patch.bootfiles, 16_384);
      Object.assign(set, bootColumns(W, patch));
      if (Object.keys(set).length > 0) {
        const r = await db.updateTable('groups').set(set).where('id', '=', id).executeTakeFirst();
        if (Number(r.numUpdatedRows) === 0) throw notFound('group', id);
      }
      const g = await get(id);
      if (g === undefined) throw notFound('group', id);
      return g;
    })),
    delete: (id) => gate.run(async () => Number((await db.deleteFrom('groups').where('id', '=', id).executeTakeFirst()).numDeletedRows) > 0),
  };
}

export function createHostRepository(db: Kysely<Database>, gate: Gate, now: () => number): HostRepository {
  const W = 'a host';
  const load = async (k: Kysely<Database>, rows: Selectable<HostsTable>[]): Promise<Host[]> => {
    if (rows.length === 0) return [];
    const macs = await k.selectFrom('host_macs').select(['mac', 'host_id']).where('host_id', 'in', rows.map((r) => r.id)).orderBy('mac').execute();
    const byHost = new Map<string, string[]>();
    for (const m of macs) byHost.set(m.host_id, [...(byHost.get(m.host_id) ?? []), m.mac]);
    return rows.map((r) => ({
      id: r.id,
      hostname: r.hostname ?? null,
      uuid: r.uuid ?? null,
      arch: r.arch ?? null,
      groupId: r.group_id ?? null,
      profileId: r.profile_id ?? null,
      state: r.state,
      labels: labelsFrom(r.labels),
      macs: byHost.get(r.id) ?? [],
      createdAt: Number(r.created_at),
      updatedAt: Number(r.updated_at),
      ip: r.ip ?? null,
      bootfile: r.bootfile ?? null,
      ipxeScript: r.ipxe_script ?? null,
      dhcpOptions: objectFrom(r.dhcp_options),
    }));
  };
  const getOne = async (k: Kysely<Database>, id: string) =>
    (await load(k, await k.selectFrom('hosts').selectAll().where('id', '=', id).execute()))[0];
  const checkMacs = (macs: unknown): string[] => {
    if (!Array.isArray(macs)) throw invalid(W, 'macs', macs, 'is not a list');
    if (macs.length > 32) throw invalid(W, 'macs', `${macs.length} MACs`, 'are more than 32');
    return [...new Set(macs.map((m) => checkMac(W, m)))];
  };
  return {
    create: (input) => gate.run(() => withConstraints('cannot create the host', async () => {
      const t = now();
      const row: HostsTable = {
        id: randomUUID(),
        hostname: checkOptionalText(W, 'hostname', input.hostname, 253, NAME),
        uuid: checkUuid(W, input.uuid),
        arch: checkOptionalText(W, 'arch', input.arch, 32, NAME),
        group_id: input.groupId ?? null,
        profile_id: input.profileId ?? null,
        state: checkText(W, 'state', input.state ?? 'new', 32, { pattern: STATE }),
        labels: checkLabels(W, input.labels),
        created_at: t,
        updated_at: t,
        ip: checkOptionalText(W, 'ip', input.ip, 15, IPV4),
        bootfile: checkOptionalText(W, 'bootfile', input.bootfile, 255, BOOT_PATH),
        ipxe_script: null,
        dhcp_options: null,
        ...bootColumns(W, input),
      };
      const macs = checkMacs(input.macs ?? []);
      return db.transaction().execute(async (trx) => {
        await trx.insertInto('hosts').values(row).execute();
        if (macs.length > 0) await trx.insertInto('host_macs').values(macs.map((mac) => ({ mac, host_id: row.id }))).execute();
        const h = await getOne(trx, row.id);
        if (h === undefined) throw notFound('host', row.id);
        return h;
      });
    })),
    get: (id) => gate.run(() => getOne(db, id)),
    findByMac: (mac) => gate.run(async () => {
      const m = await db.selectFrom('host_macs').select('host_id').where('mac', '=', String(mac).toLowerCase()).executeTakeFirst();
      return m === undefined ? undefined : getOne(db, m.host_id);
    }),
    findByUuid: (uuid) => gate.run(async () => {
      const rows = await db.selectFrom('hosts').selectAll().where('uuid', '=', String(uuid).toLowerCase()).execute();
      return (await load(db, rows))[0];
    }),
    list: () => gate.run(async () => load(db, await db.selectFrom('hosts').selectAll().orderBy('created_at').orderBy('id').execute())),
    update: (id, patch) => gate.run(() => withConstraints('cannot update the host', async () => {
      const set: Partial<HostsTable> = { updated_at: now() };
      if (patch.hostname !== undefined) set.hostname = checkOptionalText(W, 'hostname', patch.hostname, 253, NAME);
      if (patch.uuid !== undefined) set.uuid = checkUuid(W, patch.uuid);
      if (patch.arch !== undefined) set.arch = checkOptionalText(W, 'arch', patch.arch, 32, NAME);
      if (patch.groupId !== undefined) set.group_id = patch.groupId;
      if (patch.profileId !== undefined) set.profile_id = patch.profileId;
      if (patch.state !== undefined) set.state = checkText(W, 'state', patch.state, 32, { pattern: STATE });
      if (patch.labels !== undefined) set.labels = checkLabels(W, patch.labels);
      if (patch.ip !== undefined) set.ip = checkOptionalText(W, 'ip', patch.ip, 15, IPV4);
      if (patch.bootfile !== undefined) set.bootfile = checkOptionalText(W, 'bootfile', patch.bootfile, 255, BOOT_PATH);
      Object.assign(set, bootColumns(W, patch));
      const macs = patch.macs === undefined ? undefined : checkMacs(patch.macs);
      return db.transaction().execute(async (trx) => {
        const r = await trx.updateTable('hosts').set(set).where('id', '=', id).executeTakeFirst();
        if (Number(r.numUpdatedRows) === 0) throw notFound('host', id);
        if (macs !== undefined) {
          await trx.deleteFrom('host_macs').where('host_id', '=', id).execute();
          if (macs.length > 0) await trx.insertInto('host_macs').values(macs.map((mac) => ({ mac, host_id: id }))).execute();
        }
        const h = await getOne(trx, id);
        if (h === undefined) throw notFound('host', id);
        return h;
      });
    })),
    delete: (id) => gate.run(async () => Number((await db.deleteFrom('hosts').where('id', '=', id).executeTakeFirst()).numDeletedRows) > 0),
  };
}
