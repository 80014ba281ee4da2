// Quick mode (`bootherd serve --interface IFACE --kernel FILE --initrd FILE --cmdline "…"`): one
// built-in profile that boots every PXE client on the link into that kernel, by every firmware
// path. The kernel and initrds may live anywhere on the machine: they are read once at start (as
// root, before the privilege drop) and published under `quick/` through the generated-file
// registry, so nothing is copied into the boot root and the root jail stays as strict as ever:
// exactly these names are served, nothing else from their directories.
import { basename } from 'node:path';
import { readFileSync, statSync } from 'node:fs';
import type { ProfileSpec } from './types.ts';
import { InventoryError } from './errors.ts';
import { validateProfileSpec } from './profile.ts';
import type { NamedProfile } from './resolve.ts';

export const QUICK_PROFILE = 'quick';
/** Where quick mode's files appear to clients (TFTP and HTTP), relative to the boot root. */
export const QUICK_PREFIX = 'quick';
/** Quick mode holds its files in memory: refuse absurd sizes rather than exhaust it. */
export const QUICK_MAX_BYTES = 2 * 1024 * 1024 * 1024;

export interface QuickOptions {
  kernel: string;
  initrds: string[];
  cmdline?: string;
}

export interface QuickFile {
  /** The published name (e.g. `quick/vmlinuz`). */
  path: string;
  /** The file on this machine. */
  source: string;
}

export interface QuickSetup {
  profile: NamedProfile;
  files: QuickFile[];
}

/** Published names: the file's own name (safe characters only), numbered when two collide. */
function publishedName(source: string, used: Set<string>, fallback: string): string {
  let name = basename(source).replace(/[^A-Za-z0-9._-]/g, '_').replace(/^[.]+/, '');
  if (name === '') name = fallback;
  let candidate = name;
  for (let i = 2; used.has(candidate); i++) candidate = `${i}-${name}`;
  used.add(candidate);
  return `${QUICK_PREFIX}/${candidate}`;
}

/** The built-in profile and the files it needs. Pure: nothing is read. */
export function quickSetup(opts: QuickOptions): QuickSetup {
  const used = new Set<string>();
  const kernel: QuickFile = { path: publishedName(opts.kernel, used, 'vmlinuz'), source: opts.kernel };
  const initrds = opts.initrds.map((f, i) => ({ path: publishedName(f, used, `initrd${i}`), source: f }));
  const spec: ProfileSpec = {
    kind: 'linux',
    description: `quick mode: ${basename(opts.kernel)}`,
    kernel: kernel.path,
    ...(initrds.length > 0 ? { initrd: initrds.map((f) => f.path) } : {}),
    ...(opts.cmdline !== undefined && opts.cmdline !== '' ? { cmdline: opts.cmdline } : {}),
  };
  return { profile: { name: QUICK_PROFILE, spec: validateProfileSpec(spec, QUICK_PROFILE) }, files: [kernel, ...initrds] };
}

/** Something files can be published into (the generated-file registry). */
export interface Publisher {
  publish(path: string, content: Uint8Array): unknown;
}

/**
 * Reads quick mode's files and publishes them. Throws BH_INV_QUICK_FILE naming the file when one
 * is missing, not a regular file, unreadable or too large.
 */
export function publishQuickFiles(files: QuickFile[], into: Publisher, read: (f: string) => Buffer = (f) => readFileSync(f)): number {
  let total = 0;
  for (const f of files) {
    let data: Buffer;
    try {
      const st = statSync(f.source);
      if (!st.isFile()) throw Object.assign(new Error('not a regular file'), { code: 'EISDIR' });
      if (st.size > QUICK_MAX_BYTES) throw Object.assign(new Error('too large'), { code: 'EFBIG' });
      data = read(f.source);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
      throw new InventoryError('BH_INV_QUICK_FILE', `cannot serve ${f.source} (${code})`,
        code === 'ENOENT' ? 'check the path given to --kernel or --initrd' : code === 'EFBIG' ? 'quick mode holds the files in memory: use a profile with files under the boot root instead' : 'give a readable regular file');
    }
    into.publish(f.path, data);
    total += data.length;
  }
  return total;
}
