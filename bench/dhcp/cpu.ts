// bench/dhcp/cpu.ts: the DHCP server's own CPU cost per DORA, in process, without sockets, store or
// log (MemoryLeaseRepository, events counted and dropped). Isolates the hot path (decode, lease table,
// boot decision, encode, event details) from the machine's noise; profile it with --cpu-prof.
//
//   node_modules/.bin/node bench/dhcp/cpu.ts [--clients 20000] [--rounds 3]
// Prints microseconds of CPU per DORA (DISCOVER + REQUEST, both answered) for each round.
import { parseArgs } from 'node:util';
import { encodeDhcp } from '../../src/protocol/dhcp/packet.ts';
import type { DhcpPacket } from '../../src/protocol/dhcp/packet.ts';
import { OPT, encodeIp } from '../../src/protocol/dhcp/options.ts';
import { DhcpServer } from '../../src/dhcp/server.ts';
import type { DhcpRequestMeta } from '../../src/dhcp/server.ts';
import { MemoryLeaseRepository } from '../../src/store/index.ts';
import { EventBus } from '../../src/events/bus.ts';
import { silentLogger } from '../../src/log/logger.ts';

const { values } = parseArgs({ options: { clients: { type: 'string', default: '20000' }, rounds: { type: 'string', default: '3' } } });
const CLIENTS = Number(values.clients);
const SERVER = '198.18.0.1';
const RELAY = '198.18.0.2';

/** What perfdhcp sends (relayed): message type, plus server id and requested address in a REQUEST. */
function packet(type: number, n: number, extra: [number, Uint8Array][] = []): Buffer {
  const chaddr = new Uint8Array(16);
  chaddr.set([0x00, 0x0c, (n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
  const p: DhcpPacket = {
    op: 1, htype: 1, hlen: 6, hops: 1, xid: n, secs: 0, flags: 0,
    ciaddr: '0.0.0.0', yiaddr: '0.0.0.0', siaddr: '0.0.0.0', giaddr: RELAY, chaddr, sname: '', file: '',
    options: new Map([[OPT.MESSAGE_TYPE, Uint8Array.of(type)], [OPT.PARAMETER_REQUEST_LIST, Uint8Array.of(1, 3, 6, 15, 51)], ...extra]),
    duplicateOptions: [],
  };
  return encodeDhcp(p, { maxSize: 1500 });
}

const meta: DhcpRequestMeta = { interface: 'lan0', localAddress: SERVER, port: 67, source: { address: RELAY, port: 67 } };
for (let round = 0; round < Number(values.rounds); round++) {
  const events = new EventBus();
  let emitted = 0;
  events.subscribe(() => emitted++);
  const server = await DhcpServer.create({
    config: { subnets: [{ subnet: '198.18.0.0/17', lease_time: 3600, pools: [{ start: '198.18.1.0', end: '198.18.127.254' }] }], interfaces: [{ name: 'lan0', mode: 'full' }] } as never,
    leases: new MemoryLeaseRepository(),
    logger: silentLogger(),
    events,
  });
  const discovers = Array.from({ length: CLIENTS }, (_, i) => packet(1, i + round * CLIENTS));
  let acked = 0;
  const c0 = process.cpuUsage();
  for (let i = 0; i < CLIENTS; i++) {
    const [offer] = await server.handle(discovers[i]!, meta);
    if (offer === undefined) continue;
    const ip = `${offer.data[16]}.${offer.data[17]}.${offer.data[18]}.${offer.data[19]}`;
    const [ack] = await server.handle(packet(3, i + round * CLIENTS, [[OPT.SERVER_ID, encodeIp(SERVER)], [OPT.REQUESTED_IP, encodeIp(ip)]]), meta);
    if (ack !== undefined) acked++;
  }
  const c = process.cpuUsage(c0);
  console.log(`round ${round}: ${acked}/${CLIENTS} ACKed, ${emitted} events, ${((c.user + c.system) / CLIENTS).toFixed(1)} µs CPU per DORA (incl. building the REQUEST)`);
}
