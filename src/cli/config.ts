// `bootherd config check FILE`: validate a configuration and print every problem with file:line,
// the key and a fix. Exit 0 when valid, 2 when not.
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { loadConfig } from '../config/load.ts';
import type { ConfigCheck, LoadOptions, ResolvedConfig } from '../config/load.ts';
import { checkDhcpConfig } from '../dhcp/check.ts';

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
}
