// Host rules: canonical MACs and UUIDs, and the life cycle of a host record (which state changes an
// operator may make). Pure: no I/O.
import { HOST_STATES } from './types.ts';
import type { HostState } from './types.ts';
import { InventoryError } from './errors.ts';
import { parseMac } from '../util/mac.ts';

/**
 * A MAC in canonical form: lower case, colon-separated octets (`aa:bb:cc:dd:ee:ff`). Accepts
 * colons, dashes, Cisco dots (`aabb.ccdd.eeff`) or bare hex; 6 octets (Ethernet) or 20 (InfiniBand).
 * Throws BH_INV_BAD_MAC otherwise.
 */
export function canonicalMac(input: string): string {
  const mac = parseMac(input);
  if (mac === undefined) {
    throw new InventoryError('BH_INV_BAD_MAC', `${JSON.stringify(String(input).slice(0, 60))} is not a MAC address`, 'write six hex octets, e.g. 52:54:00:12:34:56 (dashes, dots or no separators are accepted too)');
  }
  return mac;
}

/** True when the MAC is valid (canonicalMac would not throw). */
export function isMac(input: string): boolean {
  try {
    canonicalMac(input);
    return true;
  } catch {
    return false;
  }
}

/**
 * A UUID in canonical form: lower case 8-4-4-4-12. Accepts upper case, braces, a `urn:uuid:`
 * prefix and the 32 hex digits without dashes. Throws BH_INV_BAD_UUID otherwise.
 */
export function canonicalUuid(input: string): string {
  const s = (typeof input === 'string' ? input.trim() : '').replace(/^urn:uuid:/i, '').replace(/^\{(.*)\}$/, '$1');
  const hex = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s) ? s.replace(/-/g, '') : /^[0-9a-f]{32}$/i.test(s) ? s : undefined;
  if (hex === undefined) {
    throw new InventoryError('BH_INV_BAD_UUID', `${JSON.stringify(String(input).slice(0, 60))} is not a UUID`, 'write the SMBIOS UUID as 8-4-4-4-12 hex digits, e.g. 4c4c4544-0042-3510-8051-c7c04f4a4d32 (dmidecode -s system-uuid)');
  }
  const h = hex.toLowerCase();
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export function isUuid(input: string): boolean {
  try {
    canonicalUuid(input);
    return true;
  } catch {
    return false;
  }
}

export function checkState(input: string): HostState {
  if (!(HOST_STATES as readonly string[]).includes(input)) {
    throw new InventoryError('BH_INV_BAD_STATE', `${JSON.stringify(String(input).slice(0, 40))} is not a host state`, `use one of: ${HOST_STATES.join(', ')}`);
  }
  return input as HostState;
}

/**
 * Which state changes an operator may make. `new` is only ever given by the network (a host seen
 * for the first time) or by "forget the decision" from disabled; `pending` is the register-and-wait
 * queue. Setting the state a host already has is always allowed (a no-op).
 */
export const TRANSITIONS: Readonly<Record<HostState, readonly HostState[]>> = {
  new: ['pending', 'active', 'local', 'disabled'],
  pending: ['active', 'local', 'disabled'],
  active: ['local', 'disabled', 'pending'],
  local: ['active', 'disabled'],
  disabled: ['new', 'pending', 'active', 'local'],
};

export function canTransition(from: HostState, to: HostState): boolean {
  return from === to || TRANSITIONS[from].includes(to);
}

/** Throws BH_INV_TRANSITION naming the allowed next states when from → to is not allowed. */
export function checkTransition(host: string, from: HostState, to: HostState): void {
  if (canTransition(from, to)) return;
  throw new InventoryError('BH_INV_TRANSITION', `host ${host} cannot go from ${from} to ${to}`, `from ${from} a host may go to: ${TRANSITIONS[from].join(', ')}`);
}

/** approve: a host waiting for a decision (pending, or new) becomes active and boots its profile. */
export function approvedState(host: string, from: HostState): HostState {
  if (from === 'pending' || from === 'new') return 'active';
  if (from === 'active') return 'active';
  throw new InventoryError('BH_INV_TRANSITION', `host ${host} is ${from}, not waiting for approval`, `only pending (or new) hosts are approved; to boot it anyway: bootherd hosts set ${host} --state active`);
}

/** Reads a stored state; anything unknown (a newer bootherd wrote it) reads as disabled, the safe choice. */
export function storedState(s: string): HostState {
  return (HOST_STATES as readonly string[]).includes(s) ? (s as HostState) : 'disabled';
}
