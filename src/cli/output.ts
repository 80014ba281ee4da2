// Output helpers for the inventory commands: aligned tables for people, --json for scripts, and
// `run`, which gives a value the store refused the command line's hint. Each error's exit code comes
// with its code from src/errors.ts (bad input: 2; missing or conflicting records: 1).
import { BhError } from '../errors.ts';
import { isStoreError } from '../store/index.ts';

export function printJson(v: unknown): void {
  process.stdout.write(`${JSON.stringify(v, null, 2)}\n`);
}

/** An aligned table with a header row; columns separated by two spaces, no trailing blanks. */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

export function printTable(header: string[], rows: string[][], empty: string): void {
  if (rows.length === 0) process.stdout.write(`${empty}\n`);
  else process.stdout.write(formatTable(header, rows));
}

/** `key: value` lines, keys padded to one width. */
export function printFields(fields: [string, string][]): void {
  const w = Math.max(...fields.map(([k]) => k.length)) + 1;
  for (const [k, v] of fields) process.stdout.write(`${`${k}:`.padEnd(w)} ${v}\n`);
}

export function labelsText(labels: Record<string, string>): string {
  return Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(',');
}

/** Commander collector for repeatable options. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** `--label k=v` (or `--bootfile arch=file`) values into a map; a missing '=' is bad usage. */
export function parseLabels(items: string[] | undefined, what = 'label', example = '--label rack=r12'): Record<string, string> | undefined {
  if (items === undefined || items.length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const it of items) {
    const i = it.indexOf('=');
    if (i <= 0) throw new BhError('BH_USAGE', `${what} ${JSON.stringify(it)} is not KEY=VALUE`, `write ${example}`);
    out[it.slice(0, i)] = it.slice(i + 1);
  }
  return out;
}

/** Runs a command body; a value the store refused was given on the command line, and the hint says so. */
export async function run(fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    if (isStoreError(err, 'BH_STORE_INVALID')) throw new BhError(err.code, err.message, 'check the values given on the command line');
    throw err;
  }
}

/** Asks a yes/no question on the terminal; false unless the answer starts with y. */
export async function confirm(question: string): Promise<boolean> {
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}
