// `bootherd db migrate` and `bootherd db status`.
import { mkdirSync } from 'node:fs';
import type { Command } from 'commander';
import { loadConfig } from '../config/load.ts';
import { createLogger } from '../log/logger.ts';
import type { LogLevel } from '../log/logger.ts';
import { openStore } from '../store/index.ts';
import { configFileFromEnv } from './config.ts';
import { progress } from './progress.ts';

interface DbOpts {
  config?: string;
}

async function withStore<T>(opts: DbOpts, fn: (store: Awaited<ReturnType<typeof openStore>>) => Promise<T>): Promise<T> {
  const config = loadConfig({ file: opts.config ?? configFileFromEnv() });
  // Commands print their own results; the logger only reports warnings and errors, to stderr.
  const log = createLogger({ level: (config.log.level === 'silent' ? 'silent' : 'warn') as LogLevel, format: 'json', destination: 2 });
  mkdirSync(config.state_dir, { recursive: true, mode: 0o750 });
  const store = await openStore(config.database.url, { logger: log });
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

export function registerDb(program: Command): void {
  const db = program.command('db').description('database schema: status and migrations');
  db.command('migrate')
    .description('apply pending schema migrations (serve also does this on start)')
    .option('-c, --config <file>', 'YAML configuration file')
    .action(async (opts: DbOpts) => {
      await withStore(opts, async (store) => {
        const bar = progress();
        const result = await store.migrate((done, total, name) => bar.update(done, total, name));
        bar.done();
        const status = await store.status();
        if (result.applied.length === 0) process.stdout.write(`database ${status.location} is up to date (version ${status.current})\n`);
        else process.stdout.write(`applied ${result.applied.length} migration(s) to ${status.location}: ${result.applied.join(', ')}; now at version ${status.current}\n`);
      });
    });
  db.command('status')
    .description('show the schema version and any pending migrations')
    .option('-c, --config <file>', 'YAML configuration file')
    .option('--json', 'print JSON')
    .action(async (opts: DbOpts & { json?: boolean }) => {
      await withStore(opts, async (store) => {
        const s = await store.status();
        if (opts.json === true) {
          process.stdout.write(`${JSON.stringify(s)}\n`);
          return;
        }
        process.stdout.write(`backend:  ${s.backend}\nlocation: ${s.location}\nversion:  ${s.current} of ${s.latest}\n`);
        process.stdout.write(s.pending.length === 0 ? 'pending:  none\n' : `pending:  ${s.pending.join(', ')} (run 'bootherd db migrate')\n`);
      });
    });
}
