// Which profile applies to a host: its own, else its group's, else the default profile (set in the
// inventory, or the built-in one of quick mode). Whether the host boots it is the planner's
// decision (src/boot/planner.ts), which asks this. Pure: the caller loads the records.
import type { ProfileSpec } from './types.ts';

export interface NamedProfile {
  name: string;
  spec: ProfileSpec;
}

export type ProfileSource = 'host' | 'group' | 'default' | 'none';

export interface ProfileChoice {
  /** The host's own profile. */
  own: NamedProfile | null;
  group?: { name: string; profile: NamedProfile | null } | undefined;
  defaultProfile?: NamedProfile | null | undefined;
}

export function pickProfile(input: ProfileChoice): { profile: NamedProfile | null; source: ProfileSource } {
  if (input.own) return { profile: input.own, source: 'host' };
  if (input.group?.profile) return { profile: input.group.profile, source: 'group' };
  if (input.defaultProfile) return { profile: input.defaultProfile, source: 'default' };
  return { profile: null, source: 'none' };
}
