// The first-stage loaders by name: the one table the planner (which chain starts with which file)
// and the DHCP stage (which file a firmware gets) read. Where each file comes from on disk is
// assets.ts's business.

/**
 * Loaders Debian packages: ipxe (/usr/lib/ipxe), pxelinux (/usr/lib/PXELINUX), shim-signed and
 * grub-efi-amd64-signed (grubnetx64.efi.signed, served as grubx64.efi).
 */
export const DEBIAN_LOADERS: ReadonlySet<string> = new Set(['undionly.kpxe', 'undionly.kkpxe', 'ipxe.pxe', 'ipxe.lkrn', 'ipxe.efi', 'snponly.efi', 'pxelinux.0', 'lpxelinux.0', 'shimx64.efi', 'grubx64.efi']);

/** First-stage loaders of the non-iPXE chains (`boot.bios_loader: pxelinux`, `boot.uefi_loader: grub`). */
export const CHAIN_LOADERS: Readonly<Record<string, string>> = {
  bios: 'pxelinux.0',
  'uefi-x64': 'grubx64.efi',
  'uefi-arm64': 'grubaa64.efi',
  'uefi-ia32': 'grubia32.efi',
};

/** The first-stage loader per architecture key when the config names none. */
export const DEFAULT_LOADERS: Readonly<Record<string, string>> = {
  bios: 'undionly.kpxe',
  'uefi-x64': 'snponly.efi',
  'efi-http-x64': 'ipxe.efi',
  'uefi-ia32': 'ipxe-i386.efi',
  'efi-http-ia32': 'ipxe-i386.efi',
  'uefi-arm32': 'ipxe-arm32.efi',
  'efi-http-arm32': 'ipxe-arm32.efi',
  'uefi-arm64': 'ipxe-arm64.efi',
  'efi-http-arm64': 'ipxe-arm64.efi',
  'uefi-riscv64': 'ipxe-riscv64.efi',
  'efi-http-riscv64': 'ipxe-riscv64.efi',
  'uefi-loong64': 'ipxe-loong64.efi',
  'efi-http-loong64': 'ipxe-loong64.efi',
};

/** The Secure Boot first stage (Microsoft-signed shim; x64 only in Debian). */
export const SHIM_LOADER = 'shimx64.efi';
