// DHCP's part of access control: compiling the config's allow and deny lists (the planner decides
// with them, src/boot/access.ts) and the relay (giaddr) allow-list, which only DHCP can check. Pure.
import type { Cidr } from '../util/ipv4.ts';
import { cidrContains, ipToU32, parseCidr } from '../util/ipv4.ts';
import { normalizeMacPrefix, parseMac } from '../util/mac.ts';
import type { DhcpConfig } from '../config/dhcp.ts';
import type { AccessLists } from '../boot/access.ts';

/** The boot planner's access lists plus what only DHCP checks: the relay (giaddr) allow-list. */
export interface DhcpAccessLists extends AccessLists {
  /** undefined: no explicit list; a relay is accepted if its giaddr lies in a configured subnet. */
  relays: readonly Cidr[] | undefined;
}

export function compileAccess(access: DhcpConfig['access'] | undefined): DhcpAccessLists {
  const macs = (xs: string[] | undefined): Set<string> => new Set((xs ?? []).map((m) => parseMac(m)).filter((m): m is string => m !== undefined));
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

/**
 * Whether a relayed request may be answered: giaddr on the explicit allow-list, or, without a list,
 * inside one of the served subnets.
 */
export function relayAllowed(lists: DhcpAccessLists, giaddr: string, subnets: readonly Cidr[]): boolean {
  const n = ipToU32(giaddr);
  if (n === undefined) return false;
  const set = lists.relays ?? subnets;
  for (const c of set) if (cidrContains(c, n)) return true;
  return false;
}
