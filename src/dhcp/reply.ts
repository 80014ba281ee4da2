// The bytes of a full-mode answer: an OFFER or ACK carrying the lease, the subnet's options (over
// them the group's and host's from the plan) and the plan's boot file, or a NAK. It encodes what
// the server and the planner decided and decides nothing. Values every reply repeats (server id,
// lease times, message types) are encoded once.
import type { DhcpPacket } from '../protocol/dhcp/packet.ts';
import { newReply } from '../protocol/dhcp/packet.ts';
import { MSG, OPT, encodeIp, encodeString, encodeU32 } from '../protocol/dhcp/options.ts';
import type { DhcpPlan } from '../boot/dhcp-plan.ts';
import type { CompiledSubnet } from './compile.ts';
import { OptionEncoder } from './compile.ts';
import type { ClientFacts } from './facts.ts';

/** Option 53 values, shared by every reply (the encoder only reads them). */
const MESSAGE_TYPES: Record<number, Uint8Array> = Object.fromEntries([MSG.OFFER, MSG.ACK, MSG.NAK].map((t) => [t, Uint8Array.of(t)]));
/** Lease options sent right after the lease times, before the boot information. */
const FIRST_OPTIONS = [OPT.SUBNET_MASK, OPT.ROUTER, OPT.DNS_SERVERS, OPT.DOMAIN_NAME] as const;

/** The planner's answer for a client the server answers. */
export type AnsweredPlan = Extract<DhcpPlan, { answer: true }>;

export class ReplyEncoder {
  private readonly serverIdOptions = new Map<string, Uint8Array>();
  private readonly leaseTimeOptions = new Map<number, [Uint8Array, Uint8Array, Uint8Array]>();
  private readonly hostOptions: OptionEncoder;

  /** `badOption` hears of a host or group option from the inventory that cannot be encoded (it is left out). */
  constructor(badOption: (code: number, err: unknown) => void) {
    this.hostOptions = new OptionEncoder(badOption);
  }

  private serverIdOption(ip: string): Uint8Array {
    let v = this.serverIdOptions.get(ip);
    if (v === undefined) {
      v = encodeIp(ip);
      if (this.serverIdOptions.size < 256) this.serverIdOptions.set(ip, v); // one per local address
    }
    return v;
  }

  private leaseTimes(secs: number): [Uint8Array, Uint8Array, Uint8Array] {
    let v = this.leaseTimeOptions.get(secs);
    if (v === undefined) {
      v = [encodeU32(secs), encodeU32(Math.floor(secs / 2)), encodeU32(Math.floor((secs * 7) / 8))];
      this.leaseTimeOptions.set(secs, v); // one per configured lease time
    }
    return v;
  }

  nak(request: DhcpPacket, serverId: string, why: string): DhcpPacket {
    const r = newReply(request);
    r.options.set(OPT.MESSAGE_TYPE, MESSAGE_TYPES[MSG.NAK]!);
    r.options.set(OPT.SERVER_ID, this.serverIdOption(serverId));
    r.options.set(OPT.MESSAGE, encodeString(why));
    return r;
  }

  /** OFFER/ACK with the lease, the subnet/group/host options and the boot information. */
  lease(request: DhcpPacket, facts: ClientFacts, serverId: string, s: CompiledSubnet, a: AnsweredPlan, type: number, ip: string): DhcpPacket {
    const r = newReply(request);
    r.yiaddr = ip;
    const o = r.options;
    const [lease, renew, rebind] = this.leaseTimes(s.leaseSeconds);
    o.set(OPT.MESSAGE_TYPE, MESSAGE_TYPES[type] ?? Uint8Array.of(type));
    o.set(OPT.SERVER_ID, this.serverIdOption(serverId));
    o.set(OPT.LEASE_TIME, lease);
    o.set(OPT.RENEWAL_TIME, renew);
    o.set(OPT.REBINDING_TIME, rebind);
    // The subnet's options, overridden by the group's and then the host's (the plan's, in that order).
    let merged: ReadonlyMap<number, Uint8Array> = s.options;
    if (a.options.length > 0) {
      const m = new Map<number, Uint8Array>(s.options);
      for (const d of a.options) for (const [k, v] of this.hostOptions.encode(d)) m.set(k, v);
      merged = m;
    }
    for (const c of FIRST_OPTIONS) {
      const v = merged.get(c);
      if (v !== undefined) o.set(c, v);
    }
    const d = a.boot;
    if (d.action === 'boot' && d.file !== undefined) {
      r.siaddr = d.siaddr;
      r.file = d.file;
      if (d.vendorClass === 'HTTPClient') o.set(OPT.VENDOR_CLASS, encodeString('HTTPClient'));
      o.set(OPT.BOOTFILE_NAME, encodeString(d.file));
      if (facts.parameterList.includes(OPT.TFTP_SERVER_NAME)) {
        o.set(OPT.TFTP_SERVER_NAME, encodeString(d.siaddr));
        r.sname = d.siaddr;
      }
    }
    if (a.hostname !== undefined) o.set(OPT.HOST_NAME, encodeString(a.hostname));
    for (const [k, v] of merged) if (!o.has(k)) o.set(k, v);
    return r;
  }
}
