// Boot-loader assets: finds the loaders each chain needs, in the configured assets directory first
// and then where Debian's packages put them, and serves them under stable names in the boot
// namespace (undionly.kpxe, snponly.efi, shimx64.efi, grubx64.efi, pxelinux.0, ...) through the
// generated-file registry: nothing is copied into the boot root, so the resolver's root jail holds.
// A file of the same name in the boot root wins (the operator's own build).
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { GeneratedFiles } from '../files/registry.ts';

export interface AssetSpec {
  /** The stable name clients ask for. */
  name: string;
  purpose: string;
  /** The Debian package that provides it. */
  package: string;
  /** Where that package installs it. */
  debianPaths: string[];
}

export const ASSETS: readonly AssetSpec[] = [
  { name: 'undionly.kpxe', purpose: 'BIOS PXE: iPXE on the NIC\'s UNDI driver, then the per-host HTTP script', package: 'ipxe', debianPaths: ['/usr/lib/ipxe/undionly.kpxe'] },
  { name: 'snponly.efi', purpose: 'UEFI x64 PXE: iPXE on the firmware\'s network driver, then the per-host HTTP script', package: 'ipxe', debianPaths: ['/usr/lib/ipxe/snponly.efi'] },
  { name: 'ipxe.efi', purpose: 'UEFI x64 HTTP Boot (by URL), and iPXE with its own NIC drivers', package: 'ipxe', debianPaths: ['/usr/lib/ipxe/ipxe.efi'] },
  { name: 'shimx64.efi', purpose: 'Secure Boot first stage (Microsoft-signed shim); loads grubx64.efi from the same place', package: 'shim-signed', debianPaths: ['/usr/lib/shim/shimx64.efi.signed'] },
  { name: 'grubx64.efi', purpose: 'GRUB for UEFI PXE and Secure Boot (Debian-signed grubnetx64); reads grub/grub.cfg', package: 'grub-efi-amd64-signed', debianPaths: ['/usr/lib/grub/x86_64-efi-signed/grubnetx64.efi.signed'] },
  { name: 'pxelinux.0', purpose: 'BIOS PXE: pxelinux, reads pxelinux.cfg/01-<mac>', package: 'pxelinux', debianPaths: ['/usr/lib/PXELINUX/pxelinux.0'] },
  { name: 'ldlinux.c32', purpose: 'pxelinux core module (pxelinux.0 loads it first)', package: 'syslinux-common', debianPaths: ['/usr/lib/syslinux/modules/bios/ldlinux.c32'] },
  { name: 'menu.c32', purpose: 'pxelinux menus', package: 'syslinux-common', debianPaths: ['/usr/lib/syslinux/modules/bios/menu.c32'] },
  { name: 'libutil.c32', purpose: 'pxelinux library needed by menu.c32', package: 'syslinux-common', debianPaths: ['/usr/lib/syslinux/modules/bios/libutil.c32'] },
];

export interface FoundAsset extends AssetSpec {
  /** Where it was found; undefined when missing. */
  path: string | undefined;
  source: 'assets_dir' | 'debian' | 'missing';
  size: number | undefined;
}

export interface FindAssetsOptions {
  /** `boot.assets_dir`: searched first, by stable name. */
  assetsDir?: string | undefined;
  /** Prefix for the Debian paths (tests); default `/`. */
  systemRoot?: string;
}

function regularFile(p: string): number | undefined {
  try {
    const st = statSync(p);
    return st.isFile() ? st.size : undefined;
  } catch {
    return undefined;
  }
}

/** Finds every asset: assets dir, then Debian's path; reports the package for missing ones. */
export function findAssets(opts: FindAssetsOptions = {}): FoundAsset[] {
  const sys = opts.systemRoot ?? '/';
  return ASSETS.map((a) => {
    if (opts.assetsDir !== undefined) {
      const p = path.join(opts.assetsDir, a.name);
      const size = regularFile(p);
      if (size !== undefined) return { ...a, path: p, source: 'assets_dir' as const, size };
    }
    for (const d of a.debianPaths) {
      const p = path.join(sys, d);
      const size = regularFile(p);
      if (size !== undefined) return { ...a, path: p, source: 'debian' as const, size };
    }
    return { ...a, path: undefined, source: 'missing' as const, size: undefined };
  });
}

export function sha256File(p: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(p)
      .on('data', (c) => h.update(c))
      .on('error', reject)
      .on('end', () => resolve(h.digest('hex')));
  });
}

/** The apt command that installs every missing asset's package, or undefined when nothing is missing. */
export function installHint(found: readonly FoundAsset[]): string | undefined {
  const pkgs = [...new Set(found.filter((f) => f.source === 'missing').map((f) => f.package))];
  return pkgs.length === 0 ? undefined : `apt-get install ${pkgs.join(' ')}`;
}

export interface PublishResult {
  /** Served from the registry under their stable names. */
  published: string[];
  /** Left to the boot root, which holds a file of that name. */
  fromBootRoot: string[];
  missing: string[];
  /** Found but unreadable (name → error code). */
  failed: Record<string, string>;
}

/**
 * Reads the found assets into the registry under their stable names, except where the boot root
 * already has a file of that name. Loaders are small (a few MiB in all); reading them once at start
 * keeps serving free of blocking I/O.
 */
export function publishAssets(found: readonly FoundAsset[], registry: GeneratedFiles, bootRoot: string): PublishResult {
  const r: PublishResult = { published: [], fromBootRoot: [], missing: [], failed: {} };
  for (const a of found) {
    if (existsSync(path.join(bootRoot, a.name))) {
      r.fromBootRoot.push(a.name);
      continue;
    }
    if (a.path === undefined) {
      r.missing.push(a.name);
      continue;
    }
    try {
      registry.publish(a.name, readFileSync(a.path));
      r.published.push(a.name);
    } catch (err) {
      r.failed[a.name] = (err as NodeJS.ErrnoException).code ?? 'EIO';
    }
  }
  return r;
}
