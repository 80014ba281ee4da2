// `bootherd apply -f fleet.yaml [--dry-run] [--yes] [--prune]`: make the inventory match a fleet
// file. Prints the diff first; on a terminal asks before applying unless --yes; when stdin is not a
// terminal it applies only with --yes. Running it again with the same file: "no changes".
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { ConfigError } from '../errors.ts';
import { applyPlan, formatPlan, parseFleet, planFleet, planJson } from '../inventory/fleet.ts';
import { BhError } from '../errors.ts';
import { withInventory } from './store.ts';
import type { StoreOpts } from './store.ts';
import { confirm, printJson, run } from './output.ts';

interface ApplyOpts extends StoreOpts {
  file: string;
  dryRun?: boolean;
  yes?: boolean;
  prune?: boolean;
  json?: boolean;
}

function readFleet(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
    throw new ConfigError([{ source: file, key: '', message: code === 'ENOENT' ? 'file not found' : `cannot read the file (${code})`, fix: code === 'ENOENT' ? 'check the path given to -f' : 'make the file readable' }]);
  }
}

export function registerApply(program: Command): void {
  program
    .command('apply')
    .description('make the inventory (profiles, groups, hosts) match a fleet file: shows the diff, then applies it')
    .requiredOption('-f, --file <fleet.yaml>', 'the fleet file (docs/inventory.md)')
    .option('-c, --config <file>', 'YAML configuration file (as for serve)')
    .option('--dry-run', 'show the diff and stop')
    .option('-y, --yes', 'apply without asking (needed when stdin is not a terminal)')
    .option('--prune', 'also delete profiles, groups and hosts the file does not list')
    .option('--json', 'print the plan (and whether it was applied) as JSON')
    .action((o: ApplyOpts) => run(async () => {
      // Check the file before touching the database: problems are reported as file:line.
      const fleet = parseFleet(readFleet(o.file), o.file);
      await withInventory(o, async (inv) => {
        const plan = await planFleet(inv, fleet, { prune: o.prune === true });
        const empty = plan.changes.length === 0;
        if (o.json !== true) {
          if (empty) {
            process.stdout.write(`no changes: the inventory matches ${o.file}\n`);
            return;
          }
          process.stdout.write(`${formatPlan(plan).join('\n')}\n`);
          const s = plan.summary;
          process.stdout.write(`\n${s.create} to create, ${s.update} to change, ${s.delete} to delete${o.prune === true ? '' : ' (records the file does not list are kept; --prune deletes them)'}\n`);
        }
        let apply = !empty && o.dryRun !== true;
        if (apply && o.yes !== true) {
          if (process.stdin.isTTY === true && process.stderr.isTTY === true) {
            apply = await confirm(`apply these ${plan.changes.length} changes? [y/N] `);
            if (!apply) process.stderr.write('not applied\n');
          } else {
            if (o.json === true) printJson({ ...planJson(plan), applied: false });
            throw new BhError('BH_APPLY_CONFIRM', `not applied: ${plan.changes.length} change(s) pending and stdin is not a terminal to confirm them`, 'review the diff, then run again with --yes (or --dry-run to only show it)');
          }
        }
        if (apply) await applyPlan(plan);
        if (o.json === true) printJson({ ...planJson(plan), applied: apply });
        else if (apply) process.stdout.write(`applied ${plan.changes.length} change(s)\n`);
        else if (o.dryRun === true) process.stdout.write('dry run: nothing applied\n');
      });
    }));
}
