// The inventory's domain types: what a profile says to boot, and the life of a host record.
// Stored through src/store (profiles.spec is this ProfileSpec as JSON; hosts.state is a HostState).

/** Firmware families bootherd plans for (from DHCP option 93 and the vendor class). */
export type FirmwareArch = 'bios' | 'uefi-ia32' | 'uefi-x64' | 'uefi-arm32' | 'uefi-arm64' | 'efi-http-x64' | 'efi-http-arm64';

export const FIRMWARE_ARCHES: readonly FirmwareArch[] = ['bios', 'uefi-ia32', 'uefi-x64', 'uefi-arm32', 'uefi-arm64', 'efi-http-x64', 'efi-http-arm64'];

/**
 * What to boot.
 * - `linux`: a kernel, initrds and a command line (each kernel/initrd a URL or a path under the boot root).
 * - `chain`: hand over to another loader (an EFI or BIOS binary, or an iPXE script URL).
 * - `menu`: an interactive menu of other profiles, with a default and a timeout.
 * - `local`: boot from the local disk (exit the network boot).
 */
export interface BootSpec {
  kind: 'linux' | 'chain' | 'menu' | 'local';
  kernel?: string;
  initrd?: string[];
  cmdline?: string;
  chain?: string;
  menu?: { title?: string; default?: string; timeout_s?: number; items: { label: string; profile: string }[] };
  /**
   * Boot through the signed chain shim → GRUB (grubnetx64) → kernel, for UEFI Secure Boot.
   * The kernel must be signed (Debian's are).
   */
  secure_boot?: boolean;
}

export interface ProfileSpec extends BootSpec {
  description?: string;
  /** Per-firmware variants; a missing arch uses the top-level spec. */
  arch?: Partial<Record<FirmwareArch, BootSpec>>;
}

/**
 * - `new`: seen on the network, no decision yet (unknown-host policy applies).
 * - `pending`: registered under register-and-wait; boots nothing until an operator approves it.
 * - `active`: boots its profile (directly or through its group).
 * - `local`: boots from local disk (e.g. after an install finished).
 * - `disabled`: ignored on the network.
 */
export type HostState = 'new' | 'pending' | 'active' | 'local' | 'disabled';

export const HOST_STATES: readonly HostState[] = ['new', 'pending', 'active', 'local', 'disabled'];

/** The unknown-host policy: what a machine with no host record (or state new) gets. */
export type UnknownHostPolicy = 'menu' | 'local' | 'ignore' | 'register';
