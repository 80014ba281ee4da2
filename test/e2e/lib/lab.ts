// The boot lab: one network namespace holding a bridge (br0, 198.18.40.1/24) with one tap per
// guest, no default route and no link to the root namespace. The server under test runs in that
// namespace, bound to the bridge. Optionally a second namespace ("dhcp", 198.18.40.2) joins the
// bridge through a veth, for a separate address server in ProxyDHCP runs.
// Each boot run gets a folder with the serial log and a pcap of the bridge; destroy() removes the
// namespaces and kills every process started here, by PID, also on failure or interrupt.
import type { ChildProcess, SpawnOptions } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, cpSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NetLab } from '../../helpers/netns.ts';

export const ARTIFACTS_ROOT = fileURLToPath(new URL('../../artifacts/e2e/', import.meta.url));

// NetLab removes namespaces and processes on exit and on SIGINT/SIGTERM; this removes the scratch folders.
const liveDirs = new Set<string>();
process.once('exit', () => {
  for (const d of liveDirs) rmSync(d, { recursive: true, force: true });
});

export interface LabOptions {
  /** Third octet of 198.18.X.0/24 (default 40). */
  subnet?: number;
  /** Also create the "dhcp" namespace (198.18.X.2) joined to the bridge. */
  addressServerNs?: boolean;
  /**
   * How to stop iPXE's wait for an IPv6 router: `ra0` sends router advertisements with router
   * lifetime 0 on the bridge (iPXE sees there is no router and goes on at once); `none` leaves it
   * (iPXE then waits ~13 s per DHCP stage). IPv6 is otherwise off in the lab.
   */
  ipv6?: 'ra0' | 'none';
}

export class BootLab {
  readonly net: NetLab;
  readonly ns: string;
  readonly bridge = 'br0';
  readonly prefix: string;
  readonly serverIp: string;
  readonly addressServerIp: string;
  readonly dhcpNs: string | undefined;
  /** Scratch folder (boot roots, configs, logs); removed by destroy(). */
  readonly dir: string;
  private taps = 0;
  private readonly ipv6: 'ra0' | 'none';

  constructor(opts: LabOptions = {}) {
    const x = opts.subnet ?? 40;
    this.prefix = `198.18.${x}`;
    this.serverIp = `${this.prefix}.1`;
    this.addressServerIp = `${this.prefix}.2`;
    this.ipv6 = opts.ipv6 ?? 'ra0';
    this.net = new NetLab();
    this.dir = mkdtempSync(join(tmpdir(), 'bh-e2e-'));
    chmodSync(this.dir, 0o755); // servers drop root (bootherd to nobody): they must reach their files
    liveDirs.add(this.dir);
    try {
      this.ns = this.net.ns('lan');
      this.net.exec(this.ns, 'sysctl', ['-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
      this.net.bridge(this.ns, this.bridge, `${this.serverIp}/24`);
      // Frames must cross the bridge at once (no STP listening/learning delay for new taps).
      this.net.exec(this.ns, 'ip', ['link', 'set', this.bridge, 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0']);
      // A bridge whose ports are all down (taps of guests that exited) loses its carrier, and a
      // server started then finds no usable address on it (libuv lists only running interfaces).
      // One veth port that stays up keeps the bridge's carrier, as a switch uplink would.
      this.net.veth({ ns: this.ns, ifname: 'keep0' }, { ns: this.ns, ifname: 'keep1' });
      this.net.enslave(this.ns, 'keep0', this.bridge);
      if (opts.addressServerNs === true) {
        this.dhcpNs = this.net.ns('dhcp');
        this.net.exec(this.dhcpNs, 'sysctl', ['-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
        this.net.veth({ ns: this.ns, ifname: 'vdhcp' }, { ns: this.dhcpNs, ifname: 'eth0', addr: `${this.addressServerIp}/24` });
        this.net.enslave(this.ns, 'vdhcp', this.bridge);
      }
      if (this.ipv6 === 'ra0') {
        // IPv6 on the bridge only, so that it can send link-local router advertisements.
        this.net.exec(this.ns, 'sysctl', ['-qw', `net.ipv6.conf.${this.bridge}.disable_ipv6=0`]);
      }
    } catch (err) {
      this.destroy();
      throw err;
    }
  }

  /** A new tap on the bridge for one guest; returns its name. */
  addTap(): string {
    const name = `tap${this.taps++}`;
    this.net.tap(this.ns, name, this.bridge);
    return name;
  }

  /** Starts a process in the lab namespace; killed by PID on destroy(). */
  spawn(cmd: string, args: string[], opts: SpawnOptions = {}, ns = this.ns): ChildProcess {
    return this.net.spawn(ns, cmd, args, opts);
  }

  exec(cmd: string, args: string[], ns = this.ns): string {
    return this.net.exec(ns, cmd, args);
  }

  get ipv6Mode(): 'ra0' | 'none' {
    return this.ipv6;
  }

  /** A fresh run folder for one boot (serial log, pcap). */
  runDir(name: string): string {
    const dir = join(this.dir, 'runs', name.replace(/[^A-Za-z0-9_.-]+/g, '-'));
    mkdirSync(dir, { recursive: true });
    return dir;
  }

  destroy(): void {
    this.net.destroySync();
    rmSync(this.dir, { recursive: true, force: true });
    liveDirs.delete(this.dir);
  }
}

/** tcpdump of the bridge into `pcap`; stop() ends it (by PID) and waits until the file is flushed. */
export class Capture {
  private readonly child: ChildProcess;
  readonly pcap: string;

  private constructor(child: ChildProcess, pcap: string) {
    this.child = child;
    this.pcap = pcap;
  }

  static async start(lab: BootLab, pcap: string, iface = lab.bridge): Promise<Capture> {
    const child = lab.spawn('tcpdump', ['-i', iface, '-n', '-U', '-s', '0', '-w', pcap], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    // tcpdump says "listening on ..." once the capture runs.
    const deadline = Date.now() + 10_000;
    while (!err.includes('listening on')) {
      if (child.exitCode !== null) throw new Error(`BH_E2E_TCPDUMP: tcpdump exited (${child.exitCode}): ${err} (fix: apt-get install tcpdump)`);
      if (Date.now() > deadline) throw new Error(`BH_E2E_TCPDUMP: tcpdump did not start listening: ${err}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return new Capture(child, pcap);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = once(this.child, 'exit');
    if (this.child.pid !== undefined) process.kill(this.child.pid, 'SIGINT');
    await exited;
  }
}

/**
 * Keeps a failed run's files (serial log, pcap, server logs) under test/artifacts/e2e/<run>/ and
 * returns that path (the caller prints it).
 */
export function keepArtifacts(runDir: string, run: string): string {
  const dest = join(ARTIFACTS_ROOT, `${new Date().toISOString().replace(/[:.]/g, '-')}-${run.replace(/[^A-Za-z0-9_.-]+/g, '-')}`);
  mkdirSync(dest, { recursive: true });
  if (existsSync(runDir)) cpSync(runDir, dest, { recursive: true });
  return dest;
}
