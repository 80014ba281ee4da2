// Helpers for the DHCP integration tests: start the DHCP server process (dhcp-server-proc.ts) and
// the bounded load client (dhcp-load-client.ts) inside NetLab namespaces, and read their JSON lines.
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { NetLab } from './netns.ts';

import { BOOTHERD } from './bootherd.ts';

const NODE = process.execPath;
const SERVER = new URL('./dhcp-server-proc.ts', import.meta.url).pathname;
const LOAD = new URL('./dhcp-load-client.ts', import.meta.url).pathname;

export type JsonLine = Record<string, unknown>;

/** Collects a child's stdout JSON lines; waitFor() resolves on a matching line or rejects on exit/timeout. */
export class LineReader {
  readonly lines: JsonLine[] = [];
  readonly stderr: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private waiters: { pred: (l: JsonLine) => boolean; resolve: (l: JsonLine) => void }[] = [];
  readonly child: ChildProcess;

  constructor(child: ChildProcess) {
    this.child = child;
    this.exited = once(child, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
    createInterface({ input: child.stdout! }).on('line', (text) => {
      let l: JsonLine;
      try {
        l = JSON.parse(text) as JsonLine;
      } catch {
        l = { text };
      }
      this.lines.push(l);
      this.waiters = this.waiters.filter((w) => {
        if (!w.pred(l)) return true;
        w.resolve(l);
        return false;
      });
    });
    child.stderr?.on('data', (d: Buffer) => {
      if (this.stderr.length < 2000) this.stderr.push(d.toString());
    });
  }

  waitFor(pred: (l: JsonLine) => boolean, timeoutMs: number, what: string): Promise<JsonLine> {
    const seen = this.lines.find(pred);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; stderr: ${this.stderr.join('').slice(-2000)}`)), timeoutMs);
      const done = (l: JsonLine): void => {
        clearTimeout(timer);
        resolve(l);
      };
      this.waiters.push({ pred, resolve: done });
      void this.exited.then((e) => {
        clearTimeout(timer);
        reject(new Error(`process exited (code ${e.code}, signal ${e.signal}) before ${what}; stderr: ${this.stderr.join('').slice(-2000)}`));
      });
    });
  }
}

export interface DhcpProc {
  reader: LineReader;
  pid: number;
  /** SIGTERM and wait for a clean exit. */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILL (kill -9) and wait for it to be gone. */
  kill9(): Promise<void>;
}

/** A temporary directory removed by cleanup(). */
export function tempDir(tag: string): { path: string; cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), `bootherd-${tag}-`));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

export interface DhcpProcConfig {
  state_dir: string;
  /** The `dhcp` section, with its interface list in `dhcp.interfaces` ({ name, mode? }). */
  dhcp: { interfaces?: { name: string; mode?: string }[]; mode?: string; [k: string]: unknown };
  log_level?: string;
  /** Only with via: 'helper'. */
  receive_buffer_bytes?: number;
}

/**
 * Starts bootherd's DHCP in `ns`; resolves once it is serving. `via: 'serve'` (the default) runs the
 * real `bootherd serve --config FILE` (DHCP only: TFTP and HTTP off, as root, JSON logs at
 * `log_level`, default info, since the readiness line is an info line); `via: 'helper'` runs
 * test/helpers/dhcp-server-proc.ts, which also answers SIGUSR2 with its counters.
 */
export async function startDhcpServerProc(lab: NetLab, ns: string, config: DhcpProcConfig, via: 'serve' | 'helper' = 'serve'): Promise<DhcpProc> {
  let child: ChildProcess;
  if (via === 'serve') {
    const { interfaces = [], ...dhcp } = config.dhcp;
    const yaml = {
      state_dir: config.state_dir,
      log: { level: config.log_level ?? 'info', format: 'json' }, // the ready line is logged at info
      interfaces: interfaces.map((i) => ({ name: i.name, mode: i.mode ?? dhcp.mode ?? 'proxy' })),
      tftp: { enabled: false },
      http: { enabled: false },
      dhcp,
    };
    const file = join(config.state_dir, 'bootherd.yaml');
    writeFileSync(file, JSON.stringify(yaml, null, 2)); // JSON is YAML
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('BOOTHERD_')) env[k] = v;
    child = lab.spawn(ns, BOOTHERD, ['serve', '--config', file], { stdio: ['ignore', 'pipe', 'pipe'], env });
  } else {
    const file = join(config.state_dir, 'dhcp-config.json');
    writeFileSync(file, JSON.stringify(config));
    child = lab.spawn(ns, NODE, [SERVER, file], { stdio: ['ignore', 'pipe', 'pipe'] });
  }
  const reader = new LineReader(child);
  const ready = await reader.waitFor((l) => l.event === 'ready', 30_000, 'the DHCP server ready line');
  const pid = Number(ready.pid);
  return {
    reader,
    pid,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) process.kill(pid, 'SIGTERM');
      return reader.exited;
    },
    kill9: async () => {
      if (child.exitCode === null && child.signalCode === null) process.kill(pid, 'SIGKILL');
      await reader.exited;
    },
  };
}

export interface LoadClientOptions {
  mode: 'dora' | 'reboot';
  server: string;
  relay: string;
  count?: number;
  first?: number;
  concurrency?: number;
  timeoutMs?: number;
  tries?: number;
  /** Double the wait after each try (firmware-like patience). */
  backoff?: boolean;
  /** For reboot: the leases to re-request. */
  input?: { mac: string; ip: string }[];
}

/** Starts the relay-mode load client in `ns`; its reader collects one JSON line per result. */
export function startLoadClient(lab: NetLab, ns: string, o: LoadClientOptions): LineReader {
  const args = [LOAD, o.mode, '--server', o.server, '--relay', o.relay];
  if (o.count !== undefined) args.push('--count', String(o.count));
  if (o.first !== undefined) args.push('--first', String(o.first));
  if (o.concurrency !== undefined) args.push('--concurrency', String(o.concurrency));
  if (o.timeoutMs !== undefined) args.push('--timeout-ms', String(o.timeoutMs));
  if (o.tries !== undefined) args.push('--tries', String(o.tries));
  if (o.backoff === true) args.push('--backoff');
  const child = lab.spawn(ns, NODE, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin!.end(o.input === undefined ? '' : o.input.map((x) => JSON.stringify(x)).join('\n') + '\n');
  return new LineReader(child);
}
