// Drives a udp-agent.ts process inside a NetLab namespace: send commands, wait for events.
import { createInterface } from 'node:readline';
import type { ChildProcess } from 'node:child_process';
import type { NetLab } from './netns.ts';

export interface AgentEvent {
  ev: string;
  id?: string;
  [k: string]: unknown;
}

const NODE = process.execPath;
const AGENT = new URL('./udp-agent.ts', import.meta.url).pathname;

export class UdpAgent {
  readonly events: AgentEvent[] = [];
  private readonly child: ChildProcess;
  private waiters: { pred: (e: AgentEvent) => boolean; resolve: (e: AgentEvent) => void }[] = [];

  private constructor(child: ChildProcess) {
    this.child = child;
    const rl = createInterface({ input: child.stdout! });
    rl.on('line', (line) => {
      let e: AgentEvent;
      try {
        e = JSON.parse(line) as AgentEvent;
      } catch {
        return;
      }
      this.events.push(e);
      this.waiters = this.waiters.filter((w) => {
        if (!w.pred(e)) return true;
        w.resolve(e);
        return false;
      });
    });
  }

  /** Starts the agent in `ns`; `wrapper` (e.g. setpriv ...) runs it as a different user. */
  static async start(lab: NetLab, ns: string, wrapper: string[] = []): Promise<UdpAgent> {
    const argv = [...wrapper, NODE, AGENT];
    const child = lab.spawn(ns, argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'inherit'] });
    const agent = new UdpAgent(child);
    await agent.waitFor((e) => e.ev === 'ready', 20_000, 'agent start');
    return agent;
  }

  /** Resolves with the first event (past or future) matching pred; rejects after timeoutMs. */
  waitFor(pred: (e: AgentEvent) => boolean, timeoutMs = 5000, what = 'event'): Promise<AgentEvent> {
    const past = this.events.find(pred);
    if (past !== undefined) return Promise.resolve(past);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== done);
        reject(new Error(`timed out waiting for ${what}; events so far: ${JSON.stringify(this.events.slice(-10))}`));
      }, timeoutMs);
      const done = (e: AgentEvent): void => {
        clearTimeout(timer);
        resolve(e);
      };
      this.waiters.push({ pred, resolve: done });
    });
  }

  send(cmd: Record<string, unknown>): void {
    this.child.stdin!.write(`${JSON.stringify(cmd)}\n`);
  }

  async open(id: string, iface: string, port: number): Promise<AgentEvent> {
    this.send({ op: 'open', id, interface: iface, port });
    return this.waitFor((e) => e.id === id && (e.ev === 'opened' || e.ev === 'error'), 5000, `open ${id}`);
  }

  async openPlain(id: string, port: number): Promise<AgentEvent> {
    this.send({ op: 'openPlain', id, port });
    return this.waitFor((e) => e.id === id && (e.ev === 'opened' || e.ev === 'error'), 5000, `openPlain ${id}`);
  }

  /** Sends and resolves with 'sent' or 'send-error'. */
  async sendTo(id: string, to: string, port: number, data: Buffer): Promise<AgentEvent> {
    const mark = this.events.length;
    this.send({ op: 'send', id, to, port, hex: data.toString('hex') });
    return this.waitFor((e) => this.events.indexOf(e) >= mark && e.id === id && (e.ev === 'sent' || e.ev === 'send-error'), 5000, `send ${id}`);
  }

  received(id: string): AgentEvent[] {
    return this.events.filter((e) => e.ev === 'recv' && e.id === id);
  }

  stop(): void {
    this.child.stdin?.end();
  }
}
