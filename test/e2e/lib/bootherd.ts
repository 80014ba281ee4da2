// bootherd as the boot server of a lab: `bootherd serve` in the lab namespace (DHCP on the bridge,
// TFTP and HTTP on the bridge address) with a config the test writes, and its inventory (profiles
// whose command lines carry the tokens, hosts) loaded with `bootherd apply -f fleet.yaml`, as an
// operator would. serve drops root to nobody; the state it finds belongs to nobody.
import { chownSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { Daemon } from '../../helpers/daemon.ts';
import { runBootherd } from '../../helpers/bootherd.ts';
import type { BootLab } from './lab.ts';

export interface BootherdSetup {
  bootRoot: string;
  /** Where the config, state and logs go. */
  dir: string;
  interfaces: { name: string; mode: 'full' | 'proxy' }[];
  /** The `dhcp` section (subnets, ...), without interfaces. */
  dhcp: Record<string, unknown>;
  /** The `boot` section (unknown_hosts, bios_loader, uefi_loader, pending_poll, ...). */
  boot?: Record<string, unknown>;
  /** The inventory as a fleet file (docs/inventory.md), applied before serve starts. */
  fleet?: string;
  httpPort: number;
}

function nobody(): { uid: number; gid: number } {
  const [, , uid, gid] = execFileSync('getent', ['passwd', 'nobody'], { encoding: 'utf8' }).trim().split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

function chownTree(dir: string, uid: number, gid: number): void {
  chownSync(dir, uid, gid);
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) chownTree(p, uid, gid);
    else chownSync(p, uid, gid);
  }
}

export class BootherdServer {
  readonly lab: BootLab;
  readonly setup: BootherdSetup;
  readonly config: string;
  daemon: Daemon | undefined;

  constructor(lab: BootLab, setup: BootherdSetup) {
    this.lab = lab;
    this.setup = setup;
    this.config = join(setup.dir, 'bootherd.yaml');
  }

  get dir(): string {
    return this.setup.dir;
  }

  /** Runs a bootherd command (hosts, profiles, apply, …) against this server's config, as root; fails loudly. */
  cli(args: string[]): string {
    const r = runBootherd([...args, '-c', this.config]);
    if (r.status !== 0) throw new Error(`BH_E2E_BOOTHERD_CLI: bootherd ${args.join(' ')} exited ${r.status}: ${r.stderr}${r.stdout}`);
    // Whatever the command created in the state dir must stay usable by serve (nobody).
    const n = nobody();
    chownTree(join(this.setup.dir, 'state'), n.uid, n.gid);
    return r.stdout;
  }

  /** Writes the config (with `boot` overriding the setup's), applies the fleet if any, and starts serve. */
  async start(boot: Record<string, unknown> | undefined = this.setup.boot): Promise<void> {
    const s = this.setup;
    mkdirSync(join(s.dir, 'state'), { recursive: true });
    const cfg = {
      state_dir: join(s.dir, 'state'),
      boot_root: s.bootRoot,
      user: 'nobody',
      shutdown_grace: 1,
      log: { level: 'debug', format: 'json' },
      interfaces: s.interfaces,
      tftp: { address: this.lab.serverIp },
      http: { address: this.lab.serverIp, port: s.httpPort },
      dhcp: s.dhcp,
      ...(boot !== undefined ? { boot } : {}),
    };
    writeFileSync(this.config, JSON.stringify(cfg, null, 2) + '\n'); // JSON is YAML
    const check = runBootherd(['config', 'check', this.config]);
    if (check.status !== 0) throw new Error(`BH_E2E_BOOTHERD_CONFIG: bootherd config check ${this.config} failed: ${check.stderr}${check.stdout}`);
    if (s.fleet !== undefined && this.daemon === undefined) {
      const fleet = join(s.dir, 'fleet.yaml');
      writeFileSync(fleet, s.fleet);
      this.cli(['apply', '-f', fleet, '--yes']);
    }
    const n = nobody();
    chownTree(join(s.dir, 'state'), n.uid, n.gid);
    this.daemon = new Daemon(['serve', '--config', this.config], { lab: this.lab.net, ns: this.lab.ns });
    const daemon = this.daemon;
    let timer: NodeJS.Timeout | undefined;
    const ready = await Promise.race([
      daemon.ready(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          void daemon.stop('SIGKILL');
          reject(new Error(`BH_E2E_BOOTHERD_READY: bootherd serve was not ready within 60 s; log: ${daemon.lines.map((l) => l.msg).join(' | ')}; stderr: ${daemon.stderr.join('')}`));
        }, 60_000);
      }),
    ]).finally(() => clearTimeout(timer));
    const services = (ready['services'] ?? {}) as Record<string, unknown>;
    const missing = ['dhcp', 'tftp', 'http'].filter((k) => services[k] === undefined);
    if (missing.length > 0) throw new Error(`BH_E2E_BOOTHERD_SERVICES: bootherd serve did not start ${missing.join(', ')} (ready line: ${JSON.stringify(ready)})`);
  }

  /** Stops serve and starts it again with another `boot` section (same state, same inventory). */
  async restart(boot: Record<string, unknown> | undefined): Promise<void> {
    await this.stop();
    await this.start(boot);
  }

  /** Writes bootherd's log lines to <dir>/bootherd.log (for the artifacts). */
  writeLog(): void {
    if (this.daemon === undefined) return;
    writeFileSync(join(this.setup.dir, 'bootherd.log'), this.daemon.lines.map((l) => JSON.stringify(l)).join('\n') + '\n' + this.daemon.stderr.join(''));
  }

  async stop(): Promise<void> {
    if (this.daemon === undefined) return;
    await this.daemon.stop('SIGTERM');
    this.writeLog();
  }
}

export async function startBootherd(lab: BootLab, s: BootherdSetup): Promise<BootherdServer> {
  const server = new BootherdServer(lab, s);
  try {
    await server.start();
  } catch (err) {
    await server.stop().catch(() => undefined);
    throw err;
  }
  return server;
}

/** A fleet-file profile booting the lab payload with `cmdline`. */
export function payloadProfile(cmdline: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { kind: 'linux', kernel: 'vmlinuz', initrd: ['initrd.img'], cmdline, ...extra };
}

/** A fleet file from profiles and hosts (JSON is YAML). */
export function fleetFile(profiles: Record<string, Record<string, unknown>>, hosts: { mac: string; profile?: string; hostname?: string; state?: string }[]): string {
  return JSON.stringify({ profiles, hosts }, null, 2) + '\n';
}
