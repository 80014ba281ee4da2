// The config file's deprecated hosts and groups (`dhcp.subnets[].reservations`, `dhcp.boot.groups`)
// as inventory records: read from a config (legacyRecords), loaded into the inventory when `serve`
// starts (importLegacy: created when absent, empty fields filled, and where both say something
// different the inventory wins and the difference is reported), or printed as a fleet file for
// `bootherd apply -f` (legacyFleetYaml, `bootherd config migrate`).
import { stringify } from 'yaml';
import type { BootGroupConfig, ReservationConfig } from '../config/dhcp.ts';
import type { Labels } from '../store/index.ts';
import type { DhcpOptions } from './types.ts';
import { parseMac } from '../util/mac.ts';
import type { HostView, InventoryService } from './service.ts';
import { isInventoryError } from './errors.ts';

export interface LegacyGroup {
  name: string;
  bootfiles: Record<string, string> | null;
  ipxeScript: string | null;
  dhcp: DhcpOptions | null;
}

export interface LegacyHost {
  mac: string;
  ip: string;
  hostname: string | null;
  group: string | null;
  bootfile: string | null;
  ipxeScript: string | null;
  dhcp: DhcpOptions | null;
}

export interface LegacyRecords {
  groups: LegacyGroup[];
  hosts: LegacyHost[];
}

/** The part of the `dhcp` config section that holds hosts and groups. */
export interface LegacyDhcpConfig {
  subnets?: { reservations?: ReservationConfig[] | undefined }[] | undefined;
  boot?: { groups?: Record<string, BootGroupConfig> | undefined } | undefined;
}

type OptionFields = Pick<ReservationConfig, 'routers' | 'dns_servers' | 'domain_name' | 'ntp_servers' | 'options'>;

/** The DHCP option keys a reservation or group sets, or null when none. */
function optionsOf(f: OptionFields): DhcpOptions | null {
  const out: Record<string, unknown> = {};
  for (const k of ['routers', 'dns_servers', 'domain_name', 'ntp_servers', 'options'] as const) if (f[k] !== undefined) out[k] = f[k];
  return Object.keys(out).length === 0 ? null : (out as DhcpOptions);
}

/** The config's groups and reservations (a MAC reserved in several subnets: the first). */
export function legacyRecords(dhcp: LegacyDhcpConfig): LegacyRecords {
  const groups = Object.entries(dhcp.boot?.groups ?? {}).map(([name, g]) => ({ name, bootfiles: g.bootfiles !== undefined && Object.keys(g.bootfiles).length > 0 ? g.bootfiles : null, ipxeScript: g.ipxe_script ?? null, dhcp: optionsOf(g) }));
  const hosts: LegacyHost[] = [];
  const seen = new Set<string>();
  for (const s of dhcp.subnets ?? []) {
    for (const r of s.reservations ?? []) {
      const mac = parseMac(r.mac);
      if (mac === undefined || seen.has(mac)) continue;
      seen.add(mac);
      hosts.push({ mac, ip: r.ip, hostname: r.hostname ?? null, group: r.group ?? null, bootfile: r.bootfile ?? null, ipxeScript: r.ipxe_script ?? null, dhcp: optionsOf(r) });
    }
  }
  return { groups, hosts };
}

/** What the inventory already holds, for legacyFleetYaml. */
export interface ExistingRecords {
  /** A fleet file sets a group whole: an inventory group of the same name keeps its profile and labels only if they are in the file. */
  groups: ReadonlyMap<string, { profile: string | null; labels: Labels }>;
  /** MACs the inventory has a host for. */
  macs: ReadonlySet<string>;
}

/**
 * The records as a fleet file. A host the inventory does not have yet gets `state: new`: as while
 * the config declared it, its boot plan is the unknown-host policy's (approve it, or give it a
 * profile, to change that); its reservation and boot file apply all the same.
 */
export function legacyFleetYaml(records: LegacyRecords, existing: ExistingRecords = { groups: new Map(), macs: new Set() }): string {
  const groups: Record<string, Record<string, unknown>> = {};
  for (const g of records.groups) {
    const cur = existing.groups.get(g.name);
    groups[g.name] = {
      ...(cur?.profile ? { profile: cur.profile } : {}),
      ...(cur !== undefined && Object.keys(cur.labels).length > 0 ? { labels: cur.labels } : {}),
      ...(g.bootfiles ? { bootfiles: g.bootfiles } : {}),
      ...(g.ipxeScript ? { ipxe_script: g.ipxeScript } : {}),
      ...(g.dhcp ? { dhcp: g.dhcp } : {}),
    };
  }
  const hosts = records.hosts.map((h) => ({
    mac: h.mac,
    ...(h.hostname ? { hostname: h.hostname } : {}),
    ...(h.group ? { group: h.group } : {}),
    ip: h.ip,
    ...(h.bootfile ? { bootfile: h.bootfile } : {}),
    ...(h.ipxeScript ? { ipxe_script: h.ipxeScript } : {}),
    ...(h.dhcp ? { dhcp: h.dhcp } : {}),
    ...(existing.macs.has(h.mac) ? {} : { state: 'new' }),
  }));
  const doc: Record<string, unknown> = {};
  if (records.groups.length > 0) doc['groups'] = groups;
  if (hosts.length > 0) doc['hosts'] = hosts;
  // MACs quoted: YAML 1.1 readers take some unquoted ones for numbers.
  return stringify(doc, { defaultStringType: 'PLAIN', defaultKeyType: 'PLAIN' }).replace(/^(\s*- mac: )([0-9a-f:]+)$/gm, '$1"$2"');
}

export interface ImportReport {
  created: string[];
  /** Empty inventory fields filled from the config: "host MAC: ip". */
  filled: string[];
  /** Where the inventory says something else (it wins), or a record that could not be written. */
  differences: string[];
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** Compares the fields the config sets with a record's: fills what the record leaves empty, reports what differs. */
function merge<T extends Record<string, unknown>>(what: string, config: T, current: Record<string, unknown>, report: ImportReport): Partial<T> {
  const patch: Partial<T> = {};
  for (const [k, v] of Object.entries(config) as [keyof T & string, unknown][]) {
    if (v === null || v === undefined) continue;
    const cur = current[k];
    if (cur === null || cur === undefined) {
      patch[k] = v as T[typeof k];
      report.filled.push(`${what}: ${k}`);
    } else if (!same(cur, v)) {
      report.differences.push(`${what}: ${k} is ${JSON.stringify(cur)} in the inventory, ${JSON.stringify(v)} in the config; the inventory's is used`);
    }
  }
  return patch;
}

/**
 * Loads the config's groups and reservations into the inventory. A host it creates is in state
 * `new`: what it boots follows the unknown-host policy, as it did while the config declared it,
 * and its reserved address, boot file and script make it known to DHCP.
 */
export async function importLegacy(inv: InventoryService, records: LegacyRecords): Promise<ImportReport> {
  const report: ImportReport = { created: [], filled: [], differences: [] };
  const attempt = async (what: string, fn: () => Promise<unknown>) => {
    try {
      await fn();
    } catch (err) {
      if (!isInventoryError(err)) throw err;
      report.differences.push(`${what}: not loaded: ${err.message} (${err.hint})`);
    }
  };
  for (const g of records.groups) {
    const what = `group ${g.name}`;
    await attempt(what, async () => {
      const cur = await inv.findGroup(g.name);
      const fields = { bootfiles: g.bootfiles, ipxeScript: g.ipxeScript, dhcp: g.dhcp };
      if (cur === undefined) {
        await inv.createGroup({ name: g.name, ...fields });
        report.created.push(what);
        return;
      }
      const patch = merge(what, fields, { ...cur }, report);
      if (Object.keys(patch).length > 0) await inv.updateGroup(g.name, patch);
    });
  }
  for (const h of records.hosts) {
    const what = `host ${h.mac}`;
    await attempt(what, async () => {
      const fields = { hostname: h.hostname, group: h.group, ip: h.ip, bootfile: h.bootfile, ipxeScript: h.ipxeScript, dhcp: h.dhcp };
      const cur: HostView | undefined = await inv.findHost(h.mac);
      if (cur === undefined) {
        const owner = (await inv.listHosts()).find((o) => o.ip === h.ip);
        if (owner !== undefined) report.differences.push(`${what}: ip ${h.ip} is reserved for host ${owner.hostname ?? owner.macs[0]} in the inventory; the inventory's is used`);
        await inv.createHost({ macs: [h.mac], state: 'new', ...fields, ip: owner === undefined ? h.ip : null });
        report.created.push(what);
        return;
      }
      const patch = merge(what, fields, { ...cur }, report);
      if (Object.keys(patch).length > 0) await inv.updateHost(cur.id, patch);
    });
  }
  return report;
}
