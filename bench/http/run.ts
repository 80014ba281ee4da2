// HTTP benchmark: bootherd against nginx (Debian package nginx, one worker, sendfile on, its own
// config, loopback only) on the same work with the same wrk parameters, in one run. bootherd runs
// as an operator runs it: `bin/bootherd serve` with a SQLite store, every boot event logged as a
// JSON line (to a file, as journald would take it) and stored, and a host record with a profile in
// the store, so /boot.ipxe?mac=... takes the whole dynamic path (lookup, plan, render). nginx serves
// a static copy of the very bytes that script renders to. Every child is started here and stopped
// by its PID. Bounded: about two minutes with the default 5 s per case.
// Usage: node bench/http/run.ts [--seconds N] [--rounds N] [--large-only] [--small-only] [--profile DIR]
//   --profile DIR: run bootherd with --cpu-prof, profiles written to DIR (for finding hot paths).
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStore } from '../../src/store/index.ts';
import { silentLogger } from '../../src/log/logger.ts';

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const SECONDS = Number(arg('--seconds') ?? 5);
/** Rounds per case; each cell is the median (nginx and bootherd alternate within a round). */
const ROUNDS = Number(arg('--rounds') ?? 3);
const LARGE_ONLY = process.argv.includes('--large-only');
const SMALL_ONLY = process.argv.includes('--small-only');
const PROFILE_DIR = arg('--profile');
const NODE = process.execPath;
const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const MAC = '52:54:00:be:4c:01';

for (const [cmd, pkg] of [['wrk', 'wrk'], ['nginx', 'nginx'], ['curl', 'curl']]) {
  if (spawnSync('sh', ['-c', `command -v ${cmd} || test -x /usr/sbin/${cmd}`]).status !== 0) throw new Error(`${cmd} is missing: apt-get install ${pkg}`);
}

const dir = mkdtempSync(join(tmpdir(), 'bh-bench-http-'));
chmodSync(dir, 0o755);
const root = join(dir, 'root');
mkdirSync(root);
writeFileSync(join(root, 'small.bin'), randomBytes(1024));
writeFileSync(join(root, 'large.bin'), randomBytes(32 * 1024 * 1024));
chmodSync(root, 0o755);
const children: ChildProcess[] = [];

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A state directory whose store holds one profile and one active host with that profile. */
async function prepareState(name: string): Promise<string> {
  const state = join(dir, name);
  mkdirSync(state, { recursive: true });
  const store = await openStore(`sqlite:${join(state, 'bootherd.db')}`, { logger: silentLogger() });
  await store.migrate();
  const p = await store.profiles.create({
    name: 'debian-12',
    spec: {
      kind: 'linux',
      kernel: 'debian/12/linux',
      initrd: ['debian/12/initrd.gz', 'debian/12/firmware.cpio.gz'],
      // A realistic preseeded command line, long enough that the script is about 1 KiB.
      cmdline:
        'console=ttyS0,115200n8 console=tty0 auto=true priority=critical preseed/url=http://198.18.0.1:8080/preseed.cfg netcfg/choose_interface=auto netcfg/get_hostname=node01 netcfg/get_domain=lab.example debian-installer/locale=en_US.UTF-8 keyboard-configuration/xkb-keymap=us mirror/http/hostname=deb.debian.org mirror/http/directory=/debian partman-auto/method=lvm partman-auto/choose_recipe=atomic partman/confirm=true grub-installer/bootdev=default apparmor=0 ipv6.disable=1 net.ifnames=0 quiet',
    },
  });
  await store.hosts.create({ macs: [MAC], hostname: 'node01', state: 'active', profileId: p.id });
  await store.close();
  return state;
}

/** `bootherd serve` on loopback (HTTP only); resolves with its port once it logs that it is ready. */
async function startServe(name: string, httpExtra: string[], logExtra: string[] = []): Promise<number> {
  const state = await prepareState(name);
  const port = await freePort();
  const cfg = join(dir, `${name}.yaml`);
  writeFileSync(cfg, [`state_dir: ${state}`, `boot_root: ${root}`, 'user: root', 'log:', '  format: json', ...logExtra.map((l) => `  ${l}`), 'tftp:', '  enabled: false', 'http:', '  address: 127.0.0.1', `  port: ${port}`, '  max_connections_per_ip: 1024', ...httpExtra.map((l) => `  ${l}`), ''].join('\n'));
  const logFile = join(dir, `${name}.log`);
  const fd = openSync(logFile, 'a');
  const prof = PROFILE_DIR !== undefined ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`, `--cpu-prof-name=${name}.cpuprofile`] : [];
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('BOOTHERD_')) env[k] = v;
  const child = spawn(NODE, [...prof, MAIN, 'serve', '--config', cfg], { stdio: ['ignore', fd, 'inherit'], env });
  closeSync(fd);
  children.push(child);
  let exited = false;
  child.once('exit', () => (exited = true));
  for (let i = 0; i < 600 && !exited; i++) {
    if (readFileSync(logFile, 'utf8').includes('"event":"ready"')) return port;
    await sleep(50);
  }
  throw new Error(`bootherd serve (${name}) did not become ready: see ${logFile}`);
}

async function startNginx(): Promise<number> {
  const port = await freePort();
  const prefix = join(dir, 'nginx');
  mkdirSync(prefix, { recursive: true });
  const conf = join(prefix, 'nginx.conf');
  writeFileSync(
    conf,
    `worker_processes 1;
daemon off;
master_process on;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 100000;
  client_body_temp_path ${prefix}/body; proxy_temp_path ${prefix}/proxy; fastcgi_temp_path ${prefix}/fcgi; uwsgi_temp_path ${prefix}/uwsgi; scgi_temp_path ${prefix}/scgi;
  default_type application/octet-stream;
  server { listen 127.0.0.1:${port}; root ${root}; }
}
`,
  );
  const child = spawn('/usr/sbin/nginx', ['-p', prefix, '-c', conf], { stdio: ['ignore', 'inherit', 'inherit'] });
  children.push(child);
  for (let i = 0; i < 100; i++) {
    if (spawnSync('curl', ['-sf', '-o', '/dev/null', `http://127.0.0.1:${port}/small.bin`]).status === 0) return port;
    await sleep(50);
  }
  throw new Error('nginx did not start');
}

interface WrkResult {
  rps: number;
  mbps: number;
}

function wrk(port: number, path: string, conns: number): WrkResult {
  const r = spawnSync('wrk', ['-t1', `-c${conns}`, `-d${SECONDS}s`, '--latency', `http://127.0.0.1:${port}${path}`], { encoding: 'utf8', timeout: (SECONDS + 30) * 1000 });
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(r.stdout)?.[1] ?? NaN);
  const t = /Transfer\/sec:\s+([\d.]+)(\w+)/.exec(r.stdout);
  const unit = t?.[2] ?? 'B';
  const scale = unit.startsWith('G') ? 1024 : unit.startsWith('M') ? 1 : unit.startsWith('K') ? 1 / 1024 : 1 / (1024 * 1024);
  if (/Non-2xx|Socket errors: connect [1-9]/.test(r.stdout)) process.stderr.write(`warning (port ${port} ${path} c${conns}): ${r.stdout}\n`);
  return { rps, mbps: Number(t?.[1] ?? NaN) * scale };
}

/** Sequential curl downloads of the large file: MiB/s over `n` runs. */
function curlRate(port: number, n: number): number {
  let bytes = 0;
  let secs = 0;
  for (let i = 0; i < n; i++) {
    const r = spawnSync('curl', ['-sS', '-o', '/dev/null', '-w', '%{size_download} %{time_total}', `http://127.0.0.1:${port}/large.bin`], { encoding: 'utf8', timeout: 60_000 });
    const [b, s] = r.stdout.split(' ').map(Number);
    bytes += b ?? 0;
    secs += s ?? 0;
  }
  return bytes / (1024 * 1024) / secs;
}

const rows: string[][] = [];
const notes: string[] = [];
try {
  const bh = await startServe('serve', []);
  // The same server recording every script fetch as its own event (no per-client summaries).
  const bhEvery = LARGE_ONLY ? undefined : await startServe('serve-every-event', [], ['event_burst: 0']);
  // The same server with the hot-file cache off: files come from disk on every request.
  const bhStream = LARGE_ONLY || !SMALL_ONLY ? await startServe('serve-nocache', ['cache_size: 0']) : undefined;
  // nginx serves the exact bytes of the per-host script, as a static file of the same size.
  const script = spawnSync('curl', ['-sf', `http://127.0.0.1:${bh}/boot.ipxe?mac=${MAC}`], { encoding: 'buffer' });
  if (script.status !== 0 || !script.stdout.toString().includes('kernel ')) throw new Error(`bootherd did not render the host's script: ${script.stdout.toString()}`);
  writeFileSync(join(root, 'script.ipxe'), script.stdout);
  notes.push(`per-host script: ${script.stdout.length} bytes (nginx serves a copy as script.ipxe)`);
  const nginx = await startNginx();
  const fmt = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));
  const median = (xs: number[]): number => {
    const v = [...xs].sort((a, b) => a - b);
    return v.length % 2 === 1 ? v[(v.length - 1) / 2]! : (v[v.length / 2 - 1]! + v[v.length / 2]!) / 2;
  };
  /** Each server's median over ROUNDS rounds; within a round the servers take turns. */
  const rounds = (runs: (() => WrkResult)[]): WrkResult[] => {
    const got: WrkResult[][] = runs.map(() => []);
    for (let r = 0; r < ROUNDS; r++) runs.forEach((run, i) => got[i]!.push(run()));
    return got.map((g) => ({ rps: median(g.map((x) => x.rps)), mbps: median(g.map((x) => x.mbps)) }));
  };
  for (const c of LARGE_ONLY ? [] : [1, 16, 64]) {
    const [n, d, s] = rounds([() => wrk(nginx, '/script.ipxe', c), () => wrk(bh, `/boot.ipxe?mac=${MAC}`, c), () => wrk(bh, '/script.ipxe', c)]) as [WrkResult, WrkResult, WrkResult];
    rows.push([`iPXE script, wrk ${c} conn (req/s): per-host /boot.ipxe`, fmt(n.rps), fmt(d.rps), (d.rps / n.rps).toFixed(2)]);
    rows.push([`iPXE script, wrk ${c} conn (req/s): same bytes as a static file`, fmt(n.rps), fmt(s.rps), (s.rps / n.rps).toFixed(2)]);
  }
  if (!SMALL_ONLY && bhStream !== undefined) {
    const [n, b, s] = rounds([() => wrk(nginx, '/large.bin', 16), () => wrk(bh, '/large.bin', 16), () => wrk(bhStream, '/large.bin', 16)]) as [WrkResult, WrkResult, WrkResult];
    rows.push(['32 MiB, wrk 16 conn (MiB/s), cached', fmt(n.mbps), fmt(b.mbps), (b.mbps / n.mbps).toFixed(2)]);
    rows.push(['32 MiB, wrk 16 conn (MiB/s), from disk', fmt(n.mbps), fmt(s.mbps), (s.mbps / n.mbps).toFixed(2)]);
    const cn = curlRate(nginx, 5);
    const cb = curlRate(bh, 5);
    const cs = curlRate(bhStream, 5);
    rows.push(['32 MiB, curl x5 sequential (MiB/s), cached', fmt(cn), fmt(cb), (cb / cn).toFixed(2)]);
    rows.push(['32 MiB, curl x5 sequential (MiB/s), from disk', fmt(cn), fmt(cs), (cs / cn).toFixed(2)]);
  }
  // Its own phase, after the others: recording every request writes hundreds of MiB of log and
  // store, whose write-back would otherwise land in the neighbouring measurements.
  for (const c of LARGE_ONLY ? [] : [1, 16, 64]) {
    const [n, e] = rounds([() => wrk(nginx, '/script.ipxe', c), () => wrk(bhEvery!, `/boot.ipxe?mac=${MAC}`, c)]) as [WrkResult, WrkResult];
    rows.push([`iPXE script, wrk ${c} conn (req/s): per-host, every fetch an event`, fmt(n.rps), fmt(e.rps), (e.rps / n.rps).toFixed(2)]);
  }
  const mib = (name: string): string => (statSync(join(dir, `${name}.log`)).size / 1024 / 1024).toFixed(1);
  notes.push(`bootherd serve wrote ${mib('serve')} MiB of JSON log lines during the run (default event_burst: a client repeating one fetch is summarised past 20 per 10 s)`);
  if (bhEvery !== undefined) notes.push(`with log.event_burst: 0 (every fetch its own event, logged and stored) it wrote ${mib('serve-every-event')} MiB`);
} finally {
  // SIGINT: bootherd stops cleanly (and writes its CPU profile when asked to).
  for (const c of children) if (c.pid !== undefined && c.exitCode === null) process.kill(c.pid, 'SIGINT');
  for (let i = 0; i < 100 && children.some((c) => c.exitCode === null && c.signalCode === null); i++) await sleep(100);
  for (const c of children) if (c.pid !== undefined && c.exitCode === null && c.signalCode === null) process.kill(c.pid, 'SIGKILL');
  rmSync(dir, { recursive: true, force: true });
}

const header = ['case', 'nginx', 'bootherd', 'ratio'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
console.log(`wrk -t1, ${SECONDS} s per case, median of ${ROUNDS} rounds; nginx 1 worker (sendfile on), bootherd serve 1 process (events logged and stored); loopback; ${new Date().toISOString()}`);
for (const n of notes) console.log(`- ${n}`);
console.log(line(header));
console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
for (const r of rows) console.log(line(r));
