// TFTP benchmark: bootherd against atftpd, tftpd-hpa and dnsmasq on the same files with the same
// client (atftp) in one run, on loopback. Single transfers pin server and client to one core
// (BENCH.md). Usage (as root): node bench/tftp/run.ts [--quick] [--rounds N] [--only …] [--points …]
// Peers listen on 127.0.0.1 only; dnsmasq runs with DNS and DHCP off. Every process started
// here is stopped by its PID.
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dgram from 'node:dgram';
import { decodePacket, encodeAck, encodeRequest } from '../../src/protocol/tftp/packets.ts';

const quick = process.argv.includes('--quick');
const onlyArg = process.argv.indexOf('--only');
const only = onlyArg >= 0 ? new Set((process.argv[onlyArg + 1] ?? '').split(',')) : undefined;
const roundsArg = process.argv.indexOf('--rounds');
/** Rounds per point (median reported): 3 by default, 1 with --quick, --rounds N to narrow the spread. */
const REPEAT = roundsArg >= 0 ? Math.max(1, Number(process.argv[roundsArg + 1])) : quick ? 1 : 3;
const pointsArg = process.argv.indexOf('--points');
/** Indexes of the points to run (0-based, comma-separated), e.g. --points 0,1; default all. */
const onlyPoints = pointsArg >= 0 ? new Set((process.argv[pointsArg + 1] ?? '').split(',').map(Number)) : undefined;
const CORE = '1';
const MIB = 1024 * 1024;
const here = import.meta.dirname;

function which(bin: string, extra: string[] = []): string | undefined {
  for (const p of [...extra]) if (existsSync(p)) return p;
  try {
    return execFileSync('sh', ['-c', `command -v ${bin}`], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

function isTftpHpa(bin: string): boolean {
  if (!existsSync(bin)) return false;
  try {
    // in.tftpd -V prints its version on stderr and exits non-zero.
    return /tftp-hpa/.test(execFileSync(bin, ['-V'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }));
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    return /tftp-hpa/.test(`${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}

const dir = mkdtempSync(join(tmpdir(), 'bh-bench-'));
chmodSync(dir, 0o755);
const root = join(dir, 'root');
execFileSync('mkdir', ['-m', '755', root]);
writeFileSync(join(root, 'big32.bin'), randomBytes(32 * MIB), { mode: 0o644 });
writeFileSync(join(root, 'four.bin'), randomBytes(4 * MIB), { mode: 0o644 });
const outDir = existsSync('/dev/shm') ? mkdtempSync('/dev/shm/bh-bench-') : mkdtempSync(join(dir, 'out-'));

interface Server {
  name: string;
  port: number;
  windowsize: boolean;
  start: () => ChildProcess;
}

const atftpd = which('atftpd');
// Debian's atftpd package ships /usr/sbin/in.tftpd as a symlink to atftpd, which refuses
// tftpd-hpa's options (exit 1, "unrecognized option"): take only a binary that says it is tftp-hpa.
const inTftpd = ['/opt/tftpd-hpa/usr/sbin/in.tftpd', '/usr/sbin/in.tftpd'].find(isTftpHpa);
const dnsmasq = which('dnsmasq');
const servers: Server[] = [
  {
    name: 'bootherd',
    port: 6901,
    windowsize: true,
    start: () => spawn('taskset', ['-c', CORE, process.execPath, join(here, '../../test/helpers/tftp-serve.ts'), root, '127.0.0.1', '6901', JSON.stringify({ maxSessionsPerIp: 2000, maxSessions: 4000 })], { stdio: ['ignore', 'pipe', 'inherit'] }),
  },
];
if (atftpd) servers.push({ name: 'atftpd', port: 6902, windowsize: true, start: () => spawn('taskset', ['-c', CORE, atftpd, '--daemon', '--no-fork', '--user', 'nobody', '--group', 'nogroup', '--port', '6902', '--bind-address', '127.0.0.1', '--maxthread', '1100', '--logfile', '/dev/null', root], { stdio: 'ignore' }) });
else console.error('atftpd missing (apt-get install atftpd): skipped');
if (inTftpd) servers.push({ name: 'tftpd-hpa', port: 6903, windowsize: false, start: () => spawn('taskset', ['-c', CORE, inTftpd, '--foreground', '--listen', '--address', '127.0.0.1:6903', '--secure', '--user', 'nobody', root], { stdio: 'ignore' }) });
else console.error('in.tftpd missing (tftpd-hpa; it conflicts with atftpd, so: apt-get download tftpd-hpa && dpkg -x tftpd-hpa_*.deb /opt/tftpd-hpa): skipped');
if (dnsmasq) servers.push({ name: 'dnsmasq', port: 69, windowsize: false, start: () => spawn('taskset', ['-c', CORE, dnsmasq, '--no-daemon', '--conf-file=/dev/null', '--port=0', '--enable-tftp', `--tftp-root=${root}`, '--listen-address=127.0.0.1', '--bind-interfaces', '--tftp-max=1100', '--user=nobody', '--pid-file='], { stdio: 'ignore' }) });
else console.error('dnsmasq missing (apt-get install dnsmasq): skipped');

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function atftp(port: number, file: string, out: string, opts: string[][], pin: boolean): Promise<void> {
  const args = [...opts.flatMap(([k, v]) => ['--option', `${k} ${v}`]), '-g', '-r', file, '-l', out, '127.0.0.1', String(port)];
  const child = pin ? spawn('taskset', ['-c', CORE, 'atftp', ...args], { stdio: 'ignore' }) : spawn('atftp', args, { stdio: 'ignore' });
  return new Promise((resolve, reject) => child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`atftp exit ${code}`)))));
}

async function single(s: Server, opts: string[][]): Promise<number> {
  const out = join(outDir, `${s.name}.out`);
  const t0 = performance.now();
  await atftp(s.port, 'big32.bin', out, opts, true);
  const dt = (performance.now() - t0) / 1000;
  if (statSync(out).size !== 32 * MIB) throw new Error(`${s.name}: short file`);
  rmSync(out);
  return 32 / dt;
}

async function concurrent(s: Server, n: number): Promise<number> {
  const t0 = performance.now();
  await Promise.all(Array.from({ length: n }, (_, i) => atftp(s.port, 'four.bin', join(outDir, `${s.name}-${i}.out`), [['blksize', '1468']], false)));
  const dt = (performance.now() - t0) / 1000;
  for (let i = 0; i < n; i++) {
    const f = join(outDir, `${s.name}-${i}.out`);
    if (statSync(f).size !== 4 * MIB) throw new Error(`${s.name}: short file in concurrent run`);
    rmSync(f);
  }
  return (4 * n) / dt;
}

/** RSS of the server with `n` sessions open at once (each got its OACK and ACK 0, then stalls). */
async function rssAt(pid: number, port: number, n: number): Promise<number> {
  const socks: dgram.Socket[] = [];
  const waiting = new Set<dgram.Socket>();
  const rrq = encodeRequest('rrq', 'big32.bin', 'octet', [{ name: 'blksize', value: '1468' }, { name: 'windowsize', value: '16' }]);
  let started = 0;
  for (let i = 0; i < n; i++) {
    const s = dgram.createSocket('udp4');
    s.on('message', (msg, rinfo) => {
      const d = decodePacket(msg);
      if (d.ok && d.packet.op === 'oack' && waiting.delete(s)) {
        started++;
        s.send(encodeAck(0), rinfo.port, rinfo.address);
      }
    });
    s.send(rrq, port, '127.0.0.1');
    socks.push(s);
    waiting.add(s);
    if (i % 50 === 49) await sleep(20);
  }
  // Like a real client, ask again (same port: the server dedupes) while no OACK came back.
  for (let i = 0; i < 100 && started < n; i++) {
    await sleep(50);
    if (i % 10 === 9) for (const s of waiting) s.send(rrq, port, '127.0.0.1');
  }
  await sleep(300);
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  for (const s of socks) s.close();
  if (started < n) console.error(`only ${started} of ${n} sessions started`);
  return kb / 1024;
}

const points: [string, (s: Server) => Promise<number | undefined>][] = [
  ['32 MiB bs 512', (s) => single(s, [['blksize', '512']])],
  ['32 MiB bs 1468', (s) => single(s, [['blksize', '1468']])],
  ['32 MiB bs 8192', (s) => single(s, [['blksize', '8192']])],
  ['32 MiB ws 16 bs 1468', (s) => (s.windowsize ? single(s, [['blksize', '1468'], ['windowsize', '16']]) : Promise.resolve(undefined))],
  ['10 × 4 MiB', (s) => concurrent(s, 10)],
  ['50 × 4 MiB', (s) => concurrent(s, 50)],
  ['200 × 4 MiB', (s) => concurrent(s, 200)],
];

// Every server runs at once (on its own port, idle unless asked), and each point is measured
// server after server, REPEAT rounds: drift in the machine's load then hits every server alike.
const results = new Map<string, Map<string, number | undefined>>();
const rss = new Map<string, number>();
const children = new Map<string, ChildProcess>();
const median = (xs: number[]): number | undefined => (xs.length === 0 ? undefined : [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]);
try {
  const running: Server[] = [];
  for (const s of servers) {
    if (only !== undefined && !only.has(s.name)) continue;
    const child = s.start();
    children.set(s.name, child);
    await sleep(s.name === 'bootherd' ? 1500 : 500);
    if (child.exitCode !== null) {
      console.error(`${s.name} did not start (exit ${child.exitCode}): left out of this run`);
      continue;
    }
    // Warm-up (fills bootherd's cache and the page cache for everyone).
    await atftp(s.port, 'big32.bin', join(outDir, 'warm.out'), [['blksize', '1468']], true);
    // And one unmeasured round of 10 concurrent transfers: bootherd's several-transfers path is
    // JavaScript that V8 compiles on first use (the single transfer above takes another path).
    if (onlyPoints === undefined || [4, 5, 6].some((i) => onlyPoints.has(i))) await concurrent(s, 10);
    running.push(s);
    results.set(s.name, new Map());
  }
  for (const [i, [label, fn]] of points.entries()) {
    if (onlyPoints !== undefined && !onlyPoints.has(i)) continue;
    const samples = new Map<string, number[]>(running.map((s) => [s.name, []]));
    const failed = new Set<string>();
    for (let r = 0; r < REPEAT; r++) {
      for (const s of running) {
        if (failed.has(s.name)) continue;
        try {
          const v = await fn(s);
          if (v === undefined) failed.add(s.name);
          else samples.get(s.name)!.push(v);
        } catch (err) {
          console.error(`${s.name} ${label}: ${String(err)}`);
          failed.add(s.name);
        }
      }
    }
    for (const s of running) results.get(s.name)!.set(label, failed.has(s.name) ? undefined : median(samples.get(s.name)!));
  }
  const b = children.get('bootherd');
  if (b !== undefined && running.some((s) => s.name === 'bootherd') && onlyPoints === undefined) rss.set('bootherd', await rssAt(b.pid!, 6901, 1000));
} finally {
  for (const c of children.values()) if (c.exitCode === null && c.signalCode === null && c.pid !== undefined) process.kill(c.pid, 'SIGTERM');
  await sleep(300);
  for (const c of children.values()) if (c.exitCode === null && c.signalCode === null && c.pid !== undefined) process.kill(c.pid, 'SIGKILL');
  rmSync(dir, { recursive: true, force: true });
  rmSync(outDir, { recursive: true, force: true });
}

const names = [...results.keys()];
const fmt = (v: number | undefined): string => (v === undefined ? 'n/a' : v.toFixed(0));
console.log(`\nTFTP, MiB/s (client: atftp 0.8; single transfers pinned with server to core ${CORE}; servers interleaved, median of ${REPEAT} rounds)\n`);
console.log(`| point | ${names.join(' | ')} | bootherd / best peer |`);
console.log(`|---|${names.map(() => '---').join('|')}|---|`);
for (const [label] of points) {
  const vals = names.map((n) => results.get(n)?.get(label));
  const ours = results.get('bootherd')?.get(label);
  // Peers without windowsize report n/a at that point, so they never count there.
  const peers = names.flatMap((n) => (n === 'bootherd' ? [] : [results.get(n)?.get(label)])).filter((v): v is number => v !== undefined);
  const best = peers.length > 0 ? Math.max(...peers) : undefined;
  console.log(`| ${label} | ${vals.map(fmt).join(' | ')} | ${ours !== undefined && best !== undefined ? (ours / best).toFixed(2) + '×' : 'n/a'} |`);
}
for (const [n, mb] of rss) console.log(`\n${n} RSS with 1,000 concurrent sessions: ${mb.toFixed(0)} MB`);
