// The boot paths as data, for running the same boots against bootherd and against dnsmasq (the
// reference) in one lab run: firmware, bootherd's loader chain settings and profile, and for
// dnsmasq the host's files in the boot root and its options.
import { ipxeScriptPath, writeGrubConfig, writeIpxeScript, writePxelinuxConfig } from './bootroot.ts';
import type { Firmware } from './qemu.ts';
import { mac } from './run.ts';

export interface PathContext {
  bootRoot: string;
  serverIp: string;
  httpBase: string;
}

export interface BootPath {
  id: string;
  title: string;
  firmware: Firmware;
  mac: string;
  /** dnsmasq: writes this host's configs (carrying `token`) into the boot root. Run right before the boot. */
  prepare(ctx: PathContext, token: string): void;
  /** bootherd: the `boot` settings (loader chains) this path needs. */
  chains: 'classic' | 'ipxe';
  /** bootherd: extra profile keys (secure_boot). */
  profile?: Record<string, unknown>;
  /** bootherd: the first file the path must fetch over TFTP (else the path was not the one taken). */
  mustFetch?: string;
  /** dnsmasq: options for this host (tag = the path id). */
  dnsmasq(ctx: PathContext): string[];
}

export const PATHS: readonly BootPath[] = [
  {
    id: 'bios-pxelinux',
    title: 'BIOS → pxelinux (TFTP)',
    firmware: 'bios',
    mac: mac(0x91),
    prepare: (c, t) => writePxelinuxConfig(c.bootRoot, t, mac(0x91)),
    chains: 'classic',
    mustFetch: 'pxelinux.0',
    dnsmasq: () => [`dhcp-host=${mac(0x91)},set:biospxelinux`, 'dhcp-boot=tag:biospxelinux,pxelinux.0'],
  },
  {
    id: 'bios-ipxe-http',
    title: 'BIOS iPXE → HTTP script, kernel over HTTP',
    firmware: 'bios',
    mac: mac(0x92),
    prepare: (c, t) => void writeIpxeScript(c.bootRoot, c.httpBase, t, mac(0x92)),
    chains: 'ipxe',
    dnsmasq: (c) => [`dhcp-host=${mac(0x92)},set:biosipxehttp`, `dhcp-boot=tag:biosipxehttp,tag:ipxe,${c.httpBase}/${ipxeScriptPath(mac(0x92))}`, 'dhcp-boot=tag:biosipxehttp,tag:!ipxe,undionly.kpxe'],
  },
  {
    id: 'uefi-grub',
    title: 'UEFI PXE → GRUB → kernel (TFTP)',
    firmware: 'uefi',
    mac: mac(0x93),
    prepare: (c, t) => writeGrubConfig(c.bootRoot, t),
    chains: 'classic',
    mustFetch: 'grubx64.efi',
    dnsmasq: () => [`dhcp-host=${mac(0x93)},set:uefigrub`, 'dhcp-boot=tag:uefigrub,grubx64.efi'],
  },
  {
    id: 'uefi-snponly',
    title: 'UEFI PXE → snponly.efi → HTTP',
    firmware: 'uefi',
    mac: mac(0x94),
    prepare: (c, t) => void writeIpxeScript(c.bootRoot, c.httpBase, t, mac(0x94)),
    chains: 'ipxe',
    mustFetch: 'snponly.efi',
    dnsmasq: (c) => [`dhcp-host=${mac(0x94)},set:uefisnponly`, `dhcp-boot=tag:uefisnponly,tag:ipxe,${c.httpBase}/${ipxeScriptPath(mac(0x94))}`, 'dhcp-boot=tag:uefisnponly,tag:!ipxe,snponly.efi'],
  },
  {
    id: 'uefi-httpboot',
    title: 'UEFI HTTP Boot → ipxe.efi → HTTP',
    firmware: 'uefi-http',
    mac: mac(0x95),
    prepare: (c, t) => void writeIpxeScript(c.bootRoot, c.httpBase, t, mac(0x95)),
    chains: 'ipxe',
    dnsmasq: (c) => [
      `dhcp-host=${mac(0x95)},set:uefihttpboot`,
      'dhcp-option-force=tag:uefihttpboot,tag:httpclient,60,HTTPClient',
      `dhcp-boot=tag:uefihttpboot,tag:ipxe,${c.httpBase}/${ipxeScriptPath(mac(0x95))}`,
      `dhcp-boot=tag:uefihttpboot,tag:httpclient,${c.httpBase}/ipxe.efi`,
    ],
  },
  {
    id: 'secureboot',
    title: 'Secure Boot: shim → GRUB → signed kernel',
    firmware: 'secureboot',
    mac: mac(0x96),
    prepare: (c, t) => writeGrubConfig(c.bootRoot, t),
    chains: 'classic',
    profile: { secure_boot: true },
    mustFetch: 'shimx64.efi',
    dnsmasq: () => [`dhcp-host=${mac(0x96)},set:secureboot`, 'dhcp-boot=tag:secureboot,shimx64.efi'],
  },
];

/** dnsmasq options every path relies on: the iPXE and HTTPClient tags. */
export const DNSMASQ_COMMON = ['dhcp-userclass=set:ipxe,iPXE', 'dhcp-vendorclass=set:httpclient,HTTPClient'];


/** bootherd's `boot` section per chain setting. */
export const CHAINS = { classic: { bios_loader: 'pxelinux', uefi_loader: 'grub' }, ipxe: { bios_loader: 'ipxe', uefi_loader: 'ipxe' } } as const;
