// Shared fixtures for the TFTP integration tests: a root with files of edge sizes, and the
// real clients (Debian packages tftp-hpa, atftp, curl, busybox) as command lines.
import { execFile, execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

export const run = promisify(execFile);

export const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** Fails (never skips) when a client is missing: CI installs every package. */
export function requireTool(bin: string, aptPackage: string): void {
  try {
    execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' });
  } catch {
    throw new Error(`${bin} is missing: install the Debian package ${aptPackage} (apt-get install -y ${aptPackage})`);
  }
}

export interface Fixture {
  dir: string;
  root: string;
  files: Map<string, string>; // name → sha256
}

/** Root with files of 0, 511, 512, 513 octets, `rollover.bin` (> 65535 × 512) and `big32.bin` (32 MiB) when asked. */
export function makeRoot(opts: { large?: boolean; extra?: Record<string, number> } = {}): Fixture {
  const dir = mkdtempSync(join(tmpdir(), 'bh-tftp-'));
  const root = join(dir, 'root');
  mkdirSync(root);
  const files = new Map<string, string>();
  const sizes: Record<string, number> = { 'empty.bin': 0, 's511.bin': 511, 's512.bin': 512, 's513.bin': 513, ...opts.extra };
  if (opts.large === true) {
    sizes['rollover.bin'] = 40_000_000;
    sizes['big32.bin'] = 32 * 1024 * 1024;
  }
  for (const [name, size] of Object.entries(sizes)) {
    const data = randomBytes(size);
    writeFileSync(join(root, name), data, { mode: 0o644 });
    files.set(name, sha256(data));
  }
  return { dir, root, files };
}

export type ClientName = 'tftp-hpa' | 'atftp' | 'curl' | 'busybox';

export const CLIENT_PACKAGES: Record<ClientName, [string, string]> = {
  'tftp-hpa': ['tftp', 'tftp-hpa'],
  atftp: ['atftp', 'atftp'],
  curl: ['curl', 'curl'],
  busybox: ['busybox', 'busybox'],
};

/** The command line that fetches `file` into `out` with a real client; blksize/windowsize where the client can send them. */
export function clientCommand(client: ClientName, host: string, port: number, file: string, out: string, opt: { blksize?: number; windowsize?: number } = {}): [string, string[]] {
  switch (client) {
    case 'tftp-hpa':
      return ['tftp', [host, String(port), '-m', 'binary', '-c', 'get', file, out]];
    case 'atftp': {
      const args: string[] = [];
      if (opt.blksize !== undefined) args.push('--option', `blksize ${opt.blksize}`);
      if (opt.windowsize !== undefined) args.push('--option', `windowsize ${opt.windowsize}`);
      return ['atftp', [...args, '-g', '-r', file, '-l', out, host, String(port)]];
    }
    case 'curl':
      return ['curl', ['-sS', '--fail', '--max-time', '120', ...(opt.blksize !== undefined ? ['--tftp-blksize', String(opt.blksize)] : []), '-o', out, `tftp://${host}:${port}/${file}`]];
    case 'busybox':
      return ['busybox', ['tftp', '-g', ...(opt.blksize !== undefined ? ['-b', String(opt.blksize)] : []), '-r', file, '-l', out, host, String(port)]];
  }
}

export function fileSha(path: string): string | undefined {
  return existsSync(path) ? sha256(readFileSync(path)) : undefined;
}
