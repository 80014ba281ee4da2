// Where a reply goes (RFC 2131 §4.1, and the ProxyDHCP rules of FIELD-NOTES.md), and the final
// guard that no reply is ever sent to 0/8, 127/8, 224/4 or 240/4 as a unicast destination. Pure.
import { isForbiddenDestination } from '../util/ipv4.ts';

export interface ReplyRoute {
  to: { address: string; port: number };
  /** Send to 255.255.255.255 on the receiving interface. */
  broadcast: boolean;
}

export interface RouteInput {
  port: 67 | 4011;
  giaddr: string;
  ciaddr: string;
  source: { address: string; port: number };
  /** DHCPNAK: broadcast unless relayed (RFC 2131 §4.1). */
  nak?: boolean;
  /** DHCPINFORM: reply only to the packet's source, never to a ciaddr it names (D33). */
  inform?: boolean;
}

const ZERO = '0.0.0.0';
export const BROADCAST = '255.255.255.255';

/** The destination of a reply, or undefined when the only candidate is an address we never send to. */
export function routeReply(r: RouteInput): ReplyRoute | undefined {
  let route: ReplyRoute;
  if (r.port === 4011) {
    // Boot-server requests: answer the source address and port (4011 for EDK2, 68 for iPXE).
    route = { to: { address: r.source.address, port: r.source.port }, broadcast: false };
  } else if (r.giaddr !== ZERO) {
    route = { to: { address: r.giaddr, port: 67 }, broadcast: false };
  } else if (r.inform === true) {
    route = { to: { address: r.source.address, port: r.source.port }, broadcast: false };
  } else if (r.nak !== true && r.ciaddr !== ZERO) {
    route = { to: { address: r.ciaddr, port: 68 }, broadcast: false };
  } else {
    // No address yet: broadcast on the receiving interface (iPXE accepts it even with its flag at 0).
    return { to: { address: BROADCAST, port: 68 }, broadcast: true };
  }
  if (isForbiddenDestination(route.to.address) || route.to.port === 0) return undefined;
  return route;
}
