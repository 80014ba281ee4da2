// Dropping root after the privileged ports are bound: supplementary groups, then gid, then uid,
// then a check that root cannot be regained and that no capability is left.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { BhError } from '../errors.ts';

export interface UserInfo {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

/** Looks a user up through NSS (getent), so LDAP/sssd users work as well as /etc/passwd ones. */
export function lookupUser(name: string): UserInfo {
  let line: string;
  try {
    line = execFileSync('getent', ['passwd', name], { encoding: 'utf8' }).trim();
  } catch {
    throw new BhError('BH_USER_UNKNOWN', `user "${name}" does not exist`, `create it (useradd --system --no-create-home ${name}) or change "user:" in the config`);
  }
  const f = line.split(':');
  return { name: f[0] ?? name, uid: Number(f[2]), gid: Number(f[3]), home: f[5] ?? '/' };
}

/** The user's group list as NSS reports it (`id -G`), always including its primary group. */
function supplementaryGroups(user: UserInfo): number[] {
  let groups: number[] = [];
  try {
    groups = execFileSync('id', ['-G', user.name], { encoding: 'utf8' }).trim().split(/\s+/).map(Number).filter((g) => Number.isInteger(g));
  } catch {
    /* fall back to the primary group alone */
  }
  return [...new Set([user.gid, ...groups])];
}

export interface Credentials {
  uid: number;
  euid: number;
  gid: number;
  egid: number;
  groups: number[];
  /** Effective capability mask from /proc/self/status, hex. */
  capEff: string;
}

export function currentCredentials(): Credentials {
  let capEff = 'unknown';
  try {
    const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m?.[1] !== undefined) capEff = m[1];
  } catch {
    /* not Linux */
  }
  return {
    uid: process.getuid?.() ?? -1,
    euid: process.geteuid?.() ?? -1,
    gid: process.getgid?.() ?? -1,
    egid: process.getegid?.() ?? -1,
    groups: process.getgroups?.() ?? [],
    capEff,
  };
}

/**
 * Drops from root to `name`: setgroups (the user's groups), setgid, setuid.
 * Then verifies: every id is the user's, root is not among the groups, setuid(0) fails, and the
 * effective capability set is empty. Throws a BhError (BH_USER_*, BH_NOT_ROOT, BH_PRIVDROP_*) on any failure; the caller must exit.
 */
export function dropPrivileges(name: string): Credentials {
  const user = lookupUser(name);
  if (user.uid === 0) {
    throw new BhError('BH_USER_IS_ROOT', `user "${name}" is root`, 'name an unprivileged user in "user:", for example bootherd or nobody');
  }
  if (process.getuid?.() !== 0) {
    throw new BhError('BH_NOT_ROOT', `cannot switch to user "${name}": bootherd is not running as root`, 'start bootherd as root to use "user:", or remove "user:" and run it as that user with CAP_NET_BIND_SERVICE');
  }
  try {
    process.setgroups?.(supplementaryGroups(user));
    process.setgid?.(user.gid);
    process.setuid?.(user.uid);
  } catch (err) {
    throw new BhError('BH_PRIVDROP_FAILED', `switching to user "${name}" failed: ${(err as Error).message}`, 'check that the user and its groups exist');
  }
  const creds = currentCredentials();
  const problems: string[] = [];
  if (creds.uid !== user.uid || creds.euid !== user.uid) problems.push(`uid ${creds.uid}/${creds.euid}`);
  if (creds.gid !== user.gid || creds.egid !== user.gid) problems.push(`gid ${creds.gid}/${creds.egid}`);
  if (creds.groups.includes(0) && user.gid !== 0) problems.push('still in group root');
  if (creds.capEff !== 'unknown' && BigInt(`0x${creds.capEff}`) !== 0n) problems.push(`capabilities ${creds.capEff} left`);
  let regained = false;
  try {
    process.setuid?.(0);
    regained = true;
  } catch {
    /* expected: EPERM */
  }
  if (regained) problems.push('setuid(0) succeeded');
  if (problems.length > 0) {
    throw new BhError('BH_PRIVDROP_INCOMPLETE', `privilege drop to "${name}" is incomplete: ${problems.join(', ')}`, 'refusing to run; report this with the output of `id` and the kernel version');
  }
  return creds;
}
