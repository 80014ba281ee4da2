// Shared pieces of the HTTP integration tests: a fixture root, real curl, raw sockets.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';

export const SENTINEL = 'HOSTILE-PROBE-SENTINEL-' + randomBytes(8).toString('hex');

/** Fails (never skips) with the apt package to install when a tool is missing: CI installs them all. */
export function requireTool(cmd: string, pkg: string): void {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} is missing: apt-get install ${pkg}`);
}

export interface Fixture {
  root: string;
  big: Buffer;
  efi: Buffer;
}

/** A boot root with a 32 MiB kernel, an EFI image and the SECURITY.md §4.3 hostile entries. */
export function makeFixture(dir: string): Fixture {
  const root = join(dir, 'root');
  mkdirSync(join(root, 'images'), { recursive: true });
  mkdirSync(join(dir, 'outside'), { recursive: true });
  writeFileSync(join(dir, 'outside', 'SENTINEL.txt'), SENTINEL);
  const big = randomBytes(32 * 1024 * 1024);
  const efi = randomBytes(300_000);
  writeFileSync(join(root, 'images', 'linux'), big);
  writeFileSync(join(root, 'ipxe.efi'), efi);
  writeFileSync(join(root, 'hello.txt'), 'hello\n');
  writeFileSync(join(root, 'secret0600.txt'), SENTINEL);
  chmodSync(join(root, 'secret0600.txt'), 0o600);
  symlinkSync('../outside/SENTINEL.txt', join(root, 'escape-link'));
  symlinkSync('/dev/zero', join(root, 'devzero'));
  execFileSync('mkfifo', [join(root, 'fifo')]);
  // The root and its parents must be reachable by an unprivileged user (bootherd serve drops root).
  chmodSync(dir, 0o755);
  return { root, big, efi };
}

export const sha256 = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

export interface CurlResult {
  status: number | null;
  stdout: Buffer;
  stderr: string;
}

/** Runs curl without blocking the event loop (the server under test may live in this process). */
export function curl(args: string[]): Promise<CurlResult> {
  return new Promise((resolve) => {
    const child = spawn('curl', ['-sS', '--max-time', '60', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('close', (status) => resolve({ status, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString() }));
  });
}

export interface RawReply {
  /** Everything received until the server closed (or `idleMs` without more data). */
  text: string;
  status: number | undefined;
  closedByServer: boolean;
}

/**
 * Sends raw octets and collects the reply until the server closes the connection or stays
 * silent for `idleMs` (then we close it; closedByServer false).
 */
export function rawRequest(port: number, data: string | Buffer, idleMs = 3000): Promise<RawReply> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    let closedByServer = false;
    let timer = setTimeout(() => s.destroy(), idleMs);
    s.on('data', (d) => {
      chunks.push(d);
      clearTimeout(timer);
      timer = setTimeout(() => s.destroy(), idleMs);
    });
    s.on('end', () => {
      closedByServer = true;
      s.end();
    });
    s.on('error', () => {
      closedByServer = true;
    });
    s.on('close', () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('latin1');
      const m = /^HTTP\/1\.1 (\d{3})/.exec(text);
      resolve({ text, status: m ? Number(m[1]) : undefined, closedByServer });
    });
    s.write(data);
  });
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}
