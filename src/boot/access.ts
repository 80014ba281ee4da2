// Who is answered at all: deny and allow lists by MAC and MAC prefix (OUI), then the policy for
// clients that neither the inventory nor the config knows. Pure; part of the planner's decision.

export interface AccessLists {
  allowMacs: ReadonlySet<string>;
  /** Normalised prefixes (aa:bb:cc). */
  allowPrefixes: readonly string[];
  denyMacs: ReadonlySet<string>;
  denyPrefixes: readonly string[];
}

export type UnknownClientsPolicy = 'answer' | 'ignore' | 'register';

export type AccessDecision =
  | { action: 'answer'; known: boolean }
  | { action: 'register' }
  | { action: 'ignore'; reason: 'denied-mac' | 'denied-oui' | 'not-allowed' | 'unknown-client' };

export const NO_ACCESS_LISTS: AccessLists = { allowMacs: new Set(), allowPrefixes: [], denyMacs: new Set(), denyPrefixes: [] };

function matchesPrefix(mac: string, prefixes: readonly string[]): boolean {
  for (const p of prefixes) if (mac.startsWith(p)) return true;
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
