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

/**
 * The tests' clients are as patient as firmware, not as quick as busybox's defaults: PXE firmware
 * retransmits for tens of seconds with growing intervals (RFC 2131 §4.1), and bootherd sends an ACK
 * only once its lease is durable, which a slow disk or database delays (BH_DHCP_SLOW_ACK). A test
 * must not fail because a lease took two seconds to reach the disk.
 *
 * udhcpc sends up to -t DISCOVERs and then 3 REQUESTs, each -T seconds apart, then gives up the
 * round: one round waits 3 × T seconds for an ACK. udhcpcLease() runs rounds with T doubling
 * (the backoff), as udhcpc itself does after -A seconds when it is not told to exit (-n).
 */
export const UDHCPC_ROUND_PAUSES_S: readonly number[] = [2, 4];
/** DISCOVERs per round (-t). */
const UDHCPC_DISCOVERS = 3;
/** For a udhcpc that keeps running (no -q, no -n): 2 s between packets, 4 s (-A) before a new round; -A also caps how long a renewal waits. */
export const UDHCPC_PATIENT_ARGS: readonly string[] = ['-t', String(UDHCPC_DISCOVERS), '-T', String(UDHCPC_ROUND_PAUSES_S[0]), '-A', '4'];

export interface UdhcpcLease {
  /** The `bound` event, if a round got a lease. */
  bound: ClientEvent | undefined;
  log: ClientLog;
  /** Rounds run (1 unless the first got no lease). */
  rounds: number;
}

/**
 * Gets one lease with busybox udhcpc in `ns` on `iface` and exits (-q), in rounds with backoff
 * (UDHCPC_ROUND_PAUSES_S); a round that gets no lease exits (-n) and the next one starts. Bounded:
 * at most (3 + 3) × (2 + 4) = 36 s.
 */
export function udhcpcLease(lab: NetLab, ns: string, iface: string, dir: string, tag: string): UdhcpcLease {
  const { script, log } = udhcpcScript(dir, tag);
  let rounds = 0;
  for (const pause of UDHCPC_ROUND_PAUSES_S) {
    rounds++;
    const args = ['-i', iface, '-f', '-q', '-n', '-s', script, '-t', String(UDHCPC_DISCOVERS), '-T', String(pause)];
    try {
      lab.exec(ns, 'udhcpc', args, { timeoutMs: ((UDHCPC_DISCOVERS + 3) * pause + 10) * 1000 });
    } catch {
      // exit status 1: no lease in this round (-n); the log says what happened
    }
    const bound = log.events().find((e) => e.reason === 'bound');
    if (bound !== undefined) return { bound, log, rounds };
  }
  return { bound: undefined, log, rounds };
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
  // Firmware-like patience (see UDHCPC_ROUND_PAUSES_S): the second try after 2 s, then backing off
  // (with dhclient's randomness) up to about 8 s between tries, giving up after 60 s.
  const patience = 'initial-interval 2;\nbackoff-cutoff 8;\ntimeout 60;\n';
  writeFileSync(conf, patience + (opts.renewS === undefined ? '' : `supersede dhcp-renewal-time ${opts.renewS};\nsupersede dhcp-rebinding-time 3000;\n`));
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
