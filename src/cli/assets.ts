// `bootherd assets`: which boot loaders bootherd found (assets dir or Debian's packages), each
// file's SHA-256 and what it is for; for anything missing, the apt package that provides it.
import type { Command } from 'commander';
import { findAssets, installHint, sha256File } from '../boot/assets.ts';
import { configFileFromEnv, loadServerConfig } from './config.ts';

export function registerAssets(program: Command): void {
  program
    .command('assets')
    .description('list the boot loaders found (assets dir or Debian packages) with SHA-256 and purpose; name the apt package for missing ones')
    .option('-c, --config <file>', 'YAML configuration file')
    .option('--json', 'print JSON')
    .action(async (opts: { config?: string; json?: boolean }) => {
      const config = loadServerConfig({ file: opts.config ?? configFileFromEnv() });
      const found = findAssets({ assetsDir: config.boot.assets_dir });
      const rows = await Promise.all(found.map(async (a) => ({
        name: a.name,
        status: a.source === 'missing' ? 'missing' : 'found',
        source: a.source,
        path: a.path ?? null,
        size: a.size ?? null,
        sha256: a.path === undefined ? null : await sha256File(a.path).catch((e: NodeJS.ErrnoException) => `unreadable (${e.code ?? 'EIO'})`),
        purpose: a.purpose,
        package: a.package,
      })));
      const hint = installHint(found);
      if (opts.json === true) {
        process.stdout.write(`${JSON.stringify({ assets: rows, install: hint ?? null }, null, 2)}\n`);
        return;
      }
      process.stdout.write(formatAssets(rows, hint));
    });
}

export interface AssetRow {
  name: string;
  status: string;
  path: string | null;
  sha256: string | null;
  purpose: string;
  package: string;
}

/** The human form: one line per loader; missing ones name their apt package, then one install line. */
export function formatAssets(rows: readonly AssetRow[], hint: string | undefined): string {
  let out = '';
  for (const r of rows) {
    if (r.status === 'missing') out += `${r.name}  MISSING  install the Debian package ${r.package}  (${r.purpose})\n`;
    else out += `${r.name}  ${r.path ?? ''}  sha256:${r.sha256 ?? ''}  (${r.purpose})\n`;
  }
  if (hint !== undefined) out += `\nmissing loaders: ${hint}\n`;
  return out;
}
