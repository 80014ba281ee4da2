// Builders for DHCP requests and a server wired to in-memory parts, for the dhcp unit tests.
import { decodeDhcp, encodeDhcp } from '../../../src/protocol/dhcp/packet.ts';
import type { DhcpPacket } from '../../../src/protocol/dhcp/packet.ts';
import { OPT, encodeIp, encodeString, messageType } from '../../../src/protocol/dhcp/options.ts';
import { Value } from '@sinclair/typebox/value';
import { DhcpConfigSchema } from '../../../src/config/dhcp.ts';
import type { DhcpConfig } from '../../../src/config/dhcp.ts';
import { DhcpServer } from '../../../src/dhcp/server.ts';
import type { DhcpReply, DhcpRequestMeta, DhcpServerOptions } from '../../../src/dhcp/server.ts';
import { MemoryLeaseRepository } from '../../../src/store/index.ts';
import { EventBus } from '../../../src/events/bus.ts';
import type { BootEvent } from '../../../src/events/bus.ts';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { silentLogger } from '../../../src/log/logger.ts';
import type { Logger } from '../../../src/log/logger.ts';

export interface RequestSpec {
  type?: number;
  mac?: string;
  xid?: number;
  flags?: number;
  ciaddr?: string;
  giaddr?: string;
  hops?: number;
  op?: number;
  /** Extra options, set in order after 53. */
  options?: [number, Uint8Array][];
}

export function macBytes(mac: string): Uint8Array {
  return Uint8Array.from(mac.split(':').map((h) => parseInt(h, 16)));
}

export function packet(spec: RequestSpec): DhcpPacket {
  const chaddr = new Uint8Array(16);
  chaddr.set(macBytes(spec.mac ?? '52:54:00:00:00:01'));
  const options = new Map<number, Uint8Array>();
  if (spec.type !== undefined) options.set(OPT.MESSAGE_TYPE, Uint8Array.of(spec.type));
  for (const [c, v] of spec.options ?? []) options.set(c, v);
  return {
    op: spec.op ?? 1,
    htype: 1,
    hlen: 6,
    hops: spec.hops ?? 0,
    xid: spec.xid ?? 0x1234,
    secs: 0,
    flags: spec.flags ?? 0,
    ciaddr: spec.ciaddr ?? '0.0.0.0',
    yiaddr: '0.0.0.0',
    siaddr: '0.0.0.0',
    giaddr: spec.giaddr ?? '0.0.0.0',
    chaddr,
    sname: '',
    file: '',
    options,
    duplicateOptions: [],
  };
}

export function request(spec: RequestSpec): Buffer {
  return encodeDhcp(packet(spec), { maxSize: 1500 });
}

export const opt = {
  requestedIp: (ip: string): [number, Uint8Array] => [OPT.REQUESTED_IP, encodeIp(ip)],
  serverId: (ip: string): [number, Uint8Array] => [OPT.SERVER_ID, encodeIp(ip)],
  vendorClass: (s: string): [number, Uint8Array] => [OPT.VENDOR_CLASS, encodeString(s)],
  userClass: (s: string): [number, Uint8Array] => [OPT.USER_CLASS, encodeString(s)],
  arch: (...codes: number[]): [number, Uint8Array] => [OPT.CLIENT_ARCH, Uint8Array.from(codes.flatMap((c) => [c >> 8, c & 255]))],
  clientId: (bytes: number[]): [number, Uint8Array] => [OPT.CLIENT_ID, Uint8Array.from(bytes)],
  uuid: (): [number, Uint8Array] => [OPT.CLIENT_UUID, Uint8Array.from([0, ...Array.from({ length: 16 }, (_, i) => i + 1)])],
  hostname: (s: string): [number, Uint8Array] => [OPT.HOST_NAME, encodeString(s)],
  prl: (...codes: number[]): [number, Uint8Array] => [OPT.PARAMETER_REQUEST_LIST, Uint8Array.from(codes)],
};

/** The options real clients send (FIELD-NOTES.md). */
export const clients = {
  ipxeBios: (): [number, Uint8Array][] => [opt.vendorClass('PXEClient:Arch:00000:UNDI:002001'), opt.arch(0), opt.userClass('iPXE'), opt.uuid()],
  edk2Pxe: (): [number, Uint8Array][] => [opt.vendorClass('PXEClient:Arch:00007:UNDI:003000'), opt.arch(7), opt.uuid()],
  edk2Http: (): [number, Uint8Array][] => [opt.vendorClass('HTTPClient:Arch:00016:UNDI:003000'), opt.arch(16), opt.uuid()],
  ipxeEfi: (): [number, Uint8Array][] => [opt.vendorClass('PXEClient:Arch:00007:UNDI:003010'), opt.arch(7), opt.userClass('iPXE'), opt.uuid()],
  linux: (): [number, Uint8Array][] => [opt.hostname('node'), opt.prl(1, 3, 6, 15, 51)],
};

export const SERVER = '198.18.0.1';
export const meta67: DhcpRequestMeta = { interface: 'veth0', localAddress: SERVER, port: 67, source: { address: '0.0.0.0', port: 68 } };
export const meta4011 = (src = '198.18.0.100', port = 4011): DhcpRequestMeta => ({ interface: 'veth0', localAddress: SERVER, port: 4011, source: { address: src, port } });

export function config(partial: Record<string, unknown>): DhcpConfig {
  const c = Value.Default(DhcpConfigSchema, structuredClone(partial)) as DhcpConfig;
  if (!Value.Check(DhcpConfigSchema, c)) {
    const first = [...Value.Errors(DhcpConfigSchema, c)][0];
    throw new Error(`test config invalid: ${first?.path} ${first?.message}`);
  }
  return c;
}

export const fullConfig = (extra: Record<string, unknown> = {}): DhcpConfig =>
  config({
    mode: 'full',
    subnets: [
      {
        subnet: '198.18.0.0/24',
        pools: [{ start: '198.18.0.100', end: '198.18.0.199' }],
        routers: ['198.18.0.1'],
        dns_servers: ['198.18.0.53'],
        domain_name: 'lab.test',
        lease_time: 600,
      },
    ],
    ...extra,
  });

/** A logger at `warn` that keeps each line, parsed, in `logs`. */
export function captureLogger(): { logger: Logger; logs: Record<string, unknown>[] } {
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString().split('\n')) if (line) logs.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: pino({ level: 'warn' }, sink), logs };
}

export interface Harness {
  server: DhcpServer;
  store: MemoryLeaseRepository;
  events: BootEvent[];
  clock: { t: number };
  send(buf: Uint8Array, meta?: DhcpRequestMeta): Promise<DhcpReply[]>;
  /** Sends and decodes the single reply (fails the test otherwise). */
  one(buf: Uint8Array, meta?: DhcpRequestMeta): Promise<{ reply: DhcpReply; p: DhcpPacket; type: number | undefined }>;
}

export async function harness(cfg: DhcpConfig, opts: Partial<DhcpServerOptions> & { store?: MemoryLeaseRepository; clock?: { t: number } } = {}): Promise<Harness> {
  const clock = opts.clock ?? { t: 1_800_000_000_000 };
  const store = opts.store ?? new MemoryLeaseRepository([], () => clock.t);
  const bus = new EventBus();
  const events: BootEvent[] = [];
  bus.subscribe((e) => events.push(e));
  const server = await DhcpServer.create({ config: cfg, leases: store, logger: silentLogger(), events: bus, now: () => clock.t, httpPort: 8080, ...opts });
  const send = (buf: Uint8Array, meta: DhcpRequestMeta = meta67): Promise<DhcpReply[]> => server.handle(buf, meta);
  return {
    server,
    store,
    events,
    clock,
    send,
    async one(buf, meta = meta67) {
      const replies = await send(buf, meta);
      if (replies.length !== 1) throw new Error(`expected one reply, got ${replies.length}; counters ${JSON.stringify(server.counters())}`);
      const reply = replies[0]!;
      const d = decodeDhcp(reply.data);
      if (!d.ok) throw new Error(`reply does not decode: ${d.error.message}`);
      return { reply, p: d.packet, type: messageType(d.packet) };
    },
  };
}

/** DISCOVER then REQUEST (SELECTING); returns the ACKed address. */
export async function dora(h: Harness, mac: string, extra: [number, Uint8Array][] = [], meta: DhcpRequestMeta = meta67, giaddr?: string): Promise<string> {
  const g = giaddr === undefined ? {} : { giaddr };
  const offer = await h.one(request({ type: 1, mac, options: extra, ...g }), meta);
  if (offer.type !== 2) throw new Error(`expected OFFER, got ${offer.type}`);
  const ack = await h.one(request({ type: 3, mac, options: [...extra, opt.requestedIp(offer.p.yiaddr), opt.serverId(SERVER)], ...g }), meta);
  if (ack.type !== 5) throw new Error(`expected ACK, got ${ack.type}`);
  return ack.p.yiaddr;
}
