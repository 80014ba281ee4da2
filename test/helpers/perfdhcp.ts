// Runs Kea's perfdhcp (package kea-admin) in a namespace and parses its report. perfdhcp always acts
// as a relay: giaddr = its own address, replies come back by unicast to its port 67.
import { once } from 'node:events';
import type { NetLab } from './netns.ts';

export interface ExchangeStats {
  sent: number;
  received: number;
  drops: number;
  nonUnique: number;
  rejected: number;
  avgDelayMs: number;
}

export interface PerfdhcpReport {
  rate: number | undefined;
  discoverOffer: ExchangeStats;
  requestAck: ExchangeStats;
  raw: string;
}

function section(text: string, name: string): ExchangeStats {
  const start = text.indexOf(`***Statistics for: ${name}***`);
  if (start < 0) throw new Error(`perfdhcp printed no ${name} statistics:\n${text}`);
  const body = text.slice(start, text.indexOf('***', start + 20 + name.length) >>> 0 || undefined);
  const num = (label: string): number => {
    const m = new RegExp(`^${label}: ([0-9.]+)`, 'm').exec(body);
    return m === null ? Number.NaN : Number(m[1]);
  };
  return { sent: num('sent packets'), received: num('received packets'), drops: num('drops'), nonUnique: num('non unique addresses'), rejected: num('rejected leases'), avgDelayMs: num('avg delay') };
}

export function parsePerfdhcp(text: string): PerfdhcpReport {
  const rate = /^Rate: ([0-9.]+)/m.exec(text);
  return { rate: rate === null ? undefined : Number(rate[1]), discoverOffer: section(text, 'DISCOVER-OFFER'), requestAck: section(text, 'REQUEST-ACK'), raw: text };
}

/**
 * Runs perfdhcp to completion (bounded by its own -n/-p and by timeoutMs). Asynchronous on purpose:
 * the test process must keep reading the server's log pipe meanwhile, or a server that logs every
 * exchange blocks on a full pipe. perfdhcp exits 3 when packets were dropped; that is a result, not a
 * failure, so its output is parsed either way.
 */
export async function runPerfdhcp(lab: NetLab, ns: string, args: string[], timeoutMs: number): Promise<PerfdhcpReport> {
  const child = lab.spawn(ns, 'perfdhcp', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const [status, signal] = (await once(child, 'exit')) as [number | null, string | null];
  clearTimeout(timer);
  if (!out.includes('***Statistics for')) throw new Error(`perfdhcp failed (status ${status}, signal ${signal}): ${err}${out}`);
  return parsePerfdhcp(out);
}
