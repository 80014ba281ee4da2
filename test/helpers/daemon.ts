// Starts `bootherd serve` as a child process (optionally inside a test namespace), waits for the
// readiness line in its JSON log, and stops it with a signal.
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { BOOTHERD } from './bootherd.ts';
import type { NetLab } from './netns.ts';

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

export class Daemon {
  readonly child: ChildProcess;
  readonly lines: LogLine[] = [];
  readonly stderr: string[] = [];
  private readonly waiters: { match: (l: LogLine) => boolean; resolve: (l: LogLine) => void }[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(args: string[], opts: { lab?: NetLab; ns?: string; env?: Record<string, string> } = {}) {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('BOOTHERD_')) env[k] = v;
    Object.assign(env, { BOOTHERD_LOG_FORMAT: 'json' }, opts.env);
    this.child =
      opts.lab !== undefined && opts.ns !== undefined
        ? opts.lab.spawn(opts.ns, BOOTHERD, args, { env, stdio: ['ignore', 'pipe', 'pipe'] })
        : spawn(BOOTHERD, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.exited = once(this.child, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
    if (this.child.stdout !== null) {
      createInterface({ input: this.child.stdout }).on('line', (text) => {
        let line: LogLine;
        try {
          line = JSON.parse(text) as LogLine;
        } catch {
          line = { level: 30, msg: text };
        }
        this.lines.push(line);
        for (const w of [...this.waiters]) {
          if (w.match(line)) {
            this.waiters.splice(this.waiters.indexOf(w), 1);
            w.resolve(line);
          }
        }
      });
    }
    this.child.stderr?.on('data', (d: Buffer) => this.stderr.push(d.toString()));
  }

  get pid(): number {
    if (this.child.pid === undefined) throw new Error('bootherd did not start');
    return this.child.pid;
  }

  /**
   * Resolves with the first log line matching; rejects if the process exits first, or if nothing
   * matches within `limitMs` (a bound so a broken run fails instead of hanging, not a speed check).
   */
  waitFor(match: (l: LogLine) => boolean, what = 'log line', limitMs = 120_000): Promise<LogLine> {
    const seen = this.lines.find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${what} from bootherd; log so far:\n${this.lines.map((l) => JSON.stringify(l)).join('\n')}`)), limitMs);
      this.waiters.push({
        match,
        resolve: (l) => {
          clearTimeout(timer);
          resolve(l);
        },
      });
      void this.exited.then((e) => {
        clearTimeout(timer);
        reject(new Error(`bootherd exited (code ${e.code}, signal ${e.signal}) before the ${what}; stderr: ${this.stderr.join('')}; log: ${this.lines.map((l) => l.msg).join(' | ')}`));
      });
    });
  }

  ready(): Promise<LogLine> {
    return this.waitFor((l) => l['event'] === 'ready', 'readiness line');
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }
}
