// Reserved addresses follow the inventory: a host's `ip` is reserved for its MAC in the subnet that
// holds it. syncReservations() rewrites the lease spaces' reservation maps to match a list (add,
// move, remove) and touches no lease: a client bound elsewhere keeps that lease until it asks
// again (its next DISCOVER gets the reservation; a renewal of the old address is NAKed towards it).
import type { ReservedAddress } from '../boot/hosts.ts';
import { cidrContains, ipToU32 } from '../util/ipv4.ts';
import type { LeaseSpace } from './leases.ts';

export interface ReservationSync {
  added: number;
  moved: number;
  removed: number;
  /** Reservations in no subnet (ignored). */
  outside: ReservedAddress[];
  /** A second reservation of an address or MAC within one subnet (ignored; the first wins). */
  clashes: ReservedAddress[];
}

export function syncReservations(spaces: readonly LeaseSpace[], wanted: readonly ReservedAddress[]): ReservationSync {
  const out: ReservationSync = { added: 0, moved: 0, removed: 0, outside: [], clashes: [] };
  const next = spaces.map(() => ({ byMac: new Map<string, number>(), byIp: new Map<number, string>() }));
  for (const w of wanted) {
    const n = ipToU32(w.ip);
    const i = n === undefined ? -1 : spaces.findIndex((s) => cidrContains(s.cidr, n) && n !== s.cidr.network && n !== s.cidr.broadcast);
    if (n === undefined || i < 0) {
      out.outside.push(w);
      continue;
    }
    const t = next[i]!;
    if (t.byIp.has(n) || t.byMac.has(w.mac)) {
      out.clashes.push(w);
      continue;
    }
    t.byIp.set(n, w.mac);
    t.byMac.set(w.mac, n);
  }
  spaces.forEach((space, i) => {
    const t = next[i]!;
    for (const [mac, ip] of [...space.reservationByMac]) {
      const to = t.byMac.get(mac);
      if (to === undefined) {
        space.reservationByMac.delete(mac);
        out.removed++;
      } else if (to !== ip) out.moved++;
    }
    for (const [ip, mac] of [...space.reserved]) if (t.byIp.get(ip) !== mac) space.reserved.delete(ip);
    for (const [mac, ip] of t.byMac) {
      if (!space.reservationByMac.has(mac)) out.added++;
      space.reservationByMac.set(mac, ip);
      space.reserved.set(ip, mac);
    }
  });
  return out;
}
