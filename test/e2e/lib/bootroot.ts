// The folder a boot server serves (TFTP and HTTP): Debian's loaders, the payload, and the per-run
// configs (pxelinux, GRUB, iPXE) that put the run's token into the kernel command line.
// The configs are written by the test until bootherd's boot engine generates them per host.
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Payload } from './payload.ts';

/** Loader file name in the boot root → where Debian installs it, and the package. */
export const LOADERS: Readonly<Record<string, { from: string; pkg: string }>> = {
  'pxelinux.0': { from: '/usr/lib/PXELINUX/pxelinux.0', pkg: 'pxelinux' },
  'ldlinux.c32': { from: '/usr/lib/syslinux/modules/bios/ldlinux.c32', pkg: 'syslinux-common' },
  'undionly.kpxe': { from: '/usr/lib/ipxe/undionly.kpxe', pkg: 'ipxe' },
  'ipxe.efi': { from: '/usr/lib/ipxe/ipxe.efi', pkg: 'ipxe' },
  'snponly.efi': { from: '/usr/lib/ipxe/snponly.efi', pkg: 'ipxe' },
  'shimx64.efi': { from: '/usr/lib/shim/shimx64.efi.signed', pkg: 'shim-signed' },
  // shim loads grubx64.efi from its own directory; Debian's signed GRUB netboot image.
  'grubx64.efi': { from: '/usr/lib/grub/x86_64-efi-signed/grubnetx64.efi.signed', pkg: 'grub-efi-amd64-signed' },
};

/** An EFI binary Debian does not sign (iPXE's), served as grubx64.efi for the Secure Boot negative case. */
export const UNSIGNED_EFI = '/usr/lib/ipxe/ipxe.efi';

/** Kernel command line of a run: the serial console plus the token the test looks for. */
export function cmdline(token: string, extra = ''): string {
  return `console=ttyS0 quiet panic=-1 bh_token=${token}${extra === '' ? '' : ` ${extra}`}`;
}

function write(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}

/**
 * Copies the payload (vmlinuz, initrd.img at the top) into `root`, and Debian's loaders unless
 * `loaders` is false (bootherd finds and serves them itself; dnsmasq needs them in its root).
 */
export function populateBootRoot(root: string, payload: Payload, loaders = true): void {
  mkdirSync(root, { recursive: true, mode: 0o755 });
  for (const [name, { from, pkg }] of loaders ? Object.entries(LOADERS) : []) {
    if (!existsSync(from)) throw new Error(`BH_E2E_LOADER: ${from} is missing (fix: apt-get install ${pkg})`);
    copyFileSync(from, join(root, name));
  }
  copyFileSync(payload.kernel, join(root, 'vmlinuz'));
  copyFileSync(payload.initrd, join(root, 'initrd.img'));
}

/** pxelinux: `pxelinux.cfg/default`, or `pxelinux.cfg/01-<mac>` for one host. */
export function writePxelinuxConfig(root: string, token: string, mac?: string): void {
  const name = mac === undefined ? 'default' : `01-${mac.toLowerCase().replace(/:/g, '-')}`;
  write(join(root, 'pxelinux.cfg', name), `DEFAULT e2e\nPROMPT 0\nTIMEOUT 0\nLABEL e2e\n  KERNEL vmlinuz\n  APPEND initrd=initrd.img ${cmdline(token)}\n`);
}

/** GRUB netboot image: it reads <its directory>/grub/grub.cfg, i.e. /grub/grub.cfg here. */
export function writeGrubConfig(root: string, token: string): void {
  write(join(root, 'grub', 'grub.cfg'), `set timeout=0\nset default=0\nmenuentry e2e {\n  linux /vmlinuz ${cmdline(token)}\n  initrd /initrd.img\n}\n`);
}

/** The iPXE script path for a host: hosts/<mac with dashes>.ipxe (iPXE expands ${net0/mac:hexhyp}). */
export function ipxeScriptPath(mac?: string): string {
  return mac === undefined ? 'boot.ipxe' : `hosts/${mac.toLowerCase().replace(/:/g, '-')}.ipxe`;
}

/** An iPXE script fetching the payload over HTTP from `httpBase`. */
export function writeIpxeScript(root: string, httpBase: string, token: string, mac?: string): string {
  const path = ipxeScriptPath(mac);
  write(join(root, path), `#!ipxe\nkernel ${httpBase}/vmlinuz initrd=initrd.img ${cmdline(token)}\ninitrd ${httpBase}/initrd.img\nboot\n`);
  return path;
}
