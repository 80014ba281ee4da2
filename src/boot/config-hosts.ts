// The config file's deprecated reservations and `dhcp.boot.groups` seen as inventory records, for a
// DhcpServer that has no inventory: built on its own (tests, a library user) or while its
// inventory's planner fails. `bootherd serve` loads them into the inventory at start
// (src/inventory/legacy.ts), so there the engine answers for them from the inventory.
import type { BootPlanner, DhcpGroup, DhcpHost } from './dhcp-plan.ts';
import { planDhcp } from './dhcp-plan.ts';
import { legacyRecords } from '../inventory/legacy.ts';
import type { LegacyDhcpConfig } from '../inventory/legacy.ts';

/** The config's hosts by MAC, each with its config group. */
export function configHosts(cfg: LegacyDhcpConfig): Map<string, DhcpHost> {
  const r = legacyRecords(cfg);
  const groups = new Map<string, DhcpGroup>(r.groups.map((g) => [g.name, g]));
  return new Map(r.hosts.map((h) => [h.mac, { id: `config:${h.mac}`, state: 'active', hostname: h.hostname, group: h.group === null ? undefined : groups.get(h.group), firstLoader: undefined, bootfile: h.bootfile, ipxeScript: h.ipxeScript, dhcp: h.dhcp }]));
}

/** A planner whose inventory is the config's reservations and groups. */
export function configHostsPlanner(cfg: LegacyDhcpConfig): BootPlanner {
  const hosts = configHosts(cfg);
  return { planDhcp: (req, settings) => planDhcp(req, hosts.get(req.mac), settings) };
}
