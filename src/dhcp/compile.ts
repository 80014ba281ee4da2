// Turns the validated `dhcp` config into the structures the server uses on the hot path: subnets
// with parsed CIDRs, pools and reservations, and every configured option already encoded. Checks
// what the schema cannot (pools inside their subnet, duplicate reservations, unknown groups and
// architecture keys) and throws a coded DhcpConfigError that tells the operator what to fix.
import type { BootGroupConfig, DhcpConfig, DhcpMode, ExtraOptionConfig, SubnetConfig, UnknownClientsPolicy } from '../config/dhcp.ts';
import type { Cidr } from '../util/ipv4.ts';
import { cidrContains, ipToU32, parseCidr } from '../util/ipv4.ts';
import { parseMac } from '../util/mac.ts';
import type { LeaseSpace } from './leases.ts';
import type { DhcpAccessLists } from './policy.ts';
import { compileAccess } from './policy.ts';
import { ARCH_KEYS } from '../boot/arch.ts';
import { OPT, encodeIp, encodeIpList, encodeString, encodeU16, encodeU32, encodeU8 } from '../protocol/dhcp/options.ts';
import { BhError } from '../errors.ts';
import type { ErrorCode } from '../errors.ts';

export class DhcpConfigError extends BhError {
  declare readonly code: Extract<ErrorCode, `BH_DHCP_CONFIG_${string}`>;
  constructor(code: Extract<ErrorCode, `BH_DHCP_CONFIG_${string}`>, message: string) {
    super(code, message);
    this.name = 'DhcpConfigError';
  }
}

/** Options the server sets itself; config may not override them. */
const SERVER_OWNED = new Set<number>([OPT.OVERLOAD, OPT.MESSAGE_TYPE, OPT.SERVER_ID, OPT.PARAMETER_REQUEST_LIST, OPT.LEASE_TIME, OPT.RENEWAL_TIME, OPT.REBINDING_TIME, OPT.MAX_MESSAGE_SIZE, OPT.CLIENT_ID]);

export interface CompiledSubnet {
  key: string;
  cidr: Cidr;
  interface: string | undefined;
  mode: DhcpMode | undefined;
  leaseSeconds: number;
  unknownClients: UnknownClientsPolicy;
  space: LeaseSpace;
  /** Subnet mask, routers, DNS, domain, NTP and extra options, encoded, in send order. */
  options: Map<number, Uint8Array>;
}

export interface CompiledDhcpConfig {
  mode: DhcpMode;
  interfaceModes: Map<string, DhcpMode | undefined>;
  subnets: CompiledSubnet[];
  access: DhcpAccessLists;
  /** Policy for unknown clients where no subnet applies (proxy mode without subnets). */
  unknownClients: UnknownClientsPolicy;
  offerHoldMs: number;
  declineQuarantineMs: number;
  maxRequestsPerClient: number;
  tftpServer: string | undefined;
  httpBase: string | undefined;
  bootfiles: Record<string, string>;
  ipxeScript: string;
  registrationScript: string;
}

export function encodeExtraOption(o: ExtraOptionConfig, where: string): Uint8Array {
  const bad = (why: string): DhcpConfigError => new DhcpConfigError('BH_DHCP_CONFIG_OPTION', `${where}: option ${o.code} (${o.type}) ${why}; fix its value in the config`);
  const v = o.value;
  switch (o.type) {
    case 'ip':
      if (typeof v !== 'string' || ipToU32(v) === undefined) throw bad('needs a dotted-quad address');
      return encodeIp(v);
    case 'ips': {
      const list = Array.isArray(v) ? v : typeof v === 'string' ? [v] : undefined;
      if (list === undefined || list.length === 0 || list.some((x) => ipToU32(x) === undefined)) throw bad('needs a list of dotted-quad addresses');
      return encodeIpList(list);
    }
    case 'string':
      if (typeof v !== 'string' || v.length === 0) throw bad('needs non-empty text');
      return encodeString(v);
    case 'u8':
    case 'u16':
    case 'u32': {
      const max = o.type === 'u8' ? 0xff : o.type === 'u16' ? 0xffff : 0xffffffff;
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) throw bad(`needs an integer 0..${max}`);
      return o.type === 'u8' ? encodeU8(v) : o.type === 'u16' ? encodeU16(v) : encodeU32(v);
    }
    case 'bool':
      if (typeof v !== 'boolean') throw bad('needs true or false');
      return encodeU8(v ? 1 : 0);
    case 'hex': {
      const h = typeof v === 'string' ? v.replace(/[:\s-]/g, '') : '';
      if (h.length === 0 || h.length % 2 !== 0 || !/^[0-9a-fA-F]+$/.test(h)) throw bad('needs hex octets such as 01:02:0a');
      return Uint8Array.from(Buffer.from(h, 'hex'));
    }
  }
  throw bad('has an unknown type');
}

interface OptionFields {
  routers?: string[] | undefined;
  dns_servers?: string[] | undefined;
  domain_name?: string | undefined;
  ntp_servers?: string[] | undefined;
  options?: ExtraOptionConfig[] | undefined;
}

/** Encodes the common option fields into `into` (later calls override earlier codes). */
export function encodeOptionFields(f: OptionFields, where: string, into = new Map<number, Uint8Array>()): Map<number, Uint8Array> {
  if (f.routers !== undefined && f.routers.length > 0) into.set(OPT.ROUTER, encodeIpList(f.routers));
  if (f.dns_servers !== undefined && f.dns_servers.length > 0) into.set(OPT.DNS_SERVERS, encodeIpList(f.dns_servers));
  if (f.domain_name !== undefined) into.set(OPT.DOMAIN_NAME, encodeString(f.domain_name));
  if (f.ntp_servers !== undefined && f.ntp_servers.length > 0) into.set(OPT.NTP_SERVERS, encodeIpList(f.ntp_servers));
  for (const o of f.options ?? []) {
    if (SERVER_OWNED.has(o.code)) throw new DhcpConfigError('BH_DHCP_CONFIG_OPTION', `${where}: option ${o.code} is set by the server itself; remove it from the config`);
    into.set(o.code, encodeExtraOption(o, where));
  }
  return into;
}

/**
 * Encodes the DHCP options of an inventory host or group option by option: one whose value cannot
 * be encoded (the store holds what an older or newer bootherd, or a hand edit, wrote) is reported
 * to `skip` and left out. Never throws.
 */
export function encodeOptionsLenient(f: OptionFields, skip: (code: number, err: unknown) => void): Map<number, Uint8Array> {
  const out = new Map<number, Uint8Array>();
  const one = (code: number, fn: () => void) => {
    try {
      fn();
    } catch (err) {
      skip(code, err);
    }
  };
  for (const [code, key] of [[OPT.ROUTER, 'routers'], [OPT.DNS_SERVERS, 'dns_servers'], [OPT.NTP_SERVERS, 'ntp_servers']] as const) {
    const v = f[key];
    if (v !== undefined) one(code, () => out.set(code, encodeExtraOption({ code, type: 'ips', value: v }, key)));
  }
  const domain = f.domain_name;
  if (domain !== undefined) one(OPT.DOMAIN_NAME, () => out.set(OPT.DOMAIN_NAME, encodeExtraOption({ code: OPT.DOMAIN_NAME, type: 'string', value: domain }, 'domain_name')));
  for (const o of Array.isArray(f.options) ? f.options : []) one(Number((o as { code?: unknown } | null)?.code), () => encodeOptionFields({ options: [o] }, 'dhcp.options', out));
  return out;
}

/** encodeOptionsLenient once per options object (an inventory snapshot's records live until its next refresh). */
export class OptionEncoder {
  private readonly done = new WeakMap<object, Map<number, Uint8Array>>();
  private readonly skip: (code: number, err: unknown) => void;
  constructor(skip: (code: number, err: unknown) => void) {
    this.skip = skip;
  }

  encode(f: OptionFields): Map<number, Uint8Array> {
    let m = this.done.get(f);
    if (m === undefined) this.done.set(f, (m = encodeOptionsLenient(f, this.skip)));
    return m;
  }
}

function checkArchKeys(map: Record<string, string> | undefined, where: string): void {
  for (const k of Object.keys(map ?? {})) {
    if (!ARCH_KEYS.has(k)) throw new DhcpConfigError('BH_DHCP_CONFIG_ARCH', `${where}: unknown architecture key "${k}"; use one of ${[...ARCH_KEYS].join(', ')}`);
  }
}

/**
 * Reservations and groups (deprecated: the inventory holds hosts and groups, and serve loads these
 * into it) are checked here so that a config that worked keeps loading; only their addresses are
 * compiled (the lease spaces' reservations until the inventory's replace them).
 */
function compileSubnet(s: SubnetConfig, idx: number, unknownDefault: UnknownClientsPolicy, groups: ReadonlySet<string>): CompiledSubnet {
  const where = `dhcp.subnets[${idx}] (${s.subnet})`;
  const cidr = parseCidr(s.subnet);
  if (cidr === undefined) throw new DhcpConfigError('BH_DHCP_CONFIG_SUBNET', `${where}: "${s.subnet}" is not a CIDR network such as 198.18.0.0/24`);
  const pools: { start: number; end: number }[] = [];
  for (const [pi, p] of (s.pools ?? []).entries()) {
    const a = ipToU32(p.start);
    const b = ipToU32(p.end);
    if (a === undefined || b === undefined || a > b) throw new DhcpConfigError('BH_DHCP_CONFIG_POOL', `${where}.pools[${pi}]: start ${p.start} must be an address not above end ${p.end}`);
    if (!cidrContains(cidr, a) || !cidrContains(cidr, b)) throw new DhcpConfigError('BH_DHCP_CONFIG_POOL', `${where}.pools[${pi}]: ${p.start}-${p.end} lies outside ${cidr.text}; move the pool into the subnet`);
    pools.push({ start: Math.max(a, cidr.network + 1), end: Math.min(b, cidr.broadcast - 1) });
  }
  const reserved = new Map<number, string>();
  const reservationByMac = new Map<string, number>();
  for (const [ri, r] of (s.reservations ?? []).entries()) {
    const rw = `${where}.reservations[${ri}]`;
    const mac = parseMac(r.mac);
    const ip = ipToU32(r.ip);
    if (mac === undefined) throw new DhcpConfigError('BH_DHCP_CONFIG_RESERVATION', `${rw}: "${r.mac}" is not a MAC address such as 52:54:00:12:34:56`);
    if (ip === undefined || !cidrContains(cidr, ip) || ip === cidr.network || ip === cidr.broadcast) throw new DhcpConfigError('BH_DHCP_CONFIG_RESERVATION', `${rw}: ${r.ip} is not a host address of ${cidr.text}`);
    if (reservationByMac.has(mac)) throw new DhcpConfigError('BH_DHCP_CONFIG_RESERVATION', `${rw}: ${mac} is reserved twice in ${cidr.text}; keep one entry`);
    if (reserved.has(ip)) throw new DhcpConfigError('BH_DHCP_CONFIG_RESERVATION', `${rw}: ${r.ip} is reserved for both ${reserved.get(ip)} and ${mac}; give each host its own address`);
    if (r.group !== undefined && !groups.has(r.group)) throw new DhcpConfigError('BH_DHCP_CONFIG_GROUP', `${rw}: group "${r.group}" is not defined under dhcp.boot.groups`);
    reserved.set(ip, mac);
    reservationByMac.set(mac, ip);
    encodeOptionFields(r, rw); // checks the options

  }
  const options = new Map<number, Uint8Array>();
  options.set(OPT.SUBNET_MASK, encodeU32(cidr.mask));
  encodeOptionFields(s, where, options);
  if (!options.has(OPT.BROADCAST_ADDRESS)) options.set(OPT.BROADCAST_ADDRESS, encodeU32(cidr.broadcast));
  return {
    key: cidr.text,
    cidr,
    interface: s.interface,
    mode: s.mode,
    leaseSeconds: s.lease_time ?? 3600,
    unknownClients: s.unknown_clients ?? unknownDefault,
    space: { key: cidr.text, cidr, pools, reserved, reservationByMac },
    options,
  };
}

/** `boot.unknown_hosts` supplies the default of `dhcp.unknown_clients`; pass the derived policy. */
export function compileDhcpConfig(cfg: DhcpConfig, unknownDefault: UnknownClientsPolicy = 'answer'): CompiledDhcpConfig {
  const boot = cfg.boot ?? ({} as Partial<DhcpConfig['boot']>);
  const groups = new Set<string>();
  for (const [name, g] of Object.entries(boot.groups ?? {}) as [string, BootGroupConfig][]) {
    checkArchKeys(g.bootfiles, `dhcp.boot.groups.${name}.bootfiles`);
    encodeOptionFields(g, `dhcp.boot.groups.${name}`); // checks the options
    groups.add(name);
  }
  checkArchKeys(boot.bootfiles, 'dhcp.boot.bootfiles');
  const unknownClients = cfg.unknown_clients ?? unknownDefault;
  const subnets = (cfg.subnets ?? []).map((s, i) => compileSubnet(s, i, unknownClients, groups));
  for (let i = 0; i < subnets.length; i++) {
    for (let j = i + 1; j < subnets.length; j++) {
      const a = subnets[i]!.cidr;
      const b = subnets[j]!.cidr;
      if (cidrContains(a, b.network) || cidrContains(b, a.network)) {
        throw new DhcpConfigError('BH_DHCP_CONFIG_SUBNET', `dhcp.subnets: ${a.text} and ${b.text} overlap; each address must belong to one subnet`);
      }
    }
  }
  const interfaceModes = new Map<string, DhcpMode | undefined>();
  for (const i of cfg.interfaces ?? []) interfaceModes.set(i.name, i.mode);
  return {
    mode: cfg.mode ?? 'proxy',
    interfaceModes,
    subnets,
    access: compileAccess(cfg.access),
    unknownClients,
    offerHoldMs: (cfg.offer_hold ?? 30) * 1000,
    declineQuarantineMs: (cfg.decline_quarantine ?? 3600) * 1000,
    maxRequestsPerClient: cfg.max_requests_per_client ?? 20,
    tftpServer: boot.tftp_server,
    httpBase: boot.http_base?.replace(/\/+$/, ''),
    bootfiles: boot.bootfiles ?? {},
    ipxeScript: boot.ipxe_script ?? 'boot.ipxe?mac=${net0/mac}&uuid=${uuid}&arch=${buildarch}',
    registrationScript: boot.registration_script ?? 'register.ipxe?mac=${net0/mac}&uuid=${uuid}&arch=${buildarch}',
  };
}
