// The planner: (client facts, inventory) → the boot plan for every stage. Pure: no I/O, no clock,
// no logging. The DHCP stage reads `dhcp` (answer at all? which first loader?), the loader stage
// (iPXE script, grub.cfg, pxelinux.cfg) reads `chain` and `payload`; renderers turn the payload
// into text. The caller finds the host's record, its own profile and its group's; the planner
// picks the one that applies (src/inventory/resolve.ts: own, else group's, else the default).
import type { BootSpec, FirmwareArch, ProfileSpec, UnknownHostPolicy } from '../inventory/types.ts';
import { bootSpecFor } from '../inventory/profile.ts';
import { pickProfile } from '../inventory/resolve.ts';
import type { NamedProfile, ProfileSource } from '../inventory/resolve.ts';
import type { EffectiveBoot } from '../inventory/service.ts';
import { FIRMWARE_ARCHES } from '../inventory/types.ts';
import { CHAIN_LOADERS, SHIM_LOADER } from './loaders.ts';

/** The loader chain a client walks through. */
export type Chain = 'ipxe' | 'pxelinux' | 'grub' | 'shim-grub' | 'http-boot';

export interface PlanClient {
  /** aa:bb:cc:dd:ee:ff, when known. */
  mac?: string | undefined;
  uuid?: string | undefined;
  /** The firmware family; undefined when the client did not say (then the iPXE chain is assumed). */
  arch: FirmwareArch | undefined;
}

/** What the planner needs of a host record. */
export interface PlanHost {
  id: string;
  hostname: string | null;
  /** A HostState; anything else is treated as disabled. */
  state: string;
  /** The host's own profile. */
  profile?: NamedProfile | undefined;
  /** The host's group, with the group's profile. */
  group?: { name: string; profile?: NamedProfile | undefined } | undefined;
}

export interface PlanInventory {
  host: PlanHost | undefined;
  /** Every profile by name, for menus. */
  profiles: ReadonlyMap<string, ProfileSpec>;
  /**
   * The inventory's default profile (or quick mode's built-in one): booted by active hosts with no
   * profile of their own or their group's, and by unknown hosts under the `menu` policy instead
   * of the menu.
   */
  defaultProfile?: { name: string; spec: ProfileSpec } | undefined;
}

export interface PlanSettings {
  unknownHosts: UnknownHostPolicy;
  biosLoader: 'ipxe' | 'pxelinux';
  uefiLoader: 'ipxe' | 'grub';
  menu: { title: string; timeoutS: number; default: string };
  pendingPollS: number;
}

export interface LinuxPayload {
  kind: 'linux';
  profile: string;
  kernel: string;
  initrd: string[];
  cmdline: string;
}
export interface ChainPayload {
  kind: 'chain';
  profile: string;
  target: string;
}
export interface LocalPayload {
  kind: 'local';
}
export interface MenuItem {
  /** A short key, unique in the menu: the profile name, or `local`. */
  key: string;
  label: string;
  payload: LinuxPayload | ChainPayload | LocalPayload;
}
export interface MenuPayload {
  kind: 'menu';
  title: string;
  /** 0: wait for a choice forever. */
  timeoutS: number;
  /** The key of the default item (always one of items). */
  default: string;
  items: MenuItem[];
}
export interface WaitPayload {
  kind: 'wait';
  pollS: number;
  message: string;
}
export interface NonePayload {
  kind: 'none';
}
export type Payload = LinuxPayload | ChainPayload | LocalPayload | MenuPayload | WaitPayload | NonePayload;

export interface BootPlan {
  hostId: string | undefined;
  /**
   * `boot` a profile, show a `menu`, boot `local`ly, `wait` for approval, `ignore` the client,
   * `none` (cannot boot: see why), or `defer`: the inventory has nothing to say about this client,
   * so bootherd generates no file for it and the boot root's own files answer, as a plain TFTP or
   * HTTP server would (pxelinux.cfg/default, grub.cfg, boot.ipxe).
   */
  action: 'boot' | 'menu' | 'local' | 'wait' | 'ignore' | 'none' | 'defer';
  why: string;
  chain: Chain;
  /**
   * The DHCP stage: whether to answer, and the first loader by its stable name in the boot namespace
   * (`shimx64.efi`, `grubx64.efi`, `pxelinux.0`); undefined means the default loader for the arch
   * (Debian's iPXE, or `dhcp.boot.bootfiles`).
   */
  dhcp: { answer: boolean; bootfile?: string };
  payload: Payload;
  /** Under the register policy, the host must be recorded as pending. */
  register: boolean;
  /**
   * The profile that applies to a known host (its own, its group's, or the default) and where it
   * came from, also when the host's state keeps it from booting it; undefined for unknown hosts.
   */
  profile?: { name: string; source: Exclude<ProfileSource, 'none'> } | undefined;
}

export const DEFAULT_PLAN_SETTINGS: PlanSettings = {
  unknownHosts: 'menu',
  biosLoader: 'ipxe',
  uefiLoader: 'ipxe',
  menu: { title: 'bootherd', timeoutS: 10, default: 'local' },
  pendingPollS: 30,
};

/** The first loaders of the non-iPXE chains, by the stable names they are served under (loaders.ts). */
const LOADER_NAMES = { pxelinux: CHAIN_LOADERS.bios!, grub: CHAIN_LOADERS['uefi-x64']!, shim: SHIM_LOADER } as const;


function chainFor(arch: FirmwareArch | undefined, secureBoot: boolean, s: PlanSettings): { chain: Chain; bootfile?: string } {
  if (arch === undefined) return { chain: 'ipxe' };
  if (arch === 'bios') return s.biosLoader === 'pxelinux' ? { chain: 'pxelinux', bootfile: LOADER_NAMES.pxelinux } : { chain: 'ipxe' };
  if (arch === 'efi-http-x64' || arch === 'efi-http-arm64') {
    // shimx64 is x64 only; an arm64 Secure Boot chain is not packaged by Debian.
    if (secureBoot && arch === 'efi-http-x64') return { chain: 'shim-grub', bootfile: LOADER_NAMES.shim };
    return { chain: 'http-boot' };
  }
  if (arch === 'uefi-x64') {
    if (secureBoot) return { chain: 'shim-grub', bootfile: LOADER_NAMES.shim };
    if (s.uefiLoader === 'grub') return { chain: 'grub', bootfile: LOADER_NAMES.grub };
  }
  return { chain: 'ipxe' };
}

type Resolved = { ok: true; payload: LinuxPayload | ChainPayload | LocalPayload | MenuPayload; secureBoot: boolean } | { ok: false; why: string };

function resolveSimple(name: string, b: BootSpec): { ok: true; payload: LinuxPayload | ChainPayload | LocalPayload } | { ok: false; why: string } {
  if (b.kind === 'local') return { ok: true, payload: { kind: 'local' } };
  if (b.kind === 'linux') {
    if (b.kernel === undefined || b.kernel === '') return { ok: false, why: `profile ${name} is kind linux but names no kernel: set its kernel` };
    return { ok: true, payload: { kind: 'linux', profile: name, kernel: b.kernel, initrd: b.initrd ?? [], cmdline: b.cmdline ?? '' } };
  }
  if (b.kind === 'chain') {
    if (b.chain === undefined || b.chain === '') return { ok: false, why: `profile ${name} is kind chain but names no target: set its chain` };
    return { ok: true, payload: { kind: 'chain', profile: name, target: b.chain } };
  }
  return { ok: false, why: `profile ${name} is a menu, which cannot be an item of another menu` };
}

function resolveProfile(name: string, spec: ProfileSpec, inv: PlanInventory, arch: FirmwareArch | undefined, s: PlanSettings): Resolved {
  const b = bootSpecFor(spec, arch);
  const secureBoot = b.secure_boot === true;
  if (b.kind !== 'menu') {
    const r = resolveSimple(name, b);
    return r.ok ? { ...r, secureBoot } : r;
  }
  const items: MenuItem[] = [];
  for (const it of b.menu?.items ?? []) {
    const p = inv.profiles.get(it.profile);
    if (p === undefined) continue; // a dangling item is left out; the inventory service warns about it
    const r = resolveSimple(it.profile, bootSpecFor(p, arch));
    if (r.ok && !items.some((x) => x.key === it.profile)) items.push({ key: it.profile, label: it.label, payload: r.payload });
  }
  if (!items.some((x) => x.key === 'local')) items.push({ key: 'local', label: 'Boot from local disk', payload: { kind: 'local' } });
  const wanted = b.menu?.default;
  const def = wanted !== undefined && items.some((x) => x.key === wanted) ? wanted : items[0]!.key;
  return { ok: true, secureBoot, payload: { kind: 'menu', title: b.menu?.title ?? s.menu.title, timeoutS: b.menu?.timeout_s ?? s.menu.timeoutS, default: def, items } };
}

/** The menu unknown hosts get: every profile that boots something on this arch, then local disk. */
export function unknownHostMenu(inv: PlanInventory, arch: FirmwareArch | undefined, s: PlanSettings): MenuPayload {
  const items: MenuItem[] = [];
  for (const name of [...inv.profiles.keys()].sort()) {
    const spec = inv.profiles.get(name)!;
    const r = resolveSimple(name, bootSpecFor(spec, arch));
    if (r.ok && r.payload.kind !== 'local') items.push({ key: name, label: spec.description ?? name, payload: r.payload });
  }
  items.push({ key: 'local', label: 'Boot from local disk', payload: { kind: 'local' } });
  const def = items.some((x) => x.key === s.menu.default) ? s.menu.default : 'local';
  return { kind: 'menu', title: s.menu.title, timeoutS: s.menu.timeoutS, default: def, items };
}

export function plan(client: PlanClient, inv: PlanInventory, s: PlanSettings = DEFAULT_PLAN_SETTINGS): BootPlan {
  const host = inv.host;
  const hostId = host?.id;
  const base = chainFor(client.arch, false, s);
  const mk = (action: BootPlan['action'], why: string, payload: Payload, extra: Partial<BootPlan> = {}): BootPlan => ({
    hostId,
    action,
    why,
    chain: base.chain,
    dhcp: { answer: action !== 'ignore', ...(base.bootfile !== undefined ? { bootfile: base.bootfile } : {}) },
    payload,
    register: false,
    ...extra,
  });
  const state = host?.state;

  if (host === undefined || state === 'new') {
    const who = host === undefined ? 'unknown host' : 'new host';
    switch (s.unknownHosts) {
      case 'ignore':
        return mk('ignore', `${who}, policy ignore`, { kind: 'none' });
      case 'local':
        return mk('local', `${who}, policy local: boots from its local disk`, { kind: 'local' });
      case 'register':
        return mk('wait', `${who}, policy register: recorded as pending until an operator approves it`, { kind: 'wait', pollS: s.pendingPollS, message: 'This machine is registered and waits for approval' }, { register: true });
      default:
        if (inv.defaultProfile !== undefined) return bootProfile(client, inv, s, hostId, inv.defaultProfile, `${who}, policy menu: the default profile ${inv.defaultProfile.name}`);
        if (inv.profiles.size === 0) return mk('defer', `${who}, policy menu, and the inventory has no profiles: no generated file; the boot root's own files answer (pxelinux.cfg/default, grub.cfg, boot.ipxe)`, { kind: 'none' });
        return mk('menu', `${who}, policy menu`, unknownHostMenu(inv, client.arch, s));
    }
  }
  const picked = pickProfile({ own: host.profile ?? null, ...(host.group ? { group: { name: host.group.name, profile: host.group.profile ?? null } } : {}), defaultProfile: inv.defaultProfile ?? null });
  const profile = picked.profile === null || picked.source === 'none' ? undefined : { name: picked.profile.name, source: picked.source };
  const known = (action: BootPlan['action'], why: string, payload: Payload): BootPlan => ({ ...mk(action, why, payload), profile });
  if (state === 'pending') return known('wait', 'pending host: waits until an operator approves it (bootherd hosts approve)', { kind: 'wait', pollS: s.pendingPollS, message: 'This machine waits for approval' });
  if (state === 'local') return known('local', 'host state local: boots from its local disk', { kind: 'local' });
  if (state !== 'active') return known('ignore', state === 'disabled' ? 'host disabled: not answered on the network' : `host state ${JSON.stringify(state)} is not one bootherd knows: treated as disabled`, { kind: 'none' });

  if (picked.profile === null) return known('local', "active host without a profile (its own, its group's or a default one): boots from its local disk; assign a profile", { kind: 'local' });
  const via = picked.source === 'host' ? `its own profile ${picked.profile.name}` : picked.source === 'group' ? `profile ${picked.profile.name} of group ${host.group?.name ?? '?'}` : `the default profile ${picked.profile.name}`;
  return { ...bootProfile(client, inv, s, hostId, picked.profile, `active: boots ${via}`), profile };
}

function bootProfile(client: PlanClient, inv: PlanInventory, s: PlanSettings, hostId: string | undefined, profile: { name: string; spec: ProfileSpec }, why: string): BootPlan {
  const r = resolveProfile(profile.name, profile.spec, inv, client.arch, s);
  if (!r.ok) {
    const c = chainFor(client.arch, false, s);
    return { hostId, action: 'none', why: r.why, chain: c.chain, dhcp: { answer: true, ...(c.bootfile !== undefined ? { bootfile: c.bootfile } : {}) }, payload: { kind: 'none' }, register: false };
  }
  const c = chainFor(client.arch, r.secureBoot, s);
  const action: BootPlan['action'] = r.payload.kind === 'menu' ? 'menu' : r.payload.kind === 'local' ? 'local' : 'boot';
  const securityNote = r.secureBoot && c.chain !== 'shim-grub' ? `; Secure Boot is not available on ${client.arch ?? 'an unknown arch'}, so the ${c.chain} chain is used` : '';
  return {
    hostId,
    action,
    why: `${why}${r.secureBoot ? ' (Secure Boot)' : ''}${securityNote}`,
    chain: c.chain,
    dhcp: { answer: true, ...(c.bootfile !== undefined ? { bootfile: c.bootfile } : {}) },
    payload: r.payload,
    register: false,
  };
}

/**
 * The firmware family from DHCP option 93 (first entry) and, failing that, the vendor class.
 * Undefined for architectures bootherd does not plan for.
 */
export function firmwareArchFromDhcp(arches: readonly number[], vendorClass: string | undefined): FirmwareArch | undefined {
  let code = arches[0];
  if (code === undefined) {
    const m = /^(?:PXEClient|HTTPClient):Arch:([0-9]{5})/.exec(vendorClass ?? '');
    if (m !== null) code = Number(m[1]);
  }
  switch (code) {
    case 0:
      return 'bios';
    case 6:
      return 'uefi-ia32';
    case 7:
    case 9:
      return 'uefi-x64';
    case 10:
      return 'uefi-arm32';
    case 11:
      return 'uefi-arm64';
    case 16:
      return 'efi-http-x64';
    case 19:
      return 'efi-http-arm64';
    default:
      return undefined;
  }
}

/** The firmware family from iPXE's `${buildarch}` and `${platform}` (the per-host script URL). */
export function firmwareArchFromIpxe(buildarch: string | undefined, platform: string | undefined): FirmwareArch | undefined {
  if (buildarch === undefined) return undefined;
  const efi = platform === 'efi';
  switch (buildarch) {
    case 'i386':
      return efi ? 'uefi-ia32' : 'bios';
    case 'x86_64':
      // x86_64 iPXE is EFI unless it says pcbios (Debian's BIOS builds are i386).
      return platform === 'pcbios' ? 'bios' : 'uefi-x64';
    case 'arm32':
      return 'uefi-arm32';
    case 'arm64':
      return 'uefi-arm64';
    default:
      return undefined;
  }
}

/**
 * The plan for a host record as the inventory describes it (`bootherd hosts show`): the same
 * decision the servers make, for the firmware the host last booted with.
 */
export function planRecord(e: EffectiveBoot, s: PlanSettings = DEFAULT_PLAN_SETTINGS): BootPlan {
  const h = e.host;
  const arch = (FIRMWARE_ARCHES as readonly string[]).includes(h.arch ?? '') ? (h.arch as FirmwareArch) : undefined;
  const group = e.group === undefined ? undefined : { name: e.group.name, profile: e.group.profile ?? undefined };
  return plan({ mac: h.macs[0], uuid: h.uuid ?? undefined, arch }, { host: { id: h.id, hostname: h.hostname, state: h.state, profile: e.own ?? undefined, group }, profiles: e.profiles, defaultProfile: e.defaultProfile ?? undefined }, s);
}
