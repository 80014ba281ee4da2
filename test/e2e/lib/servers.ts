// The servers a boot run talks to, each started in the lab by the test and stopped by PID:
// - dnsmasq (the reference in FIELD-NOTES.md): DHCP + TFTP bound to the bridge, no DNS (--port=0);
// - busybox httpd: plain HTTP for the reference runs (dnsmasq serves no HTTP);
// - radvd: router advertisements with router lifetime 0, so iPXE skips its IPv6 router wait.
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BootLab } from './lab.ts';

export class Proc {
  readonly name: string;
  readonly child: ChildProcess;
  readonly log: string;
  output = '';

  constructor(name: string, child: ChildProcess, log: string) {
    this.name = name;
    this.child = child;
    this.log = log;
    const out = createWriteStream(log, { flags: 'a' });
    const take = (d: Buffer): void => {
      this.output += d.toString();
      out.write(d);
    };
    child.stdout?.on('data', take);
    child.stderr?.on('data', take);
    child.once('exit', () => out.end());
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resolves once `re` appears in the output; rejects if the process exits first or after timeoutMs. */
  async waitFor(re: RegExp, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!re.test(this.output)) {
      if (!this.running) throw new Error(`BH_E2E_SERVER: ${this.name} exited (${this.child.exitCode ?? this.child.signalCode}) before ${re}: ${this.output.slice(-2000)}`);
      if (Date.now() > deadline) throw new Error(`BH_E2E_SERVER: ${this.name} did not print ${re} within ${timeoutMs} ms: ${this.output.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async stop(): Promise<void> {
    if (!this.running || this.child.pid === undefined) return;
    const exited = once(this.child, 'exit');
    process.kill(this.child.pid, 'SIGTERM');
    const t = setTimeout(() => this.child.pid !== undefined && this.running && process.kill(this.child.pid, 'SIGKILL'), 5000);
    await exited;
    clearTimeout(t);
  }
}

function need(path: string, pkg: string): void {
  if (!existsSync(path)) throw new Error(`BH_E2E_SERVER: ${path} is missing (fix: apt-get install ${pkg})`);
}

export interface DnsmasqOptions {
  /** TFTP root; without it, no TFTP. */
  tftpRoot?: string;
  /** Hand out addresses (full) or not at all (boot options only makes no sense for dnsmasq here). */
  range?: { start: string; end: string };
  /** Interface to bind (default: the lab bridge). */
  iface?: string;
  /** Extra dnsmasq options (dhcp-boot, tags, ...), without leading "--". */
  options?: string[];
  logDir: string;
  ns?: string;
}

/** dnsmasq as DHCP (+ TFTP) server, bound to one interface, in the foreground. */
export async function startDnsmasq(lab: BootLab, o: DnsmasqOptions): Promise<Proc> {
  need('/usr/sbin/dnsmasq', 'dnsmasq');
  const conf = join(o.logDir, 'dnsmasq.conf');
  const lines = [
    'port=0',
    `interface=${o.iface ?? lab.bridge}`,
    'bind-interfaces',
    'user=root',
    'log-dhcp',
    `dhcp-leasefile=${join(o.logDir, 'dnsmasq.leases')}`,
    ...(o.range ? [`dhcp-range=${o.range.start},${o.range.end},255.255.255.0,1h`] : []),
    ...(o.tftpRoot ? ['enable-tftp', `tftp-root=${o.tftpRoot}`] : []),
    ...(o.options ?? []),
  ];
  writeFileSync(conf, lines.join('\n') + '\n');
  const child = lab.spawn('dnsmasq', ['--keep-in-foreground', '--log-facility=-', `--conf-file=${conf}`, '--pid-file='], { stdio: ['ignore', 'pipe', 'pipe'] }, o.ns);
  const p = new Proc('dnsmasq', child, join(o.logDir, 'dnsmasq.log'));
  await p.waitFor(/started, version/);
  return p;
}

/** busybox httpd serving `root` on address:port. */
export async function startBusyboxHttpd(lab: BootLab, root: string, address: string, port: number, logDir: string): Promise<Proc> {
  need('/bin/busybox', 'busybox');
  const child = lab.spawn('busybox', ['httpd', '-f', '-vv', '-p', `${address}:${port}`, '-h', root], { stdio: ['ignore', 'pipe', 'pipe'] });
  const p = new Proc('busybox-httpd', child, join(logDir, 'httpd.log'));
  // busybox httpd prints nothing when it is listening: poll the port from inside the namespace.
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      lab.exec('bash', ['-c', `exec 3<>/dev/tcp/${address}/${port}`]);
      break;
    } catch {
      if (!p.running) throw new Error(`BH_E2E_SERVER: busybox httpd exited: ${p.output}`);
      if (Date.now() > deadline) throw new Error(`BH_E2E_SERVER: busybox httpd is not listening on ${address}:${port}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return p;
}

/** radvd on the bridge: RAs with router lifetime 0 and no prefix (iPXE then stops waiting for a router). */
export async function startRadvd(lab: BootLab, logDir: string): Promise<Proc> {
  need('/usr/sbin/radvd', 'radvd');
  const conf = join(logDir, 'radvd.conf');
  writeFileSync(conf, `interface ${lab.bridge} {\n  AdvSendAdvert on;\n  AdvDefaultLifetime 0;\n  MinRtrAdvInterval 3;\n  MaxRtrAdvInterval 4;\n};\n`);
  const child = lab.spawn('radvd', ['--nodaemon', '--logmethod=stderr', '--debug=1', `--config=${conf}`, `--pidfile=${join(logDir, 'radvd.pid')}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  const p = new Proc('radvd', child, join(logDir, 'radvd.log'));
  await new Promise((r) => setTimeout(r, 300));
  if (!p.running) throw new Error(`BH_E2E_SERVER: radvd exited: ${p.output}`);
  return p;
}
