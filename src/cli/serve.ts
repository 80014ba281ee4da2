// `bootherd serve`: run the servers. Works with no config file at all: `bootherd serve
// --interface eth0` answers PXE clients on eth0 as ProxyDHCP and serves TFTP and HTTP.
import type { Command } from 'commander';
import { loadConfig } from '../config/load.ts';
import { LOG_LEVELS } from '../log/logger.ts';
import type { LogLevel } from '../log/logger.ts';
import { createLogger } from '../log/logger.ts';
import { serve } from '../daemon/serve.ts';
import { bindServices } from '../daemon/services.ts';
import { CliError, EXIT_USAGE } from './errors.ts';
import { configFileFromEnv } from './config.ts';

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run bootherd (DHCP/ProxyDHCP on the configured interfaces, TFTP, HTTP) until SIGTERM or SIGINT')
    .option('-c, --config <file>', 'YAML configuration file (default: $BOOTHERD_CONFIG, else /etc/bootherd/bootherd.yaml if it exists, else built-in defaults)')
    .option('-i, --interface <name[:mode]>', 'serve DHCP on this interface; mode proxy (default) or full; repeatable', collect, [])
    .option('--log-level <level>', `log level: ${LOG_LEVELS.join(', ')}`)
    .option('--log-format <format>', 'log format: auto, json or pretty')
    .option('--state-dir <dir>', 'state directory (database, generated files)')
    .action(async (opts: { config?: string; interface: string[]; logLevel?: string; logFormat?: string; stateDir?: string }) => {
      if (opts.logLevel !== undefined && !LOG_LEVELS.includes(opts.logLevel as LogLevel)) {
        throw new CliError('BH_USAGE', `unknown log level "${opts.logLevel}"`, `use one of: ${LOG_LEVELS.join(', ')}`, EXIT_USAGE);
      }
      const config = loadConfig({
        file: opts.config ?? configFileFromEnv(),
        interfaces: opts.interface,
        overrides: { 'log.level': opts.logLevel, 'log.format': opts.logFormat, state_dir: opts.stateDir },
      });
      const log = createLogger({ level: config.log.level as LogLevel, format: config.log.format });
      await serve({ config, log, bind: bindServices });
    });
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
