// The `bootherd` command. One file per command group; this one wires them and turns every error
// into one line plus a hint, with exit code 2 for bad usage or config and 1 for other failures.
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { ConfigError, formatProblem } from '../errors.ts';
import { BhError, EXIT_FAILURE, EXIT_USAGE } from '../errors.ts';
import { registerServe } from './serve.ts';
import { registerConfig } from './config.ts';
import { registerDb } from './db.ts';
import { registerHosts } from './hosts.ts';
import { registerProfiles } from './profiles.ts';
import { registerGroups } from './groups.ts';
import { registerApply } from './apply.ts';
import { registerAssets } from './assets.ts';
import { registerTls } from './tls.ts';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

/** Commander's full error text (it carries the "Did you mean …?" suggestion the error object lacks). */
let lastUsageError = '';

export function buildProgram(): Command {
  const program = new Command('bootherd')
    .description('Network-boot (PXE) server: DHCP and ProxyDHCP, TFTP and HTTP, per-host boot plans.')
    .version(pkg.version, '-V, --version', 'print the version and exit')
    .helpOption('-h, --help', 'show help for a command')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({ outputError: (text) => (lastUsageError = text) });
  registerServe(program);
  registerConfig(program);
  registerDb(program);
  registerHosts(program);
  registerProfiles(program);
  registerGroups(program);
  registerApply(program);
  registerAssets(program);
  registerTls(program);
  return program;
}

/** Runs the CLI; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return process.exitCode === undefined ? 0 : Number(process.exitCode);
  } catch (err) {
    return report(err);
  }
}

function report(err: unknown): number {
  if (err instanceof CommanderError) {
    if (err.exitCode === 0) return 0; // --help, --version
    const message = (lastUsageError.trim() || err.message).replace(/^error: /, '').replace(/\s*\n\s*/g, ' ');
    process.stderr.write(`bootherd: ${message}\nhint: run 'bootherd --help' (or 'bootherd COMMAND --help')\n`);
    return EXIT_USAGE;
  }
  if (err instanceof ConfigError) {
    for (const p of err.problems) process.stderr.write(`bootherd: ${formatProblem(p)}\n`);
    return EXIT_USAGE;
  }
  const { code, message, hint } = describeError(err);
  process.stderr.write(`bootherd: ${message} [${code}]\n`);
  if (hint !== undefined) process.stderr.write(`hint: ${hint}\n`);
  else if (code === 'BH_INTERNAL' && err instanceof Error && err.stack !== undefined) {
    process.stderr.write(`hint: this is a bug in bootherd; please report it with this trace:\n${err.stack}\n`);
  }
  return err instanceof BhError ? err.exitCode : EXIT_FAILURE;
}

/** The code, message and hint of any error: a BhError's own, another error's `code` if it has one, else BH_INTERNAL. */
function describeError(err: unknown): { code: string; message: string; hint: string | undefined } {
  if (err instanceof Error) {
    const e = err as Error & { code?: unknown; hint?: unknown };
    return {
      code: typeof e.code === 'string' ? e.code : 'BH_INTERNAL',
      message: e.message,
      hint: typeof e.hint === 'string' ? e.hint : undefined,
    };
  }
  return { code: 'BH_INTERNAL', message: String(err), hint: undefined };
}

const code = await main(process.argv.slice(2));
// Let pending log lines flush; servers have already closed their handles.
process.exitCode = code;
if (code !== 0) process.exit(code);
