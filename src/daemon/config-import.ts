// At `serve` start: the config's deprecated hosts and groups (`dhcp.subnets[].reservations`,
// `dhcp.boot.groups`) go into the inventory, the one source of hosts and groups, so existing
// configs keep working. One warning says the keys are deprecated and how to move them; each place
// where the inventory already says something else (the inventory wins) is a warning of its own.
import type { ResolvedConfig } from '../config/load.ts';
import type { Logger } from '../log/logger.ts';
import type { Store } from '../store/index.ts';
import { InventoryService } from '../inventory/service.ts';
import { importLegacy, legacyRecords } from '../inventory/legacy.ts';

export async function importConfigHosts(config: Pick<ResolvedConfig, 'dhcp' | 'source'>, store: Store, log: Logger): Promise<void> {
  const records = legacyRecords(config.dhcp);
  if (records.hosts.length === 0 && records.groups.length === 0) return;
  const file = config.source;
  log.warn(
    { code: 'BH_CONFIG_HOSTS_DEPRECATED', file, reservations: records.hosts.length, groups: records.groups.length },
    `${file}: dhcp.subnets[].reservations and dhcp.boot.groups are deprecated; bootherd loaded them into the inventory, now their one source. Move them: bootherd config migrate ${file} > fleet.yaml && bootherd apply -f fleet.yaml, then delete those keys from ${file}`,
  );
  let report: Awaited<ReturnType<typeof importLegacy>>;
  try {
    report = await importLegacy(new InventoryService({ store }), records);
  } catch (err) {
    log.warn({ code: 'BH_CONFIG_HOSTS_DIFFER', err }, 'could not load the config reservations and groups into the inventory (see the error); DHCP answers from what the inventory has');
    return;
  }
  if (report.created.length > 0 || report.filled.length > 0) log.info({ created: report.created, filled: report.filled }, 'config reservations and groups loaded into the inventory');
  for (const d of report.differences) log.warn({ code: 'BH_CONFIG_HOSTS_DIFFER', difference: d }, `config reservations and groups: ${d}`);
}
