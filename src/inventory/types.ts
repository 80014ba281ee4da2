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

/**
 * The architecture keys of `bootfiles` maps (a group's, `dhcp.boot.bootfiles`): one per entry of the
 * IANA option-93 registry (src/boot/arch.ts maps codes to these keys; a test keeps both in step).
 */
export const ARCH_KEYS: ReadonlySet<string> = new Set([
  'bios', 'pc98', 'uefi-ia64', 'alpha', 'arc-x86', 'lean-client', 'uefi-ia32', 'uefi-x64', 'uefi-xscale', 'uefi-arm32', 'uefi-arm64',
  'ppc-openfirmware', 'ppc-epapr', 'power-opal', 'efi-http-ia32', 'efi-http-x64', 'efi-http-ebc', 'efi-http-arm32', 'efi-http-arm64',
  'bios-http', 'uboot-arm32', 'uboot-arm64', 'uboot-http-arm32', 'uboot-http-arm64', 'uefi-riscv32', 'efi-http-riscv32', 'uefi-riscv64',
  'efi-http-riscv64', 'uefi-riscv128', 'efi-http-riscv128', 's390-basic', 's390-extended', 'uefi-mips32', 'uefi-mips64', 'uefi-sunway32',
  'uefi-sunway64', 'uefi-loong32', 'efi-http-loong32', 'uefi-loong64', 'efi-http-loong64', 'arm-rpiboot',
]);

/** How a DHCP option's value is written on the wire (as in the config's `options`). */
export type DhcpOptionType = 'ip' | 'ips' | 'string' | 'u8' | 'u16' | 'u32' | 'bool' | 'hex';
export const DHCP_OPTION_TYPES: readonly DhcpOptionType[] = ['ip', 'ips', 'string', 'u8', 'u16', 'u32', 'bool', 'hex'];

/** One DHCP option sent to a host or a group's hosts: `{code: 42, type: ips, value: [198.18.0.1]}`. */
export interface DhcpOption {
  code: number;
  type: DhcpOptionType;
  value: string | number | boolean | string[];
}

/** The DHCP options of a host or group: the same keys as a config subnet's or reservation's. */
export interface DhcpOptions {
  routers?: string[];
  dns_servers?: string[];
  domain_name?: string;
  ntp_servers?: string[];
  options?: DhcpOption[];
}

/** What a host's record says about its DHCP boot, beside its profile (the config's reservation fields). */
export interface HostBootSettings {
  /** The IPv4 address reserved for the host (its first MAC) in full-mode DHCP. */
  ip: string | null;
  /** The first-stage boot file (TFTP path) or URL, overriding the group's and the architecture defaults. */
  bootfile: string | null;
  /** The script URL or path (relative to the HTTP base) handed to the host once it runs iPXE. */
  ipxeScript: string | null;
  dhcp: DhcpOptions | null;
}

/** A group's DHCP boot settings (the config's `dhcp.boot.groups.<name>`). */
export interface GroupBootSettings {
  /** Boot file (TFTP path) or URL per architecture key. */
  bootfiles: Record<string, string> | null;
  ipxeScript: string | null;
  dhcp: DhcpOptions | null;
}
