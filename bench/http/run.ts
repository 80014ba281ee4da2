// HTTP benchmark: bootherd's boot-file server against nginx (Debian package nginx, one worker,
// sendfile on, its own config, loopback only) on the same files with the same wrk parameters, in
// one run. Every child is started here and stopped by its PID. Bounded: about a minute.
// Usage: node bench/http/run.ts [--seconds N]
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const secondsArg = process.argv.indexOf('--seconds');
const SECONDS = secondsArg > 0 ? Number(process.argv[secondsArg + 1]) : 5;
/** --large-only: skip the 1 KiB cases (for tuning the large-file path). */
const LARGE_ONLY = process.argv.includes('--large-only');
const NODE = process.execPath;
const SERVER = fileURLToPath(new URL('./server.ts', import.meta.url));

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

async function startBootherd(noCache: boolean): Promise<number> {
  const child = spawn(NODE, [SERVER, root, ...(noCache ? ['--no-cache'] : [])], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /PORT (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`bench server exited ${code}`)));
  });
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
    await new Promise((r) => setTimeout(r, 50));
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
try {
  const nginx = await startNginx();
  const bh = await startBootherd(false);
  const bhStream = await startBootherd(true);
  const fmt = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));
  for (const c of LARGE_ONLY ? [] : [1, 16, 64]) {
    const n = wrk(nginx, '/small.bin', c);
    const b = wrk(bh, '/small.bin', c);
    rows.push([`1 KiB, wrk ${c} conn (req/s)`, fmt(n.rps), fmt(b.rps), (b.rps / n.rps).toFixed(2)]);
  }
  {
    const n = wrk(nginx, '/large.bin', 16);
    const b = wrk(bh, '/large.bin', 16);
    const s = wrk(bhStream, '/large.bin', 16);
    rows.push(['32 MiB, wrk 16 conn (MiB/s), cached', fmt(n.mbps), fmt(b.mbps), (b.mbps / n.mbps).toFixed(2)]);
    rows.push(['32 MiB, wrk 16 conn (MiB/s), streamed', fmt(n.mbps), fmt(s.mbps), (s.mbps / n.mbps).toFixed(2)]);
  }
  {
    const n = curlRate(nginx, 5);
    const b = curlRate(bh, 5);
    const s = curlRate(bhStream, 5);
    rows.push(['32 MiB, curl x5 sequential (MiB/s), cached', fmt(n), fmt(b), (b / n).toFixed(2)]);
    rows.push(['32 MiB, curl x5 sequential (MiB/s), streamed', fmt(n), fmt(s), (s / n).toFixed(2)]);
  }
} finally {
  for (const c of children) if (c.pid !== undefined && c.exitCode === null) process.kill(c.pid, 'SIGTERM');
  await new Promise((r) => setTimeout(r, 300));
  for (const c of children) if (c.pid !== undefined && c.exitCode === null && c.signalCode === null) process.kill(c.pid, 'SIGKILL');
  rmSync(dir, { recursive: true, force: true });
}

const header = ['case', 'nginx', 'bootherd', 'ratio'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
console.log(`wrk -t1, ${SECONDS} s per case; nginx 1 worker (sendfile on), bootherd 1 process; loopback; ${new Date().toISOString()}`);
console.log(line(header));
console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
for (const r of rows) console.log(line(r));
