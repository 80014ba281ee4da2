// The `dhcp` part of the YAML config: its TypeBox schema (the configuration reference is generated
// from the descriptions, defaults and examples here) and the DhcpConfig type.
import { Type } from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';

const IPV4_PATTERN = '^(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])(\\.(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])){3}$';
const CIDR_PATTERN = IPV4_PATTERN.slice(0, -1) + '/([0-9]|[12][0-9]|3[0-2])$';
const MAC_PATTERN = '^[0-9A-Fa-f]{2}([:-][0-9A-Fa-f]{2}){5}$';
const MAC_PREFIX_PATTERN = '^[0-9A-Fa-f]{2}([:-][0-9A-Fa-f]{2}){0,5}$';
const HOSTNAME_PATTERN = '^[A-Za-z0-9-]{1,63}(\\.[A-Za-z0-9-]{1,63})*$';

function ip(description: string, example = '198.18.0.1') {
  return Type.String({ pattern: IPV4_PATTERN, description, examples: [example] });
}
function ipList(description: string, example: string[]) {
  return Type.Array(Type.String({ pattern: IPV4_PATTERN }), { description, examples: [example], maxItems: 32 });
}

export const ModeSchema = Type.Union([Type.Literal('proxy'), Type.Literal('full')], {
  description:
    '`proxy`: answer only PXE/HTTP-boot clients with boot information and never hand out addresses (safe next to an existing DHCP server). `full`: be the DHCP server, handing out addresses from the pools.',
  examples: ['proxy', 'full'],
});

export const ExtraOptionSchema = Type.Object(
  {
    code: Type.Integer({ minimum: 1, maximum: 254, description: 'The DHCP option code (RFC 2132 and later). 53, 54, 51, 52 and 55 are the server\'s own and are refused.', examples: [42, 150] }),
    type: Type.Union(
      [Type.Literal('ip'), Type.Literal('ips'), Type.Literal('string'), Type.Literal('u8'), Type.Literal('u16'), Type.Literal('u32'), Type.Literal('bool'), Type.Literal('hex')],
      { description: 'How `value` is encoded on the wire.', examples: ['ips', 'string', 'hex'] },
    ),
    value: Type.Union([Type.String({ maxLength: 1024 }), Type.Integer(), Type.Boolean(), Type.Array(Type.String({ pattern: IPV4_PATTERN }), { maxItems: 63 })], {
      description: 'The option value: a dotted quad (`ip`), a list of them (`ips`), text (`string`), a number (`u8`/`u16`/`u32`), true/false (`bool`) or hex octets such as `01:02:0a` (`hex`).',
      examples: [['198.18.0.1', '198.18.0.2'], 'example.test', 1500, '01:04:00:00:00:01'],
    }),
  },
  { additionalProperties: false, description: 'An arbitrary DHCP option sent to clients.', examples: [{ code: 42, type: 'ips', value: ['198.18.0.1'] }] },
);

const optionFields = {
  routers: Type.Optional(ipList('Option 3: default gateways, in order of preference.', ['198.18.0.1'])),
  dns_servers: Type.Optional(ipList('Option 6: DNS resolvers.', ['198.18.0.1'])),
  domain_name: Type.Optional(Type.String({ pattern: HOSTNAME_PATTERN, maxLength: 253, description: 'Option 15: the DNS domain of the clients.', examples: ['lab.example.test'] })),
  ntp_servers: Type.Optional(ipList('Option 42: NTP servers.', ['198.18.0.1'])),
  options: Type.Optional(Type.Array(ExtraOptionSchema, { description: 'Any further options, sent to every client this applies to.', examples: [[{ code: 150, type: 'ip', value: '198.18.0.1' }]], maxItems: 64 })),
};

export const ReservationSchema = Type.Object(
  {
    mac: Type.String({ pattern: MAC_PATTERN, description: 'The client\'s hardware address.', examples: ['52:54:00:12:34:56'] }),
    ip: ip('The fixed address this client always gets. It should lie outside the dynamic pools; if it lies inside, no other client is ever given it.', '198.18.0.10'),
    hostname: Type.Optional(Type.String({ pattern: HOSTNAME_PATTERN, maxLength: 253, description: 'Option 12 sent to the client.', examples: ['node01'] })),
    group: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'A group from `dhcp.boot.groups` whose boot settings apply to this host.', examples: ['workers'] })),
    bootfile: Type.Optional(Type.String({ minLength: 1, maxLength: 255, description: 'The firmware-stage boot file (TFTP path) or URL for this host, overriding group and architecture defaults.', examples: ['grubx64.efi'] })),
    ipxe_script: Type.Optional(Type.String({ minLength: 1, maxLength: 255, description: 'The script URL or path (relative to the HTTP base) handed to this host once it runs iPXE.', examples: ['hosts/node01.ipxe'] })),
    ...optionFields,
  },
  { additionalProperties: false, description: 'A known host: MAC → fixed address, name, boot settings and options. Deprecated: a host in the inventory (`ip`, `bootfile`, `ipxe_script`, `dhcp`).', examples: [{ mac: '52:54:00:12:34:56', ip: '198.18.0.10', hostname: 'node01' }] },
);

export const PoolSchema = Type.Object(
  {
    start: ip('First address of the range (inclusive).', '198.18.0.100'),
    end: ip('Last address of the range (inclusive).', '198.18.0.199'),
  },
  { additionalProperties: false, description: 'A range of addresses handed out dynamically.', examples: [{ start: '198.18.0.100', end: '198.18.0.199' }] },
);

export const UnknownClientsSchema = Type.Union([Type.Literal('answer'), Type.Literal('ignore'), Type.Literal('register')], {
  description: 'What to do in this subnet with a client that has no reservation and is not in the inventory: `answer` normally, `ignore` it (logged and counted), or answer with the registration boot only. Default: `dhcp.unknown_clients`.',
  examples: ['answer', 'register'],
});

export const SubnetSchema = Type.Object(
  {
    subnet: Type.String({ pattern: CIDR_PATTERN, description: 'The network, in CIDR form. Relayed requests are matched to it by giaddr; direct ones by the receiving interface.', examples: ['198.18.0.0/24'] }),
    interface: Type.Optional(Type.String({ minLength: 1, maxLength: 15, description: 'The interface on which this subnet\'s clients broadcast directly. Without it, the subnet that contains the interface\'s own address is used.', examples: ['eth1'] })),
    mode: Type.Optional(ModeSchema),
    pools: Type.Array(PoolSchema, { default: [], description: 'Dynamic ranges (full mode). Without pools only reserved hosts get addresses.', examples: [[{ start: '198.18.0.100', end: '198.18.0.199' }]], maxItems: 256 }),
    lease_time: Type.Integer({ minimum: 60, maximum: 31_536_000, default: 3600, description: 'Lease time in seconds (option 51). Renewal (T1, option 58) is at half of it and rebinding (T2, option 59) at 7/8.', examples: [3600, 86400] }),
    unknown_clients: Type.Optional(UnknownClientsSchema),
    reservations: Type.Array(ReservationSchema, { default: [], description: 'Deprecated: known hosts belong in the inventory (`bootherd hosts add --ip`, or a fleet file). Still loaded into the inventory at start; `bootherd config migrate` prints them as a fleet file.', examples: [[{ mac: '52:54:00:12:34:56', ip: '198.18.0.10' }]], maxItems: 100_000 }),
    ...optionFields,
  },
  { additionalProperties: false, description: 'One IPv4 network served by bootherd.', examples: [{ subnet: '198.18.0.0/24', pools: [{ start: '198.18.0.100', end: '198.18.0.199' }], routers: ['198.18.0.1'] }] },
);

export const InterfaceSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 15, description: 'The network interface name.', examples: ['eth1'] }),
    mode: Type.Optional(ModeSchema),
  },
  { additionalProperties: false, description: 'An interface bootherd answers DHCP on, and its mode.', examples: [{ name: 'eth1', mode: 'proxy' }] },
);

export const AccessSchema = Type.Object(
  {
    allow_macs: Type.Array(Type.String({ pattern: MAC_PATTERN }), { default: [], description: 'If this or `allow_ouis` is non-empty, only these clients are answered.', examples: [['52:54:00:12:34:56']] }),
    allow_ouis: Type.Array(Type.String({ pattern: MAC_PREFIX_PATTERN }), { default: [], description: 'MAC prefixes (usually the 3-octet OUI) that are allowed.', examples: [['52:54:00']] }),
    deny_macs: Type.Array(Type.String({ pattern: MAC_PATTERN }), { default: [], description: 'Clients that are never answered (logged and counted).', examples: [['de:ad:be:ef:00:01']] }),
    deny_ouis: Type.Array(Type.String({ pattern: MAC_PREFIX_PATTERN }), { default: [], description: 'MAC prefixes that are never answered.', examples: [['de:ad:be']] }),
    relays: Type.Optional(Type.Array(Type.String({ pattern: `(${IPV4_PATTERN})|(${CIDR_PATTERN})` }), { description: 'Relay agents (giaddr) allowed, as addresses or CIDR blocks. Without this list, a relayed request is accepted only if its giaddr lies in a configured subnet.', examples: [['198.18.1.1', '198.18.2.0/24']] })),
  },
  { additionalProperties: false, default: {}, description: 'Who is answered at all.', examples: [{ deny_ouis: ['de:ad:be'], relays: ['198.18.1.1'] }] },
);

export const BootGroupSchema = Type.Object(
  {
    bootfiles: Type.Optional(Type.Record(Type.String({ pattern: '^[a-z0-9-]+$' }), Type.String({ minLength: 1, maxLength: 255 }), { additionalProperties: false, description: 'Boot file (TFTP path) or URL per architecture key (see `dhcp.boot.bootfiles`).', examples: [{ 'uefi-x64': 'grubx64.efi' }] })),
    ipxe_script: Type.Optional(Type.String({ minLength: 1, maxLength: 255, description: 'The iPXE script URL or path (relative to the HTTP base) for this group.', examples: ['groups/workers.ipxe'] })),
    ...optionFields,
  },
  { additionalProperties: false, description: 'Boot settings shared by a group of hosts. Deprecated: an inventory group (`bootfiles`, `ipxe_script`, `dhcp`).', examples: [{ bootfiles: { bios: 'pxelinux.0' } }] },
);

export const BootSchema = Type.Object(
  {
    tftp_server: Type.Optional(ip('The TFTP server put in siaddr (next-server) and sname. Default: the address of the interface the request came in on.')),
    http_base: Type.Optional(Type.String({ pattern: '^https?://[^\\s]+$', maxLength: 200, description: 'Base URL of bootherd\'s HTTP server, without a trailing slash. Default: http://<receiving interface address>:<http.port>.', examples: ['http://198.18.0.1:8080'] })),
    bootfiles: Type.Record(Type.String({ pattern: '^[a-z0-9-]+$' }), Type.String({ minLength: 1, maxLength: 255 }), {
      additionalProperties: false,
      default: {},
      description: 'Overrides of the default loader per architecture key: `bios`, `uefi-ia32`, `uefi-x64`, `uefi-arm32`, `uefi-arm64`, `efi-http-x64`, `efi-http-arm64`, … (see docs). A value that starts with http:// or https:// is a URL; anything else is a TFTP path.',
      examples: [{ bios: 'undionly.kpxe', 'uefi-x64': 'ipxe.efi' }],
    }),
    ipxe_script: Type.String({ minLength: 1, maxLength: 255, default: 'boot.ipxe?mac=${net0/mac}&uuid=${uuid}&arch=${buildarch}', description: 'The URL (or path relative to the HTTP base) given to clients already running iPXE. `${…}` are iPXE\'s own variables, expanded by the client.', examples: ['boot.ipxe?mac=${net0/mac}&uuid=${uuid}&arch=${buildarch}'] }),
    registration_script: Type.String({ minLength: 1, maxLength: 255, default: 'register.ipxe?mac=${net0/mac}&uuid=${uuid}&arch=${buildarch}', description: 'The iPXE script given to unknown clients when `unknown_clients` is `register`.', examples: ['register.ipxe?mac=${net0/mac}'] }),
    groups: Type.Record(Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$' }), BootGroupSchema, { additionalProperties: false, default: {}, description: 'Deprecated: groups belong in the inventory (`bootherd groups add --bootfile ARCH=FILE`, or a fleet file). Still loaded into the inventory at start; `bootherd config migrate` prints them as a fleet file.', examples: [{ workers: { bootfiles: { 'uefi-x64': 'snponly.efi' } } }] }),
  },
  { additionalProperties: false, default: {}, description: 'How boot files and URLs are chosen.', examples: [{ tftp_server: '198.18.0.1', bootfiles: { bios: 'undionly.kpxe' } }] },
);

export const DhcpConfigSchema = Type.Object(
  {
    mode: Type.Union([Type.Literal('proxy'), Type.Literal('full')], { default: 'proxy', description: 'The default mode for interfaces and subnets that do not set one. `proxy` (ProxyDHCP: boot information only) is safe on a LAN that already has a DHCP server; `full` hands out addresses.', examples: ['proxy', 'full'] }),
    interfaces: Type.Array(InterfaceSchema, { default: [], description: 'Interfaces to answer on, each with an optional mode.', examples: [[{ name: 'eth1' }]] }),
    subnets: Type.Array(SubnetSchema, { default: [], description: 'The networks served. Full mode needs at least one.', examples: [[{ subnet: '198.18.0.0/24', pools: [{ start: '198.18.0.100', end: '198.18.0.199' }] }]] }),
    unknown_clients: Type.Optional(Type.Union([Type.Literal('answer'), Type.Literal('ignore'), Type.Literal('register')], { description: 'Default policy for clients without a reservation or inventory entry (a subnet may override it). Unset: derived from `boot.unknown_hosts` (`ignore` → ignore, `register` → register, otherwise answer).', examples: ['answer', 'register'] })),
    offer_hold: Type.Integer({ minimum: 5, maximum: 600, default: 30, description: 'Seconds an offered address is held for the client before it may be offered to another.', examples: [30] }),
    decline_quarantine: Type.Integer({ minimum: 60, maximum: 604_800, default: 3600, description: 'Seconds an address declined by a client (DHCPDECLINE: already in use) is kept out of the pools.', examples: [3600] }),
    max_requests_per_client: Type.Integer({ minimum: 1, maximum: 10_000, default: 20, description: 'Requests per second accepted from one MAC address; more are dropped and counted.', examples: [20] }),
    access: AccessSchema,
    boot: BootSchema,
  },
  { additionalProperties: false, description: 'DHCP and ProxyDHCP: modes, subnets, pools, reservations, options, access control and boot-file choice.', examples: [{ mode: 'proxy', interfaces: [{ name: 'eth1' }] }] },
);

export type DhcpConfig = Static<typeof DhcpConfigSchema>;
export type SubnetConfig = Static<typeof SubnetSchema>;
export type ReservationConfig = Static<typeof ReservationSchema>;
export type ExtraOptionConfig = Static<typeof ExtraOptionSchema>;
export type BootGroupConfig = Static<typeof BootGroupSchema>;
export type DhcpMode = Static<typeof ModeSchema>;
export type UnknownClientsPolicy = Static<typeof UnknownClientsSchema>;
