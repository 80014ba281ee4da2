// `bootherd db migrate` and `bootherd db status`.
import type { Command } from 'commander';
import { progress } from './progress.ts';
import { withStore } from './store.ts';
import type { StoreOpts } from './store.ts';

type DbOpts = StoreOpts;

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
