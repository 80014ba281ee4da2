// bench/dhcp: perfdhcp against Kea (memfile, leases persisted) and against bootherd (SQLite store,
// durable leases), one after the other in the same run, each in fresh namespaces; prints both and
// their ratio. Not a test: numbers vary 15 % or more between runs on a shared machine.
//
//   sudo node_modules/.bin/node bench/dhcp/index.ts [--clients 10000] [--peak-seconds 10] [--only kea|bootherd] [--parts peak,burst] [--rate N]
//   BENCH_SERVE_NODE_OPTIONS='--cpu-prof --cpu-prof-dir=DIR' gives the server's Node options (profiling; DIR writable by nobody).
//
// Measures, per server:
//   peak     perfdhcp unpaced for --peak-seconds: completed DORAs per second ("Rate");
//   burst    --clients new clients at once, each retrying (1 s timeout, up to 10 tries) until ACKed:
//            the time until every one of them holds an ACK. perfdhcp never retransmits, so under a
//            burst it counts drops instead of finishing; this part uses the project's relay-mode load
//            client (test/helpers/dhcp-load-client.ts), the same for both servers.
// Needs root (namespaces) and the apt packages kea-dhcp4-server and kea-admin (perfdhcp).
import { chmodSync, closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { NetLab, canUseNetns } from '../../test/helpers/netns.ts';
import { LineReader, startLoadClient, tempDir } from '../../test/helpers/dhcp-lab.ts';
import { BOOTHERD } from '../../test/helpers/bootherd.ts';
import { requireTool } from '../../test/helpers/dhcp-clients.ts';
import { runPerfdhcp } from '../../test/helpers/perfdhcp.ts';
import type { PerfdhcpReport } from '../../test/helpers/perfdhcp.ts';

const { values } = parseArgs({
  options: {
    clients: { type: 'string', default: '10000' },
    'peak-seconds': { type: 'string', default: '10' },
    only: { type: 'string' },
    window: { type: 'string', default: '1000' },
    parts: { type: 'string', default: 'peak,burst' },
    rate: { type: 'string' },
  },
});
const CLIENTS = Number(values.clients);
const PEAK_S = Number(values['peak-seconds']);
const PARTS = new Set((values.parts ?? '').split(','));
/** --rate N: perfdhcp paced at N exchanges/s instead of unpaced (latency at light load). */
const RATE = values.rate === undefined ? [] : ['-r', String(Number(values.rate))];
const SERVER = '198.18.0.1';
const SUBNET = '198.18.0.0/17';
const POOL = { start: '198.18.1.0', end: '198.18.127.254' };

interface Result {
  server: string;
  peak: number;
  burstAcked: number;
  burstSeconds: number;
}

interface Running {
  stop(): Promise<void>;
}

async function startKea(lab: NetLab, ns: string, dir: string): Promise<Running> {
  const conf = {
    Dhcp4: {
      'interfaces-config': { interfaces: ['lan0'], 'dhcp-socket-type': 'udp' },
      'lease-database': { type: 'memfile', persist: true, name: join(dir, 'kea-leases4.csv'), 'lfc-interval': 0 },
      'valid-lifetime': 3600,
      subnet4: [{ id: 1, subnet: SUBNET, pools: [{ pool: `${POOL.start} - ${POOL.end}` }] }],
      loggers: [{ name: 'kea-dhcp4', output_options: [{ output: 'stderr' }], severity: 'WARN' }],
    },
  };
  const file = join(dir, 'kea-dhcp4.conf');
  writeFileSync(file, JSON.stringify(conf));
  // Kea runs only inside the benchmark's namespace, bound to lan0, with its pid/lock files in the temp dir.
  const child = lab.spawn(ns, 'kea-dhcp4', ['-c', file], { env: { ...process.env, KEA_PIDFILE_DIR: dir, KEA_LOCKFILE_DIR: dir }, stdio: ['ignore', 'pipe', 'pipe'] });
  const reader = new LineReader(child);
  // Kea is ready once its socket is bound; poll for it.
  for (let i = 0; i < 100; i++) {
    const ss = lab.exec(ns, 'ss', ['-uln', 'sport', '= :67']);
    if (ss.includes(':67')) break;
    if (child.exitCode !== null) throw new Error(`kea-dhcp4 exited: ${reader.stderr.join('')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGTERM');
      await reader.exited;
    },
  };
}

/**
 * bootherd as an operator runs it: `bootherd serve --config FILE` (DHCP only: TFTP and HTTP off),
 * started as root, serving as nobody, at the default log level (info: every boot event is logged and
 * stored). Its log goes to a file in the run's temporary directory (BENCH_SERVE_LOG to keep it).
 */
async function startBootherd(lab: NetLab, ns: string, dir: string): Promise<Running> {
  chmodSync(dir, 0o755); // nobody must reach the state directory below it
  const config = {
    state_dir: join(dir, 'state'),
    user: 'nobody',
    log: { level: process.env.BENCH_LOG_LEVEL ?? 'info', format: 'json' },
    interfaces: [{ name: 'lan0', mode: 'full' }],
    tftp: { enabled: false },
    http: { enabled: false },
    dhcp: { subnets: [{ subnet: SUBNET, lease_time: 3600, pools: [POOL] }] },
  };
  const file = join(dir, 'bootherd.yaml');
  writeFileSync(file, JSON.stringify(config, null, 2)); // JSON is YAML
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('BOOTHERD_')) env[k] = v;
  // BENCH_SERVE_NODE_OPTIONS reaches only the server's Node (e.g. `--cpu-prof --cpu-prof-dir=DIR`,
  // DIR writable by nobody), not the benchmark's own.
  if (process.env.BENCH_SERVE_NODE_OPTIONS !== undefined) env.NODE_OPTIONS = process.env.BENCH_SERVE_NODE_OPTIONS;
  // The log goes to a file, not a pipe: bootherd writes its log synchronously, so a pipe that the
  // benchmark drains too slowly would stall it and the benchmark would measure the pipe.
  const logFile = process.env.BENCH_SERVE_LOG ?? join(dir, 'serve.log');
  const fd = openSync(logFile, 'w');
  const child = lab.spawn(ns, BOOTHERD, ['serve', '--config', file], { stdio: ['ignore', fd, fd], env });
  closeSync(fd);
  const exited = once(child, 'exit');
  for (let waited = 0; ; waited += 100) {
    const log = readFileSync(logFile, 'utf8');
    if (log.includes('"event":"ready"')) break;
    if (child.exitCode !== null || waited > 30_000) throw new Error(`bootherd serve did not get ready (${child.exitCode === null ? 'no readiness line within 30 s' : `exit ${child.exitCode}`}):\n${log.slice(-4000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGTERM');
      await exited;
    },
  };
}

async function withServer<T>(name: string, start: (lab: NetLab, ns: string, dir: string) => Promise<Running>, body: (lab: NetLab, cliNs: string) => Promise<T>): Promise<T> {
  const lab = new NetLab();
  const dir = tempDir(`bench-${name}`);
  try {
    const srvNs = lab.ns('srv');
    const cliNs = lab.ns('cli');
    lab.veth({ ns: srvNs, ifname: 'lan0', addr: `${SERVER}/17` }, { ns: cliNs, ifname: 'c0', addr: '198.18.0.2/17' });
    const server = await start(lab, srvNs, dir.path);
    try {
      return await body(lab, cliNs);
    } finally {
      await server.stop();
    }
  } finally {
    await lab.destroy();
    dir.cleanup();
  }
}

async function measure(name: string, start: (lab: NetLab, ns: string, dir: string) => Promise<Running>): Promise<Result> {
  let peak: PerfdhcpReport | undefined;
  if (PARTS.has('peak')) {
    process.stderr.write(`${name}: peak (perfdhcp ${RATE.length > 0 ? `at ${RATE[1]}/s` : 'unpaced'}, ${PEAK_S} s)...\n`);
    peak = await withServer(name, start, (lab, cliNs) =>
      runPerfdhcp(lab, cliNs, ['-4', '-l', 'c0', '-R', String(CLIENTS), ...RATE, '-p', String(PEAK_S), SERVER], (PEAK_S + 60) * 1000),
    );
    if (!(Number(peak.rate) > 0)) process.stderr.write(`${name}: perfdhcp rate ${peak.rate}:\n${peak.raw}\n`);
    const x = (e: PerfdhcpReport['discoverOffer']): string => `sent ${e.sent}, answered ${e.received}, drops ${e.drops}, avg delay ${e.avgDelayMs} ms`;
    process.stderr.write(`${name}: DISCOVER-OFFER ${x(peak.discoverOffer)}; REQUEST-ACK ${x(peak.requestAck)}\n`);
  }
  let burst: Record<string, unknown> = { acks: 0, ms: Number.NaN };
  if (PARTS.has('burst')) {
    process.stderr.write(`${name}: ${CLIENTS} new clients at once, until all are ACKed...\n`);
    burst = await withServer(name, start, async (lab, cliNs) => {
      const c = startLoadClient(lab, cliNs, { mode: 'dora', server: SERVER, relay: '198.18.0.2', count: CLIENTS, concurrency: Number(values.window), timeoutMs: 1000, tries: 10 });
      return c.waitFor((l) => l.done === true, 600_000, 'the burst');
    });
  }
  return { server: name, peak: peak?.rate ?? 0, burstAcked: Number(burst.acks), burstSeconds: Number(burst.ms) / 1000 };
}

if (!canUseNetns()) {
  console.error('bench/dhcp needs root (it creates network namespaces)');
  process.exit(2);
}
requireTool('perfdhcp', 'kea-admin');
requireTool('kea-dhcp4', 'kea-dhcp4-server');

const results: Result[] = [];
if (values.only !== 'bootherd') results.push(await measure('kea', startKea));
if (values.only !== 'kea') results.push(await measure('bootherd', startBootherd));

const pad = (s: string, n: number): string => s.padEnd(n);
console.log(`\nDHCP benchmark: perfdhcp (relay), ${CLIENTS} clients, durable leases (Kea memfile persist=true; bootherd SQLite)`);
console.log(`${pad('server', 10)} ${pad('peak DORA/s', 12)} ${pad(`${CLIENTS} at once: ACKed`, 22)} all ACKed in (s)`);
for (const r of results) console.log(`${pad(r.server, 10)} ${pad(r.peak.toFixed(0), 12)} ${pad(String(r.burstAcked), 22)} ${r.burstAcked === CLIENTS ? r.burstSeconds.toFixed(2) : `not all (${r.burstSeconds.toFixed(2)} s)`}`);
const kea = results.find((r) => r.server === 'kea');
const bh = results.find((r) => r.server === 'bootherd');
if (kea !== undefined && bh !== undefined) {
  console.log(`ratio bootherd/kea: peak ${(bh.peak / kea.peak).toFixed(2)}x; ${CLIENTS} at once ${(kea.burstSeconds / bh.burstSeconds).toFixed(2)}x (kea time / bootherd time; > 1 = bootherd faster)`);
}
