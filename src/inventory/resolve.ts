// Which profile a host boots, and why: the host's own profile, else its group's, else the default
// profile (set in the inventory, or the built-in one of quick mode). The host's state decides
// whether the profile applies at all. Pure: the caller loads the records.
import type { FirmwareArch, HostState, ProfileSpec, BootSpec } from './types.ts';
import { bootSpecFor } from './profile.ts';

export interface NamedProfile {
  name: string;
  spec: ProfileSpec;
}

export type ProfileSource = 'host' | 'group' | 'default' | 'none';

/**
 * What a host gets:
 * - `boot`: its profile (`profile`, from `source`);
 * - `local`: boot from the local disk (state local);
 * - `wait`: nothing until an operator approves it (state pending);
 * - `ignore`: not answered (state disabled);
 * - `unknown`: the unknown-host policy decides (state new, or no host record); `profile` is the
 *   default profile that policy may use.
 * - `none`: active, but no profile anywhere (no host, group or default profile).
 */
export type BootAction = 'boot' | 'local' | 'wait' | 'ignore' | 'unknown' | 'none';

export interface Resolution {
  action: BootAction;
  profile: NamedProfile | null;
  source: ProfileSource;
  /** One sentence for `hosts show` and logs. */
  why: string;
}

export interface ResolveInput {
  /** undefined: a machine with no host record. */
  host?: { state: HostState; profile: NamedProfile | null };
  group?: { name: string; profile: NamedProfile | null };
  defaultProfile?: NamedProfile | null;
}

export function pickProfile(input: ResolveInput): { profile: NamedProfile | null; source: ProfileSource } {
  if (input.host?.profile) return { profile: input.host.profile, source: 'host' };
  if (input.group?.profile) return { profile: input.group.profile, source: 'group' };
  if (input.defaultProfile) return { profile: input.defaultProfile, source: 'default' };
  return { profile: null, source: 'none' };
}

export function resolveBoot(input: ResolveInput): Resolution {
  const picked = pickProfile(input);
  const via = picked.profile === null ? '' : picked.source === 'host' ? `its own profile ${picked.profile.name}` : picked.source === 'group' ? `profile ${picked.profile.name} of group ${input.group?.name ?? '?'}` : `the default profile ${picked.profile.name}`;
  const state = input.host?.state;
  switch (state) {
    case undefined:
    case 'new':
      return { action: 'unknown', ...picked, why: `${state === undefined ? 'no host record' : 'new host'}: the unknown-host policy applies${picked.profile ? ` (default profile ${picked.profile.name})` : ''}` };
    case 'pending':
      return { action: 'wait', ...picked, why: 'pending: boots nothing until approved (bootherd hosts approve)' };
    case 'disabled':
      return { action: 'ignore', ...picked, why: 'disabled: not answered on the network' };
    case 'local':
      return { action: 'local', ...picked, why: 'local: boots from its local disk' };
    case 'active':
      if (picked.profile === null) return { action: 'none', ...picked, why: 'active, but no profile: set one on the host, its group, or a default profile' };
      return { action: 'boot', ...picked, why: `active: boots ${via}` };
  }
}

/** The boot spec a host of this firmware gets from a profile (its arch variant, else the top level). */
export function specForArch(profile: NamedProfile, arch: FirmwareArch | null | undefined): BootSpec {
  return bootSpecFor(profile.spec, arch);
}
