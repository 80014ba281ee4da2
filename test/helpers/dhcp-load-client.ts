// A bounded DHCP load client that acts as a relay (like perfdhcp): it sends from <relay>:67 to
// <server>:67 with giaddr = <relay> and receives the replies on <relay>:67. Run it inside a test
// namespace. Every result is written to stdout as one JSON line the moment it is known (sync write),
// so a test that kills the server mid-run still has every ACK the client saw.
//
//   dora:   node dhcp-load-client.ts dora   --server IP --relay IP --count N [--first K] [--concurrency C] [--timeout-ms T] [--tries R] [--backoff]
//           -> {"ack":"<mac>","ip":"<yiaddr>","server":"<opt 54>"} per ACK, {"fail":"<mac>","stage":"offer|ack|nak"} per failure
//   reboot: node dhcp-load-client.ts reboot --server IP --relay IP < lines of {"mac":..,"ip":..}
//           INIT-REBOOT: REQUEST with option 50 = ip, ciaddr 0, no server id
//           -> {"reboot":"<mac>","asked":"<ip>","result":"ack"|"nak"|"timeout","ip":"<yiaddr>"}
// Each exchange is sent up to R times, waiting T ms for the answer; with --backoff the wait doubles
// after each try (T, 2T, 4T, ...), as firmware does. Ends with {"done":true,...counts}. The run is
// bounded: count, tries and timeouts are finite.
import dgram from 'node:dgram';
import { writeSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { MSG, OPT, encodeClient, ip, macFor, readReply } from './dhcp-packets.ts';
import type { ReadReply } from './dhcp-packets.ts';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    server: { type: 'string' },
    relay: { type: 'string' },
    count: { type: 'string', default: '100' },
    first: { type: 'string', default: '1' },
    concurrency: { type: 'string', default: '32' },
    'timeout-ms': { type: 'string', default: '2000' },
    tries: { type: 'string', default: '3' },
    backoff: { type: 'boolean', default: false },
    'mac-prefix': { type: 'string', default: '66' },
  },
});
const mode = positionals[0];
const server = values.server!;
const relay = values.relay!;
const timeoutMs = Number(values['timeout-ms']);
const tries = Number(values.tries);
const backoff = values.backoff === true;
const concurrency = Number(values.concurrency);
const macPrefix = Number(values['mac-prefix']);
if ((mode !== 'dora' && mode !== 'reboot') || server === undefined || relay === undefined) {
  console.error('usage: dhcp-load-client.ts dora|reboot --server IP --relay IP ...');
  process.exit(2);
}

const out = (o: Record<string, unknown>): void => {
  writeSync(1, `${JSON.stringify(o)}\n`);
};

const sock = dgram.createSocket('udp4');
const pending = new Map<number, (r: ReadReply) => void>();
sock.on('message', (msg) => {
  const r = readReply(msg);
  if (r === undefined) return;
  const w = pending.get(r.packet.xid);
  if (w !== undefined) w(r);
});
await new Promise<void>((resolve) => sock.bind(67, relay, resolve));
sock.setRecvBufferSize(4 * 1024 * 1024);

let nextXid = (process.pid * 7919) >>> 0;
/** Sends `build(xid)` and waits for a reply with that xid and an accepted type; retries with a new send. */
async function exchange(build: (xid: number) => Buffer, accept: number[]): Promise<ReadReply | undefined> {
  const xid = (nextXid = (nextXid + 1) >>> 0);
  for (let t = 0; t < tries; t++) {
    const reply = await new Promise<ReadReply | undefined>((resolve) => {
      const timer = setTimeout(() => {
        pending.delete(xid);
        resolve(undefined);
      }, backoff ? timeoutMs * 2 ** t : timeoutMs);
      pending.set(xid, (r) => {
        if (r.type === undefined || !accept.includes(r.type)) return;
        clearTimeout(timer);
        pending.delete(xid);
        resolve(r);
      });
      sock.send(build(xid), 67, server);
    });
    if (reply !== undefined) return reply;
  }
  return undefined;
}

const counts = { acks: 0, naks: 0, fails: 0 };

async function dora(mac: string): Promise<void> {
  const offer = await exchange((xid) => encodeClient({ type: MSG.DISCOVER, mac, xid, giaddr: relay }), [MSG.OFFER]);
  if (offer === undefined) {
    counts.fails++;
    return out({ fail: mac, stage: 'offer' });
  }
  const offered = offer.packet.yiaddr;
  const sid = offer.serverId ?? server;
  const ack = await exchange(
    (xid) => encodeClient({ type: MSG.REQUEST, mac, xid, giaddr: relay, options: [[OPT.REQUESTED_IP, ip(offered)], [OPT.SERVER_ID, ip(sid)]] }),
    [MSG.ACK, MSG.NAK],
  );
  if (ack === undefined || ack.type !== MSG.ACK) {
    counts.fails++;
    if (ack?.type === MSG.NAK) counts.naks++;
    return out({ fail: mac, stage: ack === undefined ? 'ack' : 'nak' });
  }
  counts.acks++;
  out({ ack: mac, ip: ack.packet.yiaddr, server: ack.serverId });
}

async function reboot(mac: string, asked: string): Promise<void> {
  const r = await exchange((xid) => encodeClient({ type: MSG.REQUEST, mac, xid, giaddr: relay, options: [[OPT.REQUESTED_IP, ip(asked)]] }), [MSG.ACK, MSG.NAK]);
  const result = r === undefined ? 'timeout' : r.type === MSG.ACK ? 'ack' : 'nak';
  if (result === 'ack') counts.acks++;
  else if (result === 'nak') counts.naks++;
  else counts.fails++;
  out({ reboot: mac, asked, result, ip: r?.packet.yiaddr });
}

async function pool<T>(items: T[], fn: (x: T) => Promise<void>): Promise<void> {
  let i = 0;
  await Promise.all(
    Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, async () => {
      while (i < items.length) await fn(items[i++]!);
    }),
  );
}

const started = Date.now();
if (mode === 'dora') {
  const first = Number(values.first);
  const macs = Array.from({ length: Number(values.count) }, (_, k) => macFor(first + k, macPrefix));
  await pool(macs, dora);
} else {
  const items = readFileSync(0, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as { mac: string; ip: string });
  await pool(items, (x) => reboot(x.mac, x.ip));
}
out({ done: true, ...counts, ms: Date.now() - started });
sock.close();
