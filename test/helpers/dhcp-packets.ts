// Building and reading client-side DHCP packets in tests, with the project's codec.
import { decodeDhcp, encodeDhcp } from '../../src/protocol/dhcp/packet.ts';
import type { DhcpPacket } from '../../src/protocol/dhcp/packet.ts';
import { MSG, OPT, encodeIp, ipOption, messageType } from '../../src/protocol/dhcp/options.ts';

export { MSG, OPT };

/** A locally administered MAC derived from a number: 02:bh:xx:xx:xx:xx. */
export function macFor(n: number, prefix = 0x42): string {
  const b = [0x02, prefix & 0xff, (n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
  return b.map((x) => x.toString(16).padStart(2, '0')).join(':');
}

export function macBytes(mac: string): Uint8Array {
  return Uint8Array.from(mac.split(':').map((h) => Number.parseInt(h, 16)));
}

export interface ClientPacketSpec {
  type: number;
  mac: string;
  xid: number;
  giaddr?: string;
  ciaddr?: string;
  broadcast?: boolean;
  /** Extra options (code → value); 53 is set from `type`. */
  options?: [number, Uint8Array][];
}

export function clientPacket(spec: ClientPacketSpec): DhcpPacket {
  const chaddr = new Uint8Array(16);
  chaddr.set(macBytes(spec.mac));
  const options = new Map<number, Uint8Array>([[OPT.MESSAGE_TYPE, Uint8Array.of(spec.type)]]);
  for (const [c, v] of spec.options ?? []) options.set(c, v);
  const giaddr = spec.giaddr ?? '0.0.0.0';
  return {
    op: 1,
    htype: 1,
    hlen: 6,
    hops: giaddr === '0.0.0.0' ? 0 : 1,
    xid: spec.xid >>> 0,
    secs: 0,
    flags: spec.broadcast === true ? 0x8000 : 0,
    ciaddr: spec.ciaddr ?? '0.0.0.0',
    yiaddr: '0.0.0.0',
    siaddr: '0.0.0.0',
    giaddr,
    chaddr,
    sname: '',
    file: '',
    options,
    duplicateOptions: [],
  };
}

export function encodeClient(spec: ClientPacketSpec): Buffer {
  return encodeDhcp(clientPacket(spec));
}

export interface ReadReply {
  packet: DhcpPacket;
  type: number | undefined;
  serverId: string | undefined;
  mac: string;
}

/** Decodes a server reply; undefined for anything that is not a well-formed BOOTREPLY. */
export function readReply(buf: Uint8Array): ReadReply | undefined {
  const r = decodeDhcp(buf);
  if (!r.ok || r.packet.op !== 2) return undefined;
  const sid = r.packet.options.get(OPT.SERVER_ID);
  const mac = [...r.packet.chaddr.subarray(0, 6)].map((x) => x.toString(16).padStart(2, '0')).join(':');
  return { packet: r.packet, type: messageType(r.packet), serverId: sid === undefined ? undefined : ipOption(sid), mac };
}

export const ip = encodeIp;
