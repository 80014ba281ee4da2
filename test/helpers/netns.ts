// Isolated test networks: network namespaces joined by veth pairs and bridges, addressed only in
// 198.18.0.0/15, with no default route and no link to the root namespace. Everything a lab creates
// (namespaces, processes it spawned) is removed by destroy(), which tests call in `after`, and which
// also runs on process exit and on SIGINT/SIGTERM.
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess, SpawnOptions } from 'node:child_process';

let counter = 0;
const live = new Set<NetLab>();

function cleanupAll(): void {
  for (const lab of live) lab.destroySync();
}
process.once('exit', cleanupAll);
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    cleanupAll();
    process.exit(130);
  });
}

/** True when this process can create network namespaces (root, with iproute2). */
export function canUseNetns(): boolean {
  if (process.getuid?.() !== 0) return false;
  try {
    execFileSync('ip', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export function assertTestAddress(cidrOrIp: string): void {
  const ip = cidrOrIp.split('/')[0] ?? '';
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts[0] !== 198 || (parts[1] !== 18 && parts[1] !== 19)) {
    throw new Error(`test networks use 198.18.0.0/15 only, not ${cidrOrIp}`);
  }
}

function ip(args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

export class NetLab {
  readonly prefix: string;
  private readonly namespaces: string[] = [];
  private readonly children = new Set<ChildProcess>();
  private destroyed = false;

  constructor() {
    counter++;
    this.prefix = `bh${process.pid % 100000}${String.fromCharCode(96 + (counter % 26 || 26))}`;
    live.add(this);
  }

  /** Creates a namespace with loopback up; returns its full name. */
  ns(short: string): string {
    const name = `${this.prefix}-${short}`;
    ip(['netns', 'add', name]);
    this.namespaces.push(name);
    ip(['-n', name, 'link', 'set', 'lo', 'up']);
    return name;
  }

  /** A veth pair between two namespaces; each end gets its address (CIDR) if given. */
  veth(a: { ns: string; ifname: string; addr?: string }, b: { ns: string; ifname: string; addr?: string }): void {
    const tmpA = `v${process.pid % 100000}${counter}a${this.namespaces.length}`.slice(0, 15);
    const tmpB = `v${process.pid % 100000}${counter}b${this.namespaces.length}`.slice(0, 15);
    ip(['link', 'add', tmpA, 'netns', a.ns, 'type', 'veth', 'peer', 'name', tmpB, 'netns', b.ns]);
    ip(['-n', a.ns, 'link', 'set', tmpA, 'name', a.ifname]);
    ip(['-n', b.ns, 'link', 'set', tmpB, 'name', b.ifname]);
    for (const end of [a, b]) {
      if (end.addr !== undefined) {
        assertTestAddress(end.addr);
        ip(['-n', end.ns, 'addr', 'add', end.addr, 'dev', end.ifname]);
      }
      ip(['-n', end.ns, 'link', 'set', end.ifname, 'up']);
    }
  }

  /** A bridge inside a namespace (a switch for several veths or taps). */
  bridge(ns: string, name: string, addr?: string): void {
    ip(['-n', ns, 'link', 'add', name, 'type', 'bridge']);
    if (addr !== undefined) {
      assertTestAddress(addr);
      ip(['-n', ns, 'addr', 'add', addr, 'dev', name]);
    }
    ip(['-n', ns, 'link', 'set', name, 'up']);
  }

  /** Attaches an interface to a bridge in the same namespace. */
  enslave(ns: string, ifname: string, bridge: string): void {
    ip(['-n', ns, 'link', 'set', ifname, 'master', bridge]);
  }

  /**
   * A tap device inside a namespace (for a QEMU guest started in that namespace with
   * `-netdev tap,ifname=NAME,script=no,downscript=no`), up, and attached to `bridge` if given.
   * It goes away with its namespace.
   */
  tap(ns: string, name: string, bridge?: string): void {
    ip(['-n', ns, 'tuntap', 'add', 'dev', name, 'mode', 'tap']);
    if (bridge !== undefined) this.enslave(ns, name, bridge);
    ip(['-n', ns, 'link', 'set', name, 'up']);
  }

  /** Runs a command inside a namespace to completion; returns stdout. Throws on non-zero exit. */
  exec(ns: string, cmd: string, args: string[], opts: { input?: string; timeoutMs?: number } = {}): string {
    return execFileSync('ip', ['netns', 'exec', ns, cmd, ...args], {
      encoding: 'utf8',
      input: opts.input,
      timeout: opts.timeoutMs ?? 60_000,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
  }

  /** Starts a long-running process inside a namespace; destroy() kills it (by PID) if still running. */
  spawn(ns: string, cmd: string, args: string[], opts: SpawnOptions = {}): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    return child;
  }

  destroySync(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    live.delete(this);
    for (const child of this.children) {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
        try {
          process.kill(child.pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
    }
    for (const name of this.namespaces.reverse()) {
      // Any process still inside (started by ip netns exec) is one of ours: kill those by PID first.
      try {
        const pids = execFileSync('ip', ['netns', 'pids', name], { encoding: 'utf8' }).split('\n').filter(Boolean);
        for (const pid of pids) {
          try {
            process.kill(Number(pid), 'SIGKILL');
          } catch {
            /* gone */
          }
        }
      } catch {
        /* namespace already gone */
      }
      try {
        ip(['netns', 'del', name]);
      } catch {
        /* already gone */
      }
    }
  }

  async destroy(): Promise<void> {
    this.destroySync();
  }
}
