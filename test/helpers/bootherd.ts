// Runs the real `bootherd` command (bin/bootherd, on the project's Node 24) as a user would.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const BOOTHERD = fileURLToPath(new URL('../../bin/bootherd', import.meta.url));

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function runBootherd(args: string[], opts: { env?: Record<string, string>; input?: string } = {}): RunResult {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('BOOTHERD_')) env[k] = v;
  const r = spawnSync(BOOTHERD, args, { encoding: 'utf8', env: { ...env, ...opts.env }, input: opts.input ?? '', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
