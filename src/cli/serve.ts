// `bootherd serve`: run the servers. Works with no config file at all: `bootherd serve
// --interface eth0` answers PXE clients on eth0 as ProxyDHCP and serves TFTP and HTTP.
// Quick mode: `--kernel FILE [--initrd FILE]… [--cmdline "…"]` boots every PXE client on the
// link into that kernel (src/inventory/quick.ts); the files are read here, before the privilege drop.
import type { Command } from 'commander';
import { LOG_LEVELS } from '../log/logger.ts';
import type { LogLevel } from '../log/logger.ts';
import { createLogger } from '../log/logger.ts';
import { serve } from '../daemon/serve.ts';
import { bindServices } from '../daemon/services.ts';
import { GeneratedFiles } from '../files/registry.ts';
import { publishQuickFiles, quickSetup } from '../inventory/quick.ts';
import { run } from './output.ts';
import { BhError } from '../errors.ts';
import { configFileFromEnv, loadServerConfig } from './config.ts';

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run bootherd (DHCP/ProxyDHCP on the configured interfaces, TFTP, HTTP) until SIGTERM or SIGINT')
    .option('-c, --config <file>', 'YAML configuration file (default: $BOOTHERD_CONFIG, else /etc/bootherd/bootherd.yaml if it exists, else built-in defaults)')
    .option('-i, --interface <name[:mode]>', 'serve DHCP on this interface; mode proxy (default) or full; repeatable', collect, [])
    .option('--log-level <level>', `log level: ${LOG_LEVELS.join(', ')}`)
    .option('--log-format <format>', 'log format: auto, json or pretty')
    .option('--state-dir <dir>', 'state directory (database, generated files)')
    .option('--kernel <file>', 'quick mode: boot every PXE client on the interfaces into this kernel (any path; served as quick/NAME)')
    .option('--initrd <file>', 'quick mode: an initrd, in order (repeatable)', collect, [])
    .option('--cmdline <text>', 'quick mode: the kernel command line')
    .action((opts: ServeOpts) => run(() => runServe(opts)));
}

interface ServeOpts {
  config?: string;
  interface: string[];
  logLevel?: string;
  logFormat?: string;
  stateDir?: string;
  kernel?: string;
  initrd: string[];
  cmdline?: string;
}

async function runServe(opts: ServeOpts): Promise<void> {
  if (opts.logLevel !== undefined && !LOG_LEVELS.includes(opts.logLevel as LogLevel)) {
    throw new BhError('BH_USAGE', `unknown log level "${opts.logLevel}"`, `use one of: ${LOG_LEVELS.join(', ')}`);
  }
  const config = loadServerConfig({
    file: opts.config ?? configFileFromEnv(),
    interfaces: opts.interface,
    overrides: { 'log.level': opts.logLevel, 'log.format': opts.logFormat, state_dir: opts.stateDir },
  });
  if (opts.kernel === undefined && (opts.initrd.length > 0 || opts.cmdline !== undefined)) {
    throw new BhError('BH_USAGE', '--initrd and --cmdline need --kernel', 'quick mode: bootherd serve --interface IFACE --kernel FILE [--initrd FILE] [--cmdline "…"]');
  }
  if (opts.kernel !== undefined && config.interfaces.length === 0) {
    throw new BhError('BH_USAGE', 'quick mode (--kernel) needs an interface to serve', 'add --interface IFACE (the link whose PXE clients should boot this kernel)');
  }
  const quick = opts.kernel === undefined ? undefined : quickSetup({ kernel: opts.kernel, initrds: opts.initrd, ...(opts.cmdline !== undefined ? { cmdline: opts.cmdline } : {}) });
  const registry = new GeneratedFiles();
  // Read now, while still privileged: the files need not be readable by the unprivileged user.
  const bytes = quick === undefined ? 0 : publishQuickFiles(quick.files, registry);
  const log = createLogger({ level: config.log.level as LogLevel, format: config.log.format });
  if (quick !== undefined) {
    log.info({ profile: quick.profile.spec, files: quick.files, bytes, interfaces: config.interfaces.map((i) => i.name) }, `quick mode: unknown PXE clients boot ${quick.profile.spec.kernel}`);
  }
  await serve({ config, log, bind: (c, l) => bindServices(c, l, { registry, ...(quick !== undefined ? { builtinProfile: quick.profile } : {}) }) });
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
