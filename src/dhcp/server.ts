// The DHCP server: everything between a received datagram and the reply bytes. It validates the
// request (SECURITY.md §2.2–2.3), applies access control, runs the lease state machine in full
// mode or the ProxyDHCP exchange in proxy mode, asks src/boot which file or URL the client gets,
// and returns the replies with their destinations. Sockets live in src/net and service.ts.
import type { Logger } from '../log/logger.ts';
import { RateLimitedLog } from '../log/logger.ts';
import type { EventBus } from '../events/bus.ts';
import type { DhcpPacket } from '../protocol/dhcp/packet.ts';
import { decodeDhcp, encodeDhcp } from '../protocol/dhcp/packet.ts';
import { MSG, OPT, messageType, relayAgentInfo } from '../protocol/dhcp/options.ts';
import type { BootDecision } from '../boot/bootfile.ts';
import type { BootPlanner, DhcpPlan, DhcpPlanRequest, DhcpPlanSettings } from '../boot/dhcp-plan.ts';
import type { ReservedAddress } from '../boot/hosts.ts';
import type { BootConfig } from '../config/boot.ts';
import type { DhcpConfig, DhcpMode } from '../config/dhcp.ts';
import type { CompiledDhcpConfig, CompiledSubnet } from './compile.ts';
import { compileDhcpConfig } from './compile.ts';
import { configHostsPlanner } from '../boot/config-hosts.ts';
import { syncReservations } from './reservations.ts';
import type { Lease, LeaseRepository } from '../store/index.ts';
import { LeaseTable } from './leases.ts';
import type { ClientIdent } from './leases.ts';
import type { ClientFacts } from './facts.ts';
import { printable, readFacts } from './facts.ts';
import { cidrContains, ipToU32, isForbiddenDestination, u32ToIp } from '../util/ipv4.ts';
import { relayAllowed } from './policy.ts';
import { routeReply } from './routing.ts';
import { buildBootServerAck, buildProxyOffer } from './proxy.ts';
import { ReplyEncoder } from './reply.ts';
import type { AnsweredPlan } from './reply.ts';

export interface DhcpRequestMeta {
  interface: string;
  /** The receiving interface's IPv4 address. */
  localAddress: string;
  port: 67 | 4011;
  source: { address: string; port: number };
}

export interface DhcpReply {
  data: Buffer;
  to: { address: string; port: number };
  /** Send to 255.255.255.255 on meta.interface. */
  broadcast: boolean;
}

export interface DhcpServerOptions {
  config: DhcpConfig;
  leases: LeaseRepository;
  logger: Logger;
  events: EventBus;
  now?: () => number;
  /** `http.port`: used for the default HTTP base URL (http://<receiving address>:<port>). Default 8080 (the config default). */
  httpPort?: number;
  /** Decides, for every client, whether it is answered and what it boots: the engine over the inventory (default, without one: the config's deprecated reservations and groups as records). */
  planner?: BootPlanner;
  /** The `boot` config section: loader chains and the unknown-host policy (default of `dhcp.unknown_clients`). */
  boot?: Partial<Pick<BootConfig, 'bios_loader' | 'uefi_loader' | 'unknown_hosts'>>;
}

const ZERO = '0.0.0.0';
/** An ACK whose lease took this long to become durable is counted (`acked.slow`) and logged (BH_DHCP_SLOW_ACK). */
const SLOW_ACK_MS = 1000;

function allZero(b: Uint8Array, n: number): boolean {
  for (let i = 0; i < n && i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}
/** `dhcp.unknown_clients` when unset: derived from `boot.unknown_hosts` (src/config/boot.ts says how). */
function unknownClientsDefault(policy: BootConfig['unknown_hosts']): 'answer' | 'ignore' | 'register' {
  return policy === 'ignore' || policy === 'register' ? policy : 'answer';
}
const HANDLED = new Set<number>([MSG.DISCOVER, MSG.REQUEST, MSG.DECLINE, MSG.RELEASE, MSG.INFORM]);

const DECODE_REASONS: Record<string, string> = {
  BH_DHCP_TRUNCATED: 'truncated',
  BH_DHCP_NO_COOKIE: 'no_cookie',
  BH_DHCP_BAD_COOKIE: 'bad_cookie',
  BH_DHCP_BAD_HLEN: 'bad_hlen',
  BH_DHCP_BAD_OPTION: 'bad_option',
};

interface Exchange {
  p: DhcpPacket;
  meta: DhcpRequestMeta;
  facts: ClientFacts;
  type: number;
  ident: ClientIdent;
  subnet: CompiledSubnet | undefined;
  mode: DhcpMode;
  serverId: string;
  stage: 'dhcp' | 'proxydhcp';
}

/** The planner's answer for an admitted client. */
type Admitted = AnsweredPlan;

/** Drop: the packet itself is unacceptable. Ignore: a valid request we choose not to answer. */
type Outcome = { replies: DhcpReply[] };
const repliesOf = (o: Outcome): DhcpReply[] => o.replies;

export class DhcpServer {
  private readonly cfg: CompiledDhcpConfig;
  private readonly table: LeaseTable;
  private readonly log: Logger;
  private readonly rl: RateLimitedLog;
  private readonly events: EventBus;
  private readonly now: () => number;
  private readonly httpPort: number;
  private readonly planner: BootPlanner;
  /** Answers while the planner fails: the config's own reservations and groups. */
  private readonly fallback: BootPlanner;
  private readonly planSettings: DhcpPlanSettings;
  /** The DHCP options of inventory hosts and groups; one that cannot be encoded is logged (rate-limited) and not sent. */
  private readonly replies: ReplyEncoder;
  private readonly stats = new Map<string, number>();
  private rateWindow = 0;
  private readonly perMac = new Map<string, number>();
  private readonly subnetCidrs: CompiledSubnet['cidr'][];

  constructor(opts: DhcpServerOptions) {
    this.cfg = compileDhcpConfig(opts.config, unknownClientsDefault(opts.boot?.unknown_hosts ?? 'menu'));
    this.planSettings = {
      access: this.cfg.access,
      bootfiles: this.cfg.bootfiles,
      ipxeScript: this.cfg.ipxeScript,
      registrationScript: this.cfg.registrationScript,
      chains: { bios: opts.boot?.bios_loader ?? 'ipxe', uefi: opts.boot?.uefi_loader ?? 'ipxe' },
    };
    this.log = opts.logger;
    this.now = opts.now ?? Date.now;
    this.rl = new RateLimitedLog(opts.logger, 5, 10_000, this.now);
    this.events = opts.events;
    this.httpPort = opts.httpPort ?? 8080;
    this.fallback = configHostsPlanner(opts.config);
    this.planner = opts.planner ?? this.fallback;
    this.table = new LeaseTable({
      store: opts.leases,
      now: this.now,
      offerHoldMs: this.cfg.offerHoldMs,
      declineQuarantineMs: this.cfg.declineQuarantineMs,
      spaces: this.cfg.subnets.map((s) => s.space),
    });
    for (const k of ['received', 'offered', 'acked', 'nak', 'informed', 'released', 'declined']) this.stats.set(k, 0);
    this.subnetCidrs = this.cfg.subnets.map((s) => s.cidr);
    this.replies = new ReplyEncoder((code, err) => this.rl.warn(`option:${code}`, { code: 'BH_DHCP_HOST_OPTION', option: code, err: String(err) }, `DHCP option ${code} of a host or group in the inventory cannot be encoded and is not sent; fix it with bootherd apply or hosts/groups set`));
  }

  /** Constructs the server and loads the lease table from the store. */
  static async create(opts: DhcpServerOptions): Promise<DhcpServer> {
    const s = new DhcpServer(opts);
    await s.load();
    return s;
  }

  /** Loads every lease from the store into memory; call once before serving. */
  async load(): Promise<void> {
    const r = await this.table.load();
    if (r.skipped > 0) this.log.warn({ code: 'BH_DHCP_LEASE_SKIPPED', skipped: r.skipped }, 'lease rows the server cannot use were skipped; check the lease store for corrupt rows');
    this.log.info({ leases: r.loaded }, 'dhcp lease table loaded');
  }

  /** Marks ended leases as expired (memory and store). Call periodically (e.g. every minute). */
  async reclaimExpired(): Promise<number> {
    try {
      return await this.table.reclaimExpired();
    } catch (err) {
      this.log.error({ code: 'BH_DHCP_RECLAIM', err }, 'reclaiming expired leases failed; the lease store may be unavailable');
      return 0;
    }
  }

  /** A snapshot of the in-memory lease table. */
  leases(): Lease[] {
    return [...this.table.all()].map((l) => ({ ...l }));
  }

  counters(): Record<string, number> {
    return Object.fromEntries(this.stats);
  }

  /**
   * Makes the reserved addresses those of the inventory (`hosts[].ip`): added, moved and removed in
   * the lease spaces, leases left as they are. A reservation outside every subnet is logged and ignored.
   */
  syncReservations(wanted: readonly ReservedAddress[]): void {
    const r = syncReservations(this.cfg.subnets.map((s) => s.space), wanted);
    for (const w of r.outside) this.rl.warn(`resv-outside:${w.ip}`, { code: 'BH_DHCP_RESERVATION_OUTSIDE', ip: w.ip, mac: w.mac, host: w.host }, `the address ${w.ip} of host ${w.host} lies in no configured subnet (or is its network or broadcast address); it is not reserved: change the host's ip or add the subnet`);
    for (const w of r.clashes) this.rl.warn(`resv-clash:${w.ip}`, { code: 'BH_DHCP_RESERVATION_OUTSIDE', ip: w.ip, mac: w.mac, host: w.host }, `the address ${w.ip} or MAC ${w.mac} of host ${w.host} is reserved twice in one subnet; only the first counts`);
    if (r.added + r.moved + r.removed > 0) this.log.info({ added: r.added, moved: r.moved, removed: r.removed }, 'dhcp reservations follow the inventory');
  }

  /** Handles one datagram. Never throws and never rejects: failures are counted and logged. */
  handle(buf: Uint8Array, meta: DhcpRequestMeta): Promise<DhcpReply[]> {
    // Most requests (DISCOVER, drops) finish synchronously; only a lease write makes one wait.
    try {
      const out = this.process(buf, meta);
      if (out instanceof Promise) return out.then(repliesOf, (err: unknown) => this.failed(err));
      return Promise.resolve(out.replies);
    } catch (err) {
      return Promise.resolve(this.failed(err));
    }
  }

  private failed(err: unknown): DhcpReply[] {
    this.count('dropped.internal_error');
    try {
      this.rl.warn('internal', { code: 'BH_DHCP_INTERNAL', err }, 'dhcp request failed inside the server; this is a bug, please report it with the packet');
    } catch {
      // logging must never turn a drop into a throw
    }
    return [];
  }

  private count(key: string): void {
    this.stats.set(key, (this.stats.get(key) ?? 0) + 1);
  }

  private drop(reason: string, meta: DhcpRequestMeta, extra: Record<string, unknown> = {}): Outcome {
    this.count(`dropped.${reason}`);
    this.rl.warn(`drop:${reason}`, { code: 'BH_DHCP_DROPPED', reason, interface: meta.interface, port: meta.port, source: `${meta.source.address}:${meta.source.port}`, ...extra }, `dhcp packet dropped: ${reason}`);
    return { replies: [] };
  }

  private ignore(x: Exchange, reason: string, extra: Record<string, unknown> = {}, quiet = false): Outcome {
    this.count(`ignored.${reason}`);
    const detail = { reason, mode: x.mode, interface: x.meta.interface, subnet: x.subnet?.key, xid: x.p.xid, ...this.describe(x), ...extra };
    if (quiet) this.log.debug({ mac: x.facts.mac, ...detail }, `dhcp client ignored: ${reason}`);
    else this.rl.warn(`ignore:${reason}`, { code: 'BH_DHCP_IGNORED', mac: x.facts.mac, ...detail }, `dhcp client ignored: ${reason}`);
    this.events.emit({ host: x.facts.mac, stage: x.stage, kind: 'ignored', detail });
    return { replies: [] };
  }

  private describe(x: Exchange): Record<string, unknown> {
    const f = x.facts;
    const d: Record<string, unknown> = {};
    if (f.vendorClass !== undefined) d.vendorClass = printable(f.vendorClass);
    if (f.userClasses.length > 0) d.userClass = f.userClasses.map((u) => printable(u, 32));
    if (f.arches.length > 0) d.arch = f.arches[0];
    if (f.uuid !== undefined) d.uuid = f.uuid;
    if (f.hostname !== undefined) d.hostname = f.hostname;
    if (f.giaddr !== ZERO) d.relay = f.giaddr;
    return d;
  }

  private rateLimited(mac: string): boolean {
    const sec = Math.floor(this.now() / 1000);
    if (sec !== this.rateWindow) {
      this.rateWindow = sec;
      this.perMac.clear();
    }
    const n = (this.perMac.get(mac) ?? 0) + 1;
    if (this.perMac.size < 100_000 || this.perMac.has(mac)) this.perMac.set(mac, n);
    return n > this.cfg.maxRequestsPerClient;
  }

  private process(buf: Uint8Array, meta: DhcpRequestMeta): Outcome | Promise<Outcome> {
    this.count('received');
    const decoded = decodeDhcp(buf);
    if (!decoded.ok) return this.drop(DECODE_REASONS[decoded.error.code] ?? 'malformed', meta, { error: decoded.error.code });
    const p = decoded.packet;
    // Validate completely before acting (SECURITY.md §2.1).
    if (p.op !== 1) return this.drop('not_a_request', meta); // D06
    if (p.hops > 16) return this.drop('too_many_hops', meta); // D29
    if (p.duplicateOptions.includes(OPT.MESSAGE_TYPE)) return this.drop('duplicate_message_type', meta); // D13
    const type = messageType(p);
    if (type === undefined) return this.drop('bad_message_type', meta); // D11, D12, no option 53
    if (!HANDLED.has(type)) return this.drop('unexpected_message_type', meta, { type });
    if (p.hlen === 0 || allZero(p.chaddr, p.hlen)) return this.drop('no_chaddr', meta); // D34
    if (p.giaddr !== ZERO) {
      if (isForbiddenDestination(p.giaddr)) return this.drop('bad_giaddr', meta, { giaddr: p.giaddr }); // D28
      if (!relayAllowed(this.cfg.access, p.giaddr, this.subnetCidrs)) return this.drop('relay_not_allowed', meta, { giaddr: p.giaddr }); // D27
    }
    const facts = readFacts(p);
    if (this.rateLimited(facts.mac)) return this.drop('rate_limited', meta, { mac: facts.mac });

    const subnet = this.selectSubnet(p.giaddr, meta);
    const mode = meta.port === 4011 ? 'proxy' : (subnet?.mode ?? this.cfg.interfaceModes.get(meta.interface) ?? this.cfg.mode);
    const x: Exchange = {
      p,
      meta,
      facts,
      type,
      ident: { clientKey: facts.clientKey, mac: facts.mac },
      subnet,
      mode,
      serverId: meta.localAddress,
      stage: mode === 'full' ? 'dhcp' : 'proxydhcp',
    };
    if (meta.port === 4011) return this.bootServer(x);
    if (mode === 'proxy') return this.proxy67(x);
    return this.full(x);
  }

  /** Relayed: the subnet containing giaddr. Direct: the subnet bound to the interface, else the one holding its address. */
  private selectSubnet(giaddr: string, meta: DhcpRequestMeta): CompiledSubnet | undefined {
    if (giaddr !== ZERO) {
      const g = ipToU32(giaddr)!;
      return this.cfg.subnets.find((s) => cidrContains(s.cidr, g));
    }
    const byName = this.cfg.subnets.find((s) => s.interface === meta.interface);
    if (byName !== undefined) return byName;
    const local = ipToU32(meta.localAddress);
    if (local === undefined) return undefined;
    return this.cfg.subnets.find((s) => s.interface === undefined && cidrContains(s.cidr, local));
  }

  /**
   * Asks the planner whether this client is answered and what it boots; undefined when it is not
   * answered (already counted, logged and emitted as an ignored event).
   */
  private admit(x: Exchange): Admitted | undefined {
    const f = x.facts;
    const req: DhcpPlanRequest = {
      mac: f.mac,
      uuid: f.uuid,
      arches: f.arches,
      vendorClass: f.vendorClass,
      userClasses: f.userClasses,
      ip: f.ciaddr !== ZERO ? f.ciaddr : undefined,
      tftpServer: this.cfg.tftpServer ?? x.meta.localAddress,
      httpBase: this.cfg.httpBase ?? `http://${x.meta.localAddress}:${this.httpPort}`,
      unknownClients: x.subnet?.unknownClients ?? this.cfg.unknownClients,
    };
    let plan: DhcpPlan;
    try {
      plan = this.planner.planDhcp(req, this.planSettings);
    } catch (err) {
      // The planner failed (a bug, or the inventory snapshot): answer from the config alone.
      this.rl.warn('lookup', { code: 'BH_DHCP_LOOKUP', err }, 'host lookup failed; answering the client as unknown');
      plan = this.fallback.planDhcp({ ...req, ip: undefined }, this.planSettings);
    }
    if (!plan.answer) {
      this.ignore(x, plan.reason);
      return undefined;
    }
    return plan;
  }

  private send(x: Exchange, reply: DhcpPacket, opts: { nak?: boolean; inform?: boolean } = {}): DhcpReply[] {
    const route = routeReply({ port: x.meta.port, giaddr: x.p.giaddr, ciaddr: x.p.ciaddr, source: x.meta.source, ...opts });
    if (route === undefined) {
      this.drop('forbidden_destination', x.meta, { mac: x.facts.mac });
      return [];
    }
    if (route.broadcast && x.p.giaddr === ZERO) reply.flags |= 0x8000;
    // RFC 3046 §2.2: a relayed request's agent information goes back to the relay unchanged.
    const rai = x.p.giaddr !== ZERO ? x.p.options.get(OPT.RELAY_AGENT_INFO) : undefined;
    if (rai !== undefined && relayAgentInfo(rai) !== undefined) reply.options.set(OPT.RELAY_AGENT_INFO, rai);
    return [{ data: encodeDhcp(reply, { maxSize: x.facts.maxSize }), to: route.to, broadcast: route.broadcast }];
  }

  /**
   * A boot event for this exchange. The detail is what an operator reads in the timeline (the
   * address, the file, why; docs/troubleshooting.md), built once per event: two of these per DORA
   * are logged and stored, so every field costs on the hot path. The client's own description
   * (vendor class, arch, uuid, ...) goes into `ignored` events, where it explains the decision.
   */
  private emit(x: Exchange, kind: string, detail: Record<string, unknown>): void {
    if (x.p.giaddr !== ZERO) detail.relay = x.p.giaddr;
    this.events.emit({ host: x.facts.mac, stage: x.stage, kind, detail });
  }

  /** The boot part of an event's detail: the file (absent when none), why it, and registration. */
  private withBoot(detail: Record<string, unknown>, d: BootDecision, registration: boolean): Record<string, unknown> {
    if (d.file !== undefined) detail.bootfile = d.file;
    detail.bootWhy = d.why;
    if (registration) detail.registration = true;
    return detail;
  }

  // ---------------------------------------------------------------- ProxyDHCP

  private proxy67(x: Exchange): Outcome {
    const pxe = x.facts.vendorClass?.startsWith('PXEClient') === true || x.facts.vendorClass?.startsWith('HTTPClient') === true;
    if (!pxe) return this.ignore(x, 'not_pxe_client', {}, true); // TM-02: proxy mode answers PXE clients only
    if (x.type === MSG.DISCOVER) {
      const a = this.admit(x);
      if (a === undefined) return { replies: [] };
      const d = a.boot;
      const offer = buildProxyOffer(x.p, d, x.serverId);
      if (offer === undefined) return this.ignore(x, 'no_boot_file', { why: d.why });
      const replies = this.send(x, offer);
      if (replies.length > 0) {
        this.count('offered');
        this.emit(x, 'proxy-offer', this.withBoot({}, d, a.registration));
      }
      return { replies };
    }
    if (x.type === MSG.REQUEST && x.facts.serverId === x.serverId) return this.bootServer(x);
    return this.ignore(x, x.type === MSG.REQUEST ? 'other_server' : 'proxy_mode', {}, true);
  }

  /** Port 4011 (or a REQUEST for our proxy offer): the boot-server ACK. */
  private bootServer(x: Exchange): Outcome {
    if (x.meta.port === 4011) {
      if (x.type !== MSG.REQUEST && x.type !== MSG.INFORM) return this.drop('unexpected_message_type', x.meta, { type: x.type });
      if (x.facts.vendorClass?.startsWith('PXEClient') !== true) return this.drop('not_pxe_client', x.meta, { mac: x.facts.mac }); // P02
      const src = ipToU32(x.meta.source.address);
      if (src === undefined || isForbiddenDestination(x.meta.source.address)) return this.drop('bad_source', x.meta);
      // The PXE subnets of this interface, if the config names any (a proxy interface beside
      // another DHCP server may have none: then only the address hygiene above applies).
      const local = ipToU32(x.meta.localAddress);
      const mine = this.cfg.subnets.filter((s) => s.interface === x.meta.interface || (s.interface === undefined && local !== undefined && cidrContains(s.cidr, local)));
      if (mine.length > 0 && !mine.some((s) => cidrContains(s.cidr, src))) return this.drop('source_outside_subnets', x.meta);
    }
    const a = this.admit(x);
    if (a === undefined) return { replies: [] };
    const d = a.boot;
    const ack = buildBootServerAck(x.p, d, x.serverId);
    if (ack === undefined) return this.ignore(x, 'no_boot_file', { why: d.why });
    const replies = this.send(x, ack);
    if (replies.length > 0) {
      this.count('acked');
      this.emit(x, 'proxy-ack', this.withBoot({}, d, a.registration));
    }
    return { replies };
  }

  // ---------------------------------------------------------------- full DHCP

  private full(x: Exchange): Outcome | Promise<Outcome> {
    if (x.subnet === undefined) return this.ignore(x, 'no_subnet', { localAddress: x.meta.localAddress });
    switch (x.type) {
      case MSG.DISCOVER:
        return this.discover(x, x.subnet);
      case MSG.REQUEST:
        return this.request(x, x.subnet);
      case MSG.DECLINE:
        return this.decline(x, x.subnet);
      case MSG.RELEASE:
        return this.release(x, x.subnet);
      default:
        return this.inform(x, x.subnet);
    }
  }

  private discover(x: Exchange, s: CompiledSubnet): Outcome {
    const a = this.admit(x);
    if (a === undefined) return { replies: [] };
    const alloc = this.table.allocate(s.key, x.ident, x.facts.requestedIp);
    if (!alloc.ok) {
      this.count(`ignored.${alloc.reason.replace(/-/g, '_')}`);
      this.rl.warn(`alloc:${s.key}:${alloc.reason}`, { code: alloc.reason === 'pool-exhausted' ? 'BH_DHCP_POOL_EXHAUSTED' : 'BH_DHCP_RESERVATION_CONFLICT', subnet: s.key, mac: x.facts.mac }, alloc.reason === 'pool-exhausted' ? `no free address in ${s.key}: enlarge the pools, shorten lease_time or offer_hold, or find who is flooding` : `the reserved address of ${x.facts.mac} is held by another client; release that lease or change the reservation`);
      this.emit(x, 'ignored', { reason: alloc.reason.replace(/-/g, '_'), subnet: s.key, xid: x.p.xid, ...this.describe(x) });
      return { replies: [] };
    }
    const hostname = this.hostname(x, a);
    this.table.hold(s.key, x.ident, alloc.ip, hostname, x.serverId);
    const d = a.boot;
    const reply = this.replies.lease(x.p, x.facts, x.serverId, s, a, MSG.OFFER, alloc.ip);
    const replies = this.send(x, reply);
    if (replies.length > 0) {
      this.count('offered');
      this.emit(x, 'offer', this.withBoot({ ip: alloc.ip, why: `address: ${alloc.reason}` }, d, a.registration));
    }
    return { replies };
  }

  private hostname(x: Exchange, a: Admitted): string | null {
    return a.hostname ?? x.facts.hostname ?? null;
  }

  private nak(x: Exchange, s: CompiledSubnet, why: string): Outcome {
    const replies = this.send(x, this.replies.nak(x.p, x.serverId, why), { nak: true });
    if (replies.length > 0) {
      this.count('nak');
      this.emit(x, 'nak', { why, subnet: s.key, requested: x.facts.requestedIp ?? x.p.ciaddr });
    }
    return { replies };
  }

  private async request(x: Exchange, s: CompiledSubnet): Promise<Outcome> {
    const f = x.facts;
    let ip: string | undefined;
    let state: 'selecting' | 'init-reboot' | 'renewing';
    if (f.serverId !== undefined) {
      if (f.serverId !== x.serverId) {
        // D31: the client chose another server; free our offer to it at once.
        this.table.abandonOffer(s.key, x.ident);
        return this.ignore(x, 'other_server', { serverId: f.serverId }, true);
      }
      state = 'selecting';
      ip = f.requestedIp ?? (x.p.ciaddr !== ZERO ? x.p.ciaddr : undefined);
    } else if (f.requestedIp !== undefined && x.p.ciaddr === ZERO) {
      state = 'init-reboot';
      ip = f.requestedIp;
    } else if (x.p.ciaddr !== ZERO) {
      state = 'renewing';
      ip = x.p.ciaddr;
    } else {
      return this.drop('no_requested_address', x.meta, { mac: f.mac });
    }
    if (ip === undefined) return this.drop('no_requested_address', x.meta, { mac: f.mac });

    const a = this.admit(x);
    if (a === undefined) return { replies: [] };

    const n = ipToU32(ip);
    if (n === undefined || !cidrContains(s.cidr, n)) return this.nak(x, s, `${ip} is not on network ${s.key}`);
    const reserved = s.space.reservationByMac.get(f.mac);
    if (reserved !== undefined && reserved !== n) return this.nak(x, s, `${f.mac} has the reserved address ${u32ToIp(reserved)}`);
    const usable = (reserved === n || this.table.inPool(s.space, n)) && this.table.availableTo(s.space, n, x.ident);
    if (!usable) {
      const lease = this.table.leaseAt(ip);
      return this.nak(x, s, lease !== undefined && !this.table.owns(lease, x.ident) ? `${ip} is in use by another client` : `${ip} cannot be leased here`);
    }

    const hostname = this.hostname(x, a);
    const writeStart = this.now();
    let lease: Lease;
    try {
      lease = await this.table.bind(s.key, x.ident, ip, s.leaseSeconds * 1000, hostname, x.serverId);
    } catch (err) {
      this.count('dropped.store_error');
      this.rl.warn('store', { code: 'BH_DHCP_LEASE_WRITE', err: String(err), ip, mac: f.mac }, 'the lease could not be written durably, so no ACK was sent; check the lease store (disk full? database down?)');
      this.emit(x, 'store-error', { ip });
      return { replies: [] };
    }
    const durableMs = this.now() - writeStart;
    const d = a.boot;
    const reply = this.replies.lease(x.p, x.facts, x.serverId, s, a, MSG.ACK, lease.ip);
    if (state !== 'selecting' || x.p.ciaddr !== ZERO) reply.ciaddr = x.p.ciaddr;
    const replies = this.send(x, reply);
    if (replies.length > 0) {
      this.count('acked');
      this.slowAck(x, lease.ip, durableMs);
      this.emit(x, 'ack', this.withBoot({ ip: lease.ip, state, expiresAt: lease.expiresAt }, d, a.registration));
    }
    return { replies };
  }

  /** Clients retry a REQUEST after a second or so; a slower store makes them wait, or give up. */
  private slowAck(x: Exchange, ip: string, durableMs: number): void {
    if (durableMs < SLOW_ACK_MS) return;
    this.count('acked.slow');
    this.rl.warn('slow_ack', { code: 'BH_DHCP_SLOW_ACK', ms: durableMs, ip, mac: x.facts.mac }, `a lease took ${durableMs} ms to become durable; the disk or database is slow`);
  }

  private ownedLease(x: Exchange, s: CompiledSubnet, ip: string | undefined): Lease | undefined {
    if (ip === undefined) return undefined;
    const l = this.table.leaseAt(ip);
    if (l === undefined || l.subnet !== s.key || !this.table.owns(l, x.ident)) return undefined;
    if (l.state !== 'bound' && l.state !== 'offered') return undefined;
    return l;
  }

  private async decline(x: Exchange, s: CompiledSubnet): Promise<Outcome> {
    if (x.facts.serverId !== undefined && x.facts.serverId !== x.serverId) return this.ignore(x, 'other_server', {}, true);
    const l = this.ownedLease(x, s, x.facts.requestedIp);
    if (l === undefined) return this.ignore(x, 'decline_not_owner', { ip: x.facts.requestedIp }); // D32
    try {
      await this.table.decline(l);
    } catch (err) {
      this.rl.warn('store', { code: 'BH_DHCP_LEASE_WRITE', err: String(err) }, 'a declined lease could not be written; check the lease store');
    }
    this.count('declined');
    this.emit(x, 'decline', { ip: l.ip, why: 'client found the address in use; quarantined' });
    return { replies: [] };
  }

  private async release(x: Exchange, s: CompiledSubnet): Promise<Outcome> {
    if (x.facts.serverId !== undefined && x.facts.serverId !== x.serverId) return this.ignore(x, 'other_server', {}, true);
    const l = this.ownedLease(x, s, x.p.ciaddr !== ZERO ? x.p.ciaddr : undefined);
    if (l === undefined) return this.ignore(x, 'release_not_owner', { ip: x.p.ciaddr }); // D32
    try {
      await this.table.release(l);
    } catch (err) {
      this.rl.warn('store', { code: 'BH_DHCP_LEASE_WRITE', err: String(err) }, 'a released lease could not be written; check the lease store');
    }
    this.count('released');
    this.emit(x, 'release', { ip: l.ip });
    return { replies: [] };
  }

  private inform(x: Exchange, s: CompiledSubnet): Outcome {
    const a = this.admit(x);
    if (a === undefined) return { replies: [] };
    const d = a.boot;
    const reply = this.replies.lease(x.p, x.facts, x.serverId, s, a, MSG.ACK, ZERO);
    reply.ciaddr = x.p.ciaddr;
    for (const c of [OPT.LEASE_TIME, OPT.RENEWAL_TIME, OPT.REBINDING_TIME]) reply.options.delete(c);
    const replies = this.send(x, reply, { inform: true });
    if (replies.length > 0) {
      this.count('informed');
      this.emit(x, 'inform', this.withBoot({ ciaddr: x.p.ciaddr }, d, a.registration));
    }
    return { replies };
  }
}
