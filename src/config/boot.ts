// The `boot` section of the config: what unknown hosts get, which loader chain each firmware uses
// when nothing else says, the menu for unknown hosts, and where the boot loaders come from.
//
// Reconciled with DHCP: `dhcp.unknown_clients` (answer|ignore|register, per subnet) decides whether
// the DHCP stage answers an unknown client at all; `boot.unknown_hosts` decides what an unknown host
// boots once it is answered, and supplies the DHCP default when `dhcp.unknown_clients` is not set
// (see dhcpUnknownClients below). One setting for the common case, a per-subnet override for the rest.
import { Type } from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';

export const BootMenuSchema = Type.Object(
  {
    title: Type.String({ minLength: 1, maxLength: 80, default: 'bootherd', description: 'Title of the boot menu shown to unknown hosts (under `unknown_hosts: menu`) and of profile menus without one.', examples: ['Lab boot menu'] }),
    timeout: Type.Integer({ minimum: 0, maximum: 3600, default: 10, description: 'Seconds before the menu boots its default entry; 0 waits for a choice forever.', examples: [30] }),
    default: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$', default: 'local', description: 'The entry chosen when the timeout runs out: a profile name, or `local` (boot from the local disk).', examples: ['debian-installer'] }),
  },
  { additionalProperties: false, default: {}, description: 'The menu unknown hosts get under `unknown_hosts: menu`: every profile, plus "boot from local disk".' },
);

export const BootConfigSchema = Type.Object(
  {
    unknown_hosts: Type.Union([Type.Literal('menu'), Type.Literal('local'), Type.Literal('ignore'), Type.Literal('register')], {
      default: 'menu',
      description:
        'What a machine with no host record (or one in state `new`) boots: `menu` (the inventory\'s default profile if it has one, else the menu of every profile), `local` (boot from its local disk), `ignore` (no answer), or `register` (recorded as *pending*; it waits until an operator approves it). Also the default of `dhcp.unknown_clients` (`ignore` → ignore, `register` → register, otherwise answer).',
      examples: ['register'],
    }),
    bios_loader: Type.Union([Type.Literal('ipxe'), Type.Literal('pxelinux')], {
      default: 'ipxe',
      description: 'The chain for BIOS clients: `ipxe` (undionly.kpxe, then the per-host iPXE script over HTTP) or `pxelinux` (pxelinux.0 with a per-host pxelinux.cfg over TFTP).',
      examples: ['pxelinux'],
    }),
    uefi_loader: Type.Union([Type.Literal('ipxe'), Type.Literal('grub')], {
      default: 'ipxe',
      description: 'The chain for UEFI PXE clients: `ipxe` (snponly.efi, then the per-host iPXE script) or `grub` (GRUB with a per-host grub.cfg over TFTP). Profiles with `secure_boot: true` always use shim → GRUB.',
      examples: ['grub'],
    }),
    assets_dir: Type.Optional(Type.String({
      minLength: 1,
      description: 'A directory with boot loaders (undionly.kpxe, ipxe.efi, snponly.efi, shimx64.efi, grubx64.efi, pxelinux.0, ldlinux.c32, …) searched before the Debian package paths. `bootherd assets` shows what is found.',
      default: '(none: Debian package paths only)',
      'x-computed': true,
      examples: ['/srv/bootherd/assets'],
    })),
    pending_poll: Type.Integer({ minimum: 5, maximum: 3600, default: 30, description: 'Seconds a *pending* host waits before it asks again whether an operator approved it.', examples: [60] }),
    menu: BootMenuSchema,
  },
  { additionalProperties: false, default: {}, description: 'Boot plans: unknown hosts, loader chains, menus and boot-loader assets.' },
);

export type BootConfig = Static<typeof BootConfigSchema>;

/** The defaults, for callers (and tests) that have no loaded config. */
export const DEFAULT_BOOT_CONFIG: BootConfig = {
  unknown_hosts: 'menu',
  bios_loader: 'ipxe',
  uefi_loader: 'ipxe',
  pending_poll: 30,
  menu: { title: 'bootherd', timeout: 10, default: 'local' },
};

/** `dhcp.unknown_clients` when the config leaves it unset: derived from `boot.unknown_hosts`. */
export function dhcpUnknownClients(policy: BootConfig['unknown_hosts']): 'answer' | 'ignore' | 'register' {
  if (policy === 'ignore') return 'ignore';
  if (policy === 'register') return 'register';
  return 'answer';
}
