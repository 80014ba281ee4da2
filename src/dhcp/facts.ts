// What a DHCP request says about its client, read once from the decoded packet: identity (MAC,
// client id, UUID), boot facts (architecture, vendor and user class) and request fields. Malformed
// options are left out (D23–D26), client text is sanitised before it can reach logs, events or
// the lease store. Pure.
import type { DhcpPacket } from '../protocol/dhcp/packet.ts';
import {
  OPT,
  clientArch,
  clientId,
  clientUuid,
  hostName,
  ipOption,
  macString,
  maxMessageSize,
  requestedOptions,
  userClasses,
  vendorClass,
} from '../protocol/dhcp/options.ts';
import { hex } from '../protocol/dhcp/pxe.ts';

export interface ClientFacts {
  /** aa:bb:cc:dd:ee:ff (the first hlen octets of chaddr). */
  mac: string;
  /** `id:<hex>` when the client sent its own client id (option 61), `mac:<mac>` otherwise. */
  clientKey: string;
  /** Option 97, canonical lowercase, or undefined when absent, malformed or all-zero. */
  uuid: string | undefined;
  /** Option 93 entries, empty when absent or malformed. */
  arches: number[];
  /** Option 60 (undefined when absent or holding control octets). */
  vendorClass: string | undefined;
  /** Option 77 entries. */
  userClasses: string[];
  /** Option 12, sanitised to [A-Za-z0-9.-], ≤ 63. */
  hostname: string | undefined;
  requestedIp: string | undefined;
  serverId: string | undefined;
  /** Option 55. */
  parameterList: number[];
  /** The largest reply the client accepts (option 57, at least 576). */
  maxSize: number;
  giaddr: string;
  ciaddr: string;
}

/** Printable ASCII only, at most `max` characters: safe for logs, events and the UI. */
export function printable(s: string | undefined, max = 64): string | undefined {
  if (s === undefined) return undefined;
  return s.slice(0, max).replace(/[^\x20-\x7e]/g, '?');
}

/** The client key (RFC 2131 §4.2: client id if present, else chaddr). `01`+MAC is the MAC itself. */
export function clientKeyOf(p: DhcpPacket, mac: string): string {
  const raw = p.options.get(OPT.CLIENT_ID);
  const id = clientId(raw);
  if (id === undefined || raw === undefined) return `mac:${mac}`;
  if (raw.length === p.hlen + 1 && raw[0] === p.htype) {
    const same = hex(raw.subarray(1), ':') === mac;
    if (same) return `mac:${mac}`;
  }
  return `id:${id.slice(0, 256)}`;
}

export function readFacts(p: DhcpPacket): ClientFacts {
  const mac = macString(p);
  const o = p.options;
  return {
    mac,
    clientKey: clientKeyOf(p, mac),
    uuid: clientUuid(o.get(OPT.CLIENT_UUID)),
    arches: clientArch(o.get(OPT.CLIENT_ARCH)) ?? [],
    vendorClass: vendorClass(o.get(OPT.VENDOR_CLASS)),
    userClasses: (userClasses(o.get(OPT.USER_CLASS)) ?? []).slice(0, 8),
    hostname: hostName(o.get(OPT.HOST_NAME)),
    requestedIp: ipOption(o.get(OPT.REQUESTED_IP)),
    serverId: ipOption(o.get(OPT.SERVER_ID)),
    parameterList: requestedOptions(o.get(OPT.PARAMETER_REQUEST_LIST)) ?? [],
    maxSize: Math.min(maxMessageSize(o.get(OPT.MAX_MESSAGE_SIZE)) ?? 576, 1472),
    giaddr: p.giaddr,
    ciaddr: p.ciaddr,
  };
}
