// Access control: who is answered at all. Deny and allow lists by MAC and MAC prefix (OUI), the
// relay (giaddr) allow-list, and the per-subnet policy for unknown clients. Pure.
import type { Cidr } from './ipv4.ts';
import { cidrContains, ipToU32, normalizeMac, normalizeMacPrefix, parseCidr } from './ipv4.ts';
import type { DhcpConfig, UnknownClientsPolicy } from '../config/dhcp.ts';

export interface AccessLists {
  allowMacs: ReadonlySet<string>;
  allowPrefixes: readonly string[];
  denyMacs: ReadonlySet<string>;
  denyPrefixes: readonly string[];
  /** undefined: no explicit list; a relay is accepted if its giaddr lies in a configured subnet. */
  relays: readonly Cidr[] | undefined;
}

export type AccessDecision =
  | { action: 'answer'; known: boolean }
  | { action: 'register' }
  | { action: 'ignore'; reason: 'denied-mac' | 'denied-oui' | 'not-allowed' | 'unknown-client' };

export function compileAccess(access: DhcpConfig['access'] | undefined): AccessLists {
  const macs = (xs: string[] | undefined): Set<string> => new Set((xs ?? []).map((m) => normalizeMac(m)).filter((m): m is string => m !== undefined));
  const prefixes = (xs: string[] | undefined): string[] => (xs ?? []).map((m) => normalizeMacPrefix(m)).filter((m): m is string => m !== undefined);
  let relays: Cidr[] | undefined;
  if (access?.relays !== undefined) {
    relays = access.relays.map((r) => parseCidr(r.includes('/') ? r : `${r}/32`)).filter((c): c is Cidr => c !== undefined);
  }
  return {
    allowMacs: macs(access?.allow_macs),
    allowPrefixes: prefixes(access?.allow_ouis),
    denyMacs: macs(access?.deny_macs),
    denyPrefixes: prefixes(access?.deny_ouis),
    relays,
  };
}

function matchesPrefix(mac: string, prefixes: readonly string[]): boolean {
  for (const p of prefixes) if (mac.startsWith(p)) return true;
  return false;
}

/**
 * Whether a relayed request may be answered: giaddr on the explicit allow-list, or, without a list,
 * inside one of the served subnets.
 */
export function relayAllowed(lists: AccessLists, giaddr: string, subnets: readonly Cidr[]): boolean {
  const n = ipToU32(giaddr);
  if (n === undefined) return false;
  const set = lists.relays ?? subnets;
  for (const c of set) if (cidrContains(c, n)) return true;
  return false;
}

/**
 * Deny lists first, then allow lists (if any are set, only listed clients pass), then the unknown
 * client policy for clients that are neither reserved nor in the inventory.
 */
export function decideAccess(lists: AccessLists, mac: string, known: boolean, unknownPolicy: UnknownClientsPolicy): AccessDecision {
  if (lists.denyMacs.has(mac)) return { action: 'ignore', reason: 'denied-mac' };
  if (matchesPrefix(mac, lists.denyPrefixes)) return { action: 'ignore', reason: 'denied-oui' };
  const listed = lists.allowMacs.has(mac) || matchesPrefix(mac, lists.allowPrefixes);
  if ((lists.allowMacs.size > 0 || lists.allowPrefixes.length > 0) && !listed) return { action: 'ignore', reason: 'not-allowed' };
  if (known || lists.allowMacs.has(mac)) return { action: 'answer', known: true };
  if (unknownPolicy === 'ignore') return { action: 'ignore', reason: 'unknown-client' };
  if (unknownPolicy === 'register') return { action: 'register' };
  return { action: 'answer', known: false };
}
