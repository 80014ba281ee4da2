// The config file's reservations and `dhcp.boot.groups` (deprecated: the inventory is the one source
// of hosts and groups) seen as inventory records, for a DhcpServer that has no inventory: built on
// its own (tests, a library user) or while its inventory's planner fails. `bootherd serve` imports
// them into the inventory at start (src/daemon/config-import.ts), so the engine answers for them.
import type { BootGroupConfig, DhcpConfig, ReservationConfig } from '../config/dhcp.ts';
import type { BootPlanner, DhcpGroup, DhcpHost } from '../boot/dhcp-plan.ts';
import { planDhcp } from '../boot/dhcp-plan.ts';
import { parseMac } from '../util/mac.ts';

type OptionFields = Pick<ReservationConfig, 'routers' | 'dns_servers' | 'domain_name' | 'ntp_servers' | 'options'>;

/** The DHCP option keys of a reservation or group, or null when it sets none. */
export function optionFieldsOf(f: OptionFields): OptionFields | null {
  const out: OptionFields = {};
  for (const k of ['routers', 'dns_servers', 'domain_name', 'ntp_servers', 'options'] as const) if (f[k] !== undefined) (out as Record<string, unknown>)[k] = f[k];
  return Object.keys(out).length === 0 ? null : out;
}

/** The config's hosts by MAC (a MAC reserved in several subnets: the first). */
export function configHosts(cfg: DhcpConfig): Map<string, DhcpHost> {
  const groups = new Map<string, DhcpGroup>();
  for (const [name, g] of Object.entries(cfg.boot?.groups ?? {}) as [string, BootGroupConfig][]) {
    groups.set(name, { name, bootfiles: g.bootfiles ?? null, ipxeScript: g.ipxe_script ?? null, dhcp: optionFieldsOf(g) });
  }
  const hosts = new Map<string, DhcpHost>();
  for (const s of cfg.subnets ?? []) {
    for (const r of s.reservations ?? []) {
      const mac = parseMac(r.mac);
      if (mac === undefined || hosts.has(mac)) continue;
      hosts.set(mac, {
        id: `config:${mac}`,
        state: 'active',
        hostname: r.hostname ?? null,
        group: r.group === undefined ? undefined : groups.get(r.group),
        firstLoader: undefined,
        bootfile: r.bootfile ?? null,
        ipxeScript: r.ipxe_script ?? null,
        dhcp: optionFieldsOf(r),
      });
    }
  }
  return hosts;
}

/** A planner whose inventory is the config's reservations and groups. */
export function configHostsPlanner(cfg: DhcpConfig): BootPlanner {
  const hosts = configHosts(cfg);
  return { planDhcp: (req, settings) => planDhcp(req, hosts.get(req.mac), settings) };
}
