// Real DHCP clients (ISC dhclient, busybox udhcpc) inside test namespaces. Their hook scripts only
// record what happened (one line per event in a log file) and set the address on the namespace's
// interface; they never touch /etc (no resolv.conf, no routes).
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import type { NetLab } from './netns.ts';

/** Fails (never skips) with the apt package to install when a tool is missing: CI installs them all. */
export function requireTool(cmd: string, aptPackage: string): void {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
  } catch {
    throw new Error(`${cmd} is not installed: apt-get install -y ${aptPackage}`);
  }
}

export interface ClientEvent {
  /** dhclient: $reason (BOUND, RENEW, RELEASE, ...); udhcpc: $1 (bound, renew, deconfig, ...). */
  reason: string;
  ip: string;
  server: string;
}

export class ClientLog {
  readonly file: string;
  constructor(file: string) {
    this.file = file;
    writeFileSync(file, '');
  }

  events(): ClientEvent[] {
    if (!existsSync(this.file)) return [];
    return readFileSync(this.file, 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => {
        const [reason = '', ip = '', server = ''] = l.split(' ');
        return { reason, ip, server };
      });
  }

  /** Polls the log (the client writes it from its hook) until pred holds; rejects after timeoutMs. */
  async waitFor(pred: (e: ClientEvent[]) => boolean, timeoutMs: number, what: string): Promise<ClientEvent[]> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const ev = this.events();
      if (pred(ev)) return ev;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}; client log: ${JSON.stringify(ev)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Writes a udhcpc hook script that logs "$1 $ip $serverid" and sets the address. */
export function udhcpcScript(dir: string, tag: string): { script: string; log: ClientLog } {
  const log = new ClientLog(join(dir, `udhcpc-${tag}.log`));
  const script = join(dir, `udhcpc-${tag}.sh`);
  writeFileSync(
    script,
    `#!/bin/sh
echo "$1 \${ip:-} \${serverid:-}" >> ${log.file}
case "$1" in
  bound|renew) ip addr flush dev "$interface"; ip addr add "$ip/\${mask:-24}" dev "$interface" ;;
  deconfig) ip addr flush dev "$interface" ;;
esac
exit 0
`,
  );
  chmodSync(script, 0o755);
  return { script, log };
}

export interface Dhclient {
  child: ChildProcess;
  log: ClientLog;
  /** Releases the lease (dhclient -r: stops the running dhclient and sends DHCPRELEASE). */
  release(): void;
}

/** Starts ISC dhclient in the foreground in `ns` on `iface`; renewal after `renewS` seconds if given. */
export function startDhclient(lab: NetLab, ns: string, iface: string, dir: string, opts: { renewS?: number } = {}): Dhclient {
  const log = new ClientLog(join(dir, 'dhclient.log'));
  const script = join(dir, 'dhclient.sh');
  writeFileSync(
    script,
    `#!/bin/sh
echo "$reason \${new_ip_address:-\${old_ip_address:-}} \${new_dhcp_server_identifier:-}" >> ${log.file}
case "$reason" in
  BOUND|RENEW|REBIND|REBOOT) ip addr replace "$new_ip_address/24" dev "$interface" ;;
  RELEASE|EXPIRE|STOP) ip addr flush dev "$interface" ;;
esac
exit 0
`,
  );
  chmodSync(script, 0o755);
  const conf = join(dir, 'dhclient.conf');
  writeFileSync(conf, opts.renewS === undefined ? '' : `supersede dhcp-renewal-time ${opts.renewS};\nsupersede dhcp-rebinding-time 3000;\n`);
  const args = ['-cf', conf, '-sf', script, '-lf', join(dir, 'dhclient.leases'), '-pf', join(dir, 'dhclient.pid')];
  const child = lab.spawn(ns, 'dhclient', ['-4', '-d', '-v', ...args, iface]);
  child.stderr?.resume();
  child.stdout?.resume();
  return {
    child,
    log,
    release: () => {
      lab.exec(ns, 'dhclient', ['-4', '-r', ...args, iface], { timeoutMs: 30_000 });
    },
  };
}
