// bootherd as the boot server of a lab: `bootherd serve` in the lab namespace with a config the
// test writes (interfaces, dhcp, tftp, http on the bridge address).
// While `serve` lacks a piece, a stand-in fills it and says so (BootherdServer.standIns):
// - DHCP: bootherd's own DhcpServer through test/helpers/dhcp-server-proc.ts (same code, own process);
// - HTTP: busybox httpd over the same boot root (not bootherd code: the runs' HTTP is then not measured
//   for bootherd). Both go away by themselves once serve's readiness line lists the service.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Daemon } from '../../helpers/daemon.ts';
import { runBootherd } from '../../helpers/bootherd.ts';
import type { BootLab } from './lab.ts';
import { Proc, startBusyboxHttpd } from './servers.ts';

const DHCP_PROC = fileURLToPath(new URL('../../helpers/dhcp-server-proc.ts', import.meta.url));

export interface BootherdSetup {
  bootRoot: string;
  /** Where the config, state and logs go. */
  dir: string;
  interfaces: { name: string; mode: 'full' | 'proxy' }[];
  /** The `dhcp` section (subnets, boot, unknown_clients, ...), without interfaces. */
  dhcp: Record<string, unknown>;
  /** The top-level `boot` section, if any (boot engine settings). */
  boot?: Record<string, unknown>;
  httpPort: number;
}

export class BootherdServer {
  readonly daemon: Daemon;
  readonly extra: Proc[];
  /** Pieces not yet served by `bootherd serve` and filled by a stand-in: 'dhcp' (bootherd's DhcpServer in a helper process), 'http' (busybox httpd). */
  readonly standIns: string[];
  readonly dir: string;

  constructor(daemon: Daemon, extra: Proc[], standIns: string[], dir: string) {
    this.daemon = daemon;
    this.extra = extra;
    this.standIns = standIns;
    this.dir = dir;
  }

  /** Writes bootherd's log lines to <dir>/bootherd.log (for the artifacts). */
  writeLog(dir = this.dir): void {
    writeFileSync(join(dir, 'bootherd.log'), this.daemon.lines.map((l) => JSON.stringify(l)).join('\n') + '\n' + this.daemon.stderr.join(''));
  }

  async stop(): Promise<void> {
    for (const p of this.extra) await p.stop();
    await this.daemon.stop('SIGTERM');
    this.writeLog();
  }
}

function writeConfig(path: string, cfg: Record<string, unknown>): void {
  writeFileSync(path, JSON.stringify(cfg, null, 2) + '\n'); // JSON is YAML
}

export async function startBootherd(lab: BootLab, s: BootherdSetup): Promise<BootherdServer> {
  const cfgPath = join(s.dir, 'bootherd.yaml');
  const base: Record<string, unknown> = {
    state_dir: join(s.dir, 'state'),
    boot_root: s.bootRoot,
    shutdown_grace: 1,
    log: { level: 'debug', format: 'json' },
    tftp: { address: lab.serverIp },
    http: { address: lab.serverIp, port: s.httpPort },
  };
  let full: Record<string, unknown> = { ...base, interfaces: s.interfaces, dhcp: s.dhcp, ...(s.boot ? { boot: s.boot } : {}) };
  writeConfig(cfgPath, full);
  let check = runBootherd(['config', 'check', cfgPath]);
  let dhcpInServe = true;
  if (check.status !== 0 && s.boot !== undefined) {
    // An older serve without the boot section: drop it (the test's files then carry the plan).
    full = { ...base, interfaces: s.interfaces, dhcp: s.dhcp };
    writeConfig(cfgPath, full);
    check = runBootherd(['config', 'check', cfgPath]);
  }
  if (check.status !== 0) {
    dhcpInServe = false;
    writeConfig(cfgPath, base);
    check = runBootherd(['config', 'check', cfgPath]);
    if (check.status !== 0) throw new Error(`BH_E2E_BOOTHERD_CONFIG: bootherd config check ${cfgPath} failed: ${check.stderr}${check.stdout}`);
  }
  const daemon = new Daemon(['serve', '--config', cfgPath], { lab: lab.net, ns: lab.ns });
  const extra: Proc[] = [];
  const standIns: string[] = [];
  const server = new BootherdServer(daemon, extra, standIns, s.dir);
  try {
    const ready = await daemon.ready();
    const services = (ready['services'] ?? {}) as Record<string, unknown>;
    if (!dhcpInServe || services['dhcp'] === undefined) {
      standIns.push('dhcp');
      const dcfg = join(s.dir, 'dhcp-proc.json');
      writeConfig(dcfg, { state_dir: join(s.dir, 'dhcp-state'), log_level: 'debug', dhcp: { ...s.dhcp, interfaces: s.interfaces } });
      const child = lab.spawn(process.execPath, [DHCP_PROC, dcfg], { stdio: ['ignore', 'pipe', 'pipe'] });
      const p = new Proc('bootherd-dhcp', child, join(s.dir, 'bootherd-dhcp.log'));
      extra.push(p);
      await p.waitFor(/"event":"ready"/, 30_000);
    }
    if (services['http'] === undefined) {
      standIns.push('http');
      extra.push(await startBusyboxHttpd(lab, s.bootRoot, lab.serverIp, s.httpPort, s.dir));
    }
  } catch (err) {
    await server.stop().catch(() => undefined);
    throw err;
  }
  return server;
}
