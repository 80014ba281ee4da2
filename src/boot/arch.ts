// The IANA "Processor Architecture Types" registry (DHCP option 93, RFC 4578 and later updates),
// with the short keys used in the config (`dhcp.boot.bootfiles`) and what each needs to boot.

export type Firmware = 'bios' | 'uefi' | 'uboot' | 'openfirmware' | 'other';

export interface ArchInfo {
  code: number;
  /** The registry's description. */
  name: string;
  /** The config key, e.g. `uefi-x64`; several codes may share a key (7 and 9). */
  key: string;
  firmware: Firmware;
  /** The client loads its first file over HTTP (UEFI/U-Boot HTTP Boot) rather than TFTP. */
  http: boolean;
  /** iPXE's name for the CPU, if iPXE runs there (for file names). */
  cpu: 'i386' | 'x86_64' | 'arm32' | 'arm64' | 'riscv32' | 'riscv64' | 'loong64' | undefined;
}

const rows: [number, string, string, Firmware, boolean, ArchInfo['cpu']][] = [
  [0, 'x86 BIOS', 'bios', 'bios', false, 'i386'],
  [1, 'NEC/PC98 (deprecated)', 'pc98', 'other', false, undefined],
  [2, 'Itanium', 'uefi-ia64', 'uefi', false, undefined],
  [3, 'DEC Alpha (deprecated)', 'alpha', 'other', false, undefined],
  [4, 'Arc x86 (deprecated)', 'arc-x86', 'other', false, undefined],
  [5, 'Intel Lean Client (deprecated)', 'lean-client', 'other', false, undefined],
  [6, 'x86 UEFI', 'uefi-ia32', 'uefi', false, 'i386'],
  [7, 'x64 UEFI', 'uefi-x64', 'uefi', false, 'x86_64'],
  [8, 'EFI Xscale (deprecated)', 'uefi-xscale', 'uefi', false, undefined],
  // 9 is "EBC" in the registry, but x64 firmware has long sent it for x64 UEFI (RFC 4578 errata).
  [9, 'EBC (sent by x64 UEFI firmware)', 'uefi-x64', 'uefi', false, 'x86_64'],
  [10, 'ARM 32-bit UEFI', 'uefi-arm32', 'uefi', false, 'arm32'],
  [11, 'ARM 64-bit UEFI', 'uefi-arm64', 'uefi', false, 'arm64'],
  [12, 'PowerPC Open Firmware', 'ppc-openfirmware', 'openfirmware', false, undefined],
  [13, 'PowerPC ePAPR', 'ppc-epapr', 'other', false, undefined],
  [14, 'POWER OPAL v3', 'power-opal', 'other', false, undefined],
  [15, 'x86 UEFI HTTP Boot', 'efi-http-ia32', 'uefi', true, 'i386'],
  [16, 'x64 UEFI HTTP Boot', 'efi-http-x64', 'uefi', true, 'x86_64'],
  [17, 'EBC HTTP Boot', 'efi-http-ebc', 'uefi', true, undefined],
  [18, 'ARM 32-bit UEFI HTTP Boot', 'efi-http-arm32', 'uefi', true, 'arm32'],
  [19, 'ARM 64-bit UEFI HTTP Boot', 'efi-http-arm64', 'uefi', true, 'arm64'],
  [20, 'PC/AT BIOS HTTP Boot', 'bios-http', 'bios', true, 'i386'],
  [21, 'ARM 32-bit U-Boot', 'uboot-arm32', 'uboot', false, undefined],
  [22, 'ARM 64-bit U-Boot', 'uboot-arm64', 'uboot', false, undefined],
  [23, 'ARM 32-bit U-Boot HTTP Boot', 'uboot-http-arm32', 'uboot', true, undefined],
  [24, 'ARM 64-bit U-Boot HTTP Boot', 'uboot-http-arm64', 'uboot', true, undefined],
  [25, 'RISC-V 32-bit UEFI', 'uefi-riscv32', 'uefi', false, 'riscv32'],
  [26, 'RISC-V 32-bit UEFI HTTP Boot', 'efi-http-riscv32', 'uefi', true, 'riscv32'],
  [27, 'RISC-V 64-bit UEFI', 'uefi-riscv64', 'uefi', false, 'riscv64'],
  [28, 'RISC-V 64-bit UEFI HTTP Boot', 'efi-http-riscv64', 'uefi', true, 'riscv64'],
  [29, 'RISC-V 128-bit UEFI', 'uefi-riscv128', 'uefi', false, undefined],
  [30, 'RISC-V 128-bit UEFI HTTP Boot', 'efi-http-riscv128', 'uefi', true, undefined],
  [31, 's390 Basic', 's390-basic', 'other', false, undefined],
  [32, 's390 Extended', 's390-extended', 'other', false, undefined],
  [33, 'MIPS 32-bit UEFI', 'uefi-mips32', 'uefi', false, undefined],
  [34, 'MIPS 64-bit UEFI', 'uefi-mips64', 'uefi', false, undefined],
  [35, 'Sunway 32-bit UEFI', 'uefi-sunway32', 'uefi', false, undefined],
  [36, 'Sunway 64-bit UEFI', 'uefi-sunway64', 'uefi', false, undefined],
  [37, 'LoongArch 32-bit UEFI', 'uefi-loong32', 'uefi', false, undefined],
  [38, 'LoongArch 32-bit UEFI HTTP Boot', 'efi-http-loong32', 'uefi', true, undefined],
  [39, 'LoongArch 64-bit UEFI', 'uefi-loong64', 'uefi', false, 'loong64'],
  [40, 'LoongArch 64-bit UEFI HTTP Boot', 'efi-http-loong64', 'uefi', true, 'loong64'],
  [41, 'ARM rpiboot', 'arm-rpiboot', 'other', false, undefined],
];

export const ARCHES: ReadonlyMap<number, ArchInfo> = new Map(rows.map(([code, name, key, firmware, http, cpu]) => [code, { code, name, key, firmware, http, cpu }]));

/** Every key the registry knows (for validating `bootfiles` maps): the inventory's list, which a test keeps equal to the rows' keys. */
export { ARCH_KEYS } from '../inventory/types.ts';

export function archInfo(code: number): ArchInfo | undefined {
  return ARCHES.get(code);
}
