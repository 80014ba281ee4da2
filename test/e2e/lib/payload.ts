// The guest payload every e2e boot ends in: Debian's signed kernel (downloaded with
// `apt-get download`, unpacked without installing) and a busybox-static initramfs whose /init prints
// `BOOTHERD-MARKER <kernel command line>` to the serial console and powers off.
// Built once and cached under .cache/e2e/, keyed by both package versions.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { writeCpio } from './cpio.ts';
import type { CpioEntry } from './cpio.ts';

export const MARKER = 'BOOTHERD-MARKER';
export const CACHE_ROOT = fileURLToPath(new URL('../../../.cache/e2e/', import.meta.url));

export interface Payload {
  /** Debian's signed kernel image (EFI stub; signed by Debian for Secure Boot). */
  kernel: string;
  /** initramfs (gzip'd newc cpio). */
  initrd: string;
  kernelPackage: string;
  kernelVersion: string;
  busyboxVersion: string;
}

/** The /init of the initramfs: prints the marker with /proc/cmdline, then powers off at once. */
export const INIT_SCRIPT = `#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t devtmpfs dev /dev 2>/dev/null
echo "${MARKER} $(/bin/busybox cat /proc/cmdline)" > /dev/console
/bin/busybox poweroff -f
`;

function sh(cmd: string, args: string[], cwd?: string): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', cwd, stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`BH_E2E_PAYLOAD: ${cmd} ${args.join(' ')} failed: ${e.stderr ?? e.message}`, { cause: err });
  }
}

/** The kernel package linux-image-amd64 points at (e.g. linux-image-6.1.0-56-amd64) and its version. */
export function kernelPackage(): { name: string; version: string } {
  const deps = sh('apt-cache', ['depends', 'linux-image-amd64']);
  const name = /Depends:\s*(linux-image-[0-9][^\s]*-amd64)\b/.exec(deps)?.[1];
  if (name === undefined) throw new Error(`BH_E2E_PAYLOAD: apt-cache depends linux-image-amd64 names no kernel package; run apt-get update (got: ${deps.trim()})`);
  return { name, version: candidate(name) };
}

function candidate(pkg: string): string {
  const policy = sh('apt-cache', ['policy', pkg]);
  const v = /Candidate:\s*(\S+)/.exec(policy)?.[1];
  if (v === undefined || v === '(none)') throw new Error(`BH_E2E_PAYLOAD: no candidate version of ${pkg}; run apt-get update`);
  return v;
}

/** apt-get download into dir; returns the .deb path. */
function download(pkg: string, dir: string): string {
  chmodSync(dir, 0o777); // lets apt's sandbox user write there (avoids the "unsandboxed" warning)
  sh('apt-get', ['download', '-qq', pkg], dir);
  const deb = readdirSync(dir).find((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb'));
  if (deb === undefined) throw new Error(`BH_E2E_PAYLOAD: apt-get download ${pkg} left no .deb in ${dir}`);
  return join(dir, deb);
}

/** Builds (or finds in the cache) the kernel and initramfs. */
export function buildPayload(): Payload {
  const k = kernelPackage();
  const bbVersion = candidate('busybox-static');
  const key = `${k.name}_${k.version}+busybox-static_${bbVersion}`.replace(/[^A-Za-z0-9._+-]/g, '_');
  const dir = join(CACHE_ROOT, key);
  const payload: Payload = { kernel: join(dir, 'vmlinuz'), initrd: join(dir, 'initrd.img'), kernelPackage: k.name, kernelVersion: k.version, busyboxVersion: bbVersion };
  if (existsSync(join(dir, 'payload.json'))) return payload;

  mkdirSync(CACHE_ROOT, { recursive: true });
  const work = mkdtempSync(join(CACHE_ROOT, 'build-'));
  try {
    // Kernel: only ./boot/vmlinuz-* is taken out of the package (dpkg-deb is what dpkg -x runs;
    // extracting the modules too would cost ~400 MB for nothing). Nothing is installed.
    const kdeb = download(k.name, work);
    const unpack = join(work, 'k');
    mkdirSync(unpack);
    execFileSync('sh', ['-c', 'dpkg-deb --fsys-tarfile "$1" | tar -x -C "$2" --wildcards "./boot/vmlinuz-*"', 'sh', kdeb, unpack], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 300_000 });
    const vmlinuz = readdirSync(join(unpack, 'boot')).find((f) => f.startsWith('vmlinuz-'));
    if (vmlinuz === undefined) throw new Error(`BH_E2E_PAYLOAD: ${kdeb} holds no boot/vmlinuz-*`);

    // Initramfs: the static busybox binary and /init.
    const bdeb = download('busybox-static', work);
    const bunpack = join(work, 'b');
    mkdirSync(bunpack);
    sh('dpkg', ['-x', bdeb, bunpack]);
    const busybox = readFileSync(join(bunpack, 'bin', 'busybox'));
    const entries: CpioEntry[] = [
      { name: 'bin', kind: 'dir', mode: 0o755 },
      { name: 'bin/busybox', kind: 'file', mode: 0o755, data: busybox },
      { name: 'bin/sh', kind: 'symlink', mode: 0o777, data: 'busybox' },
      { name: 'dev', kind: 'dir', mode: 0o755 },
      { name: 'dev/console', kind: 'chardev', mode: 0o600, rdev: [5, 1] },
      { name: 'proc', kind: 'dir', mode: 0o755 },
      { name: 'init', kind: 'file', mode: 0o755, data: INIT_SCRIPT },
    ];
    const out = join(work, 'out');
    mkdirSync(out);
    renameSync(join(unpack, 'boot', vmlinuz), join(out, 'vmlinuz'));
    writeFileSync(join(out, 'initrd.img'), gzipSync(writeCpio(entries), { level: 9 }));
    writeFileSync(join(out, 'payload.json'), JSON.stringify({ kernelPackage: k.name, kernelVersion: k.version, busyboxVersion: bbVersion, vmlinuz }, null, 2) + '\n');
    try {
      renameSync(out, dir); // atomic: a concurrent builder either wins or finds ours
    } catch (err) {
      if (!existsSync(join(dir, 'payload.json'))) throw err;
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return payload;
}
