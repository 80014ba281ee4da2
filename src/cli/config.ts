// `bootherd config check FILE`: validate a configuration and print every problem with file:line,
// the key and a fix. Exit 0 when valid, 2 when not.
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { loadConfig } from '../config/load.ts';
import type { ConfigCheck, LoadOptions, ResolvedConfig } from '../config/load.ts';
import { checkDhcpConfig } from '../dhcp/check.ts';
import { legacyFleetYaml, legacyRecords } from '../inventory/legacy.ts';
import type { ExistingRecords } from '../inventory/legacy.ts';
import { withInventory } from './store.ts';

/** What the schema cannot express, checked by the layers that own those settings. */
export const CONFIG_CHECKS: readonly ConfigCheck[] = [checkDhcpConfig];

/** loadConfig with every server's own checks: what every command that reads the config uses. */
export function loadServerConfig(opts: Omit<LoadOptions, 'checks'> = {}): ResolvedConfig {
  return loadConfig({ ...opts, checks: CONFIG_CHECKS });
}

export const DEFAULT_CONFIG_FILE = '/etc/bootherd/bootherd.yaml';

/** $BOOTHERD_CONFIG, else the system-wide file when it exists, else none (built-in defaults). */
export function configFileFromEnv(): string | undefined {
  const fromEnv = process.env['BOOTHERD_CONFIG'];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  return existsSync(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : undefined;
}

export function registerConfig(program: Command): void {
  const config = program.command('config').description('work with configuration files');
  config
    .command('check')
    .description('validate a configuration file (and BOOTHERD_* environment overrides); print each problem with file:line and a fix')
    .argument('<file>', 'YAML configuration file')
    .option('--print', 'print the resulting configuration, with every default filled in, as JSON')
    .action((file: string, opts: { print?: boolean }) => {
      const resolved = loadServerConfig({ file });
      if (opts.print === true) process.stdout.write(`${JSON.stringify(resolved, null, 2)}\n`);
      else process.stdout.write(`${file}: OK\n`);
    });
  config
    .command('migrate')
    .description("print a fleet file (for 'bootherd apply -f') holding the config's deprecated dhcp.subnets[].reservations and dhcp.boot.groups")
    .argument('[file]', 'YAML configuration file (default: $BOOTHERD_CONFIG, else /etc/bootherd/bootherd.yaml)')
    .option('--no-inventory', "do not read the inventory (an existing group's profile and labels are then not carried into the file)")
    .action(async (file: string | undefined, opts: { inventory: boolean }) => {
      const source = file ?? configFileFromEnv();
      const resolved = loadServerConfig({ file: source });
      const records = legacyRecords(resolved.dhcp);
      const where = source ?? 'the configuration';
      if (records.hosts.length === 0 && records.groups.length === 0) {
        process.stdout.write(`# ${where} has no dhcp.subnets[].reservations and no dhcp.boot.groups: nothing to move\n`);
        return;
      }
      // A fleet file sets a group whole: an inventory group of the same name keeps its profile and labels only if the file has them.
      let existing: ExistingRecords = { groups: new Map(), macs: new Set() };
      if (opts.inventory) {
        existing = await withInventory({ ...(source !== undefined ? { config: source } : {}) }, async (inv) => ({
          groups: new Map((await inv.listGroups()).map((g) => [g.name, { profile: g.profile, labels: g.labels }])),
          macs: new Set((await inv.listHosts()).flatMap((h) => h.macs)),
        }));
      }
      process.stdout.write(
        `# The hosts and groups of ${where} (dhcp.subnets[].reservations, dhcp.boot.groups), as a fleet file.\n` +
          `# Apply it with: bootherd apply -f FILE, then delete those keys from ${where} (the inventory is their one source).\n` +
          legacyFleetYaml(records, existing),
      );
    });
}
