// One boot run: capture the bridge, boot the guest, stop the capture; and on failure keep the
// serial log, the pcap and the server logs under test/artifacts/e2e/<run>/ and print where.
import { copyFileSync, existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { BootLab } from './lab.ts';
import { Capture, keepArtifacts } from './lab.ts';
import { runGuest } from './qemu.ts';
import type { Firmware, GuestResult } from './qemu.ts';
import { tftpTransfers, udpDatagrams } from './pcap.ts';
import type { TftpTransfer } from './pcap.ts';

export interface BootRun extends GuestResult {
  name: string;
  runDir: string;
  pcap: string;
  /** TFTP transfers seen on the bridge, served by the lab's server address. */
  tftp(): TftpTransfer[];
}

export interface BootRequest {
  name: string;
  firmware: Firmware;
  mac: string;
  /** Default 150 s: the slowest path takes ~40 s on 2 busy cores. */
  timeoutMs?: number;
  failOn?: RegExp;
  tap?: string;
}

export async function boot(lab: BootLab, r: BootRequest): Promise<BootRun> {
  const runDir = lab.runDir(r.name);
  const pcap = join(runDir, 'bridge.pcap');
  const capture = await Capture.start(lab, pcap);
  let result: GuestResult;
  try {
    result = await runGuest(lab, { firmware: r.firmware, tap: r.tap ?? lab.addTap(), mac: r.mac, runDir, timeoutMs: r.timeoutMs ?? 150_000, ...(r.failOn ? { failOn: r.failOn } : {}) });
  } finally {
    await capture.stop();
  }
  return { ...result, name: r.name, runDir, pcap, tftp: () => tftpTransfers(udpDatagrams(readFileSync(pcap)), lab.serverIp) };
}

/**
 * Runs the assertions; if they throw, keeps the run's files (plus the log files in `logDirs`) under
 * test/artifacts/e2e/ and prints the folder before rethrowing.
 */
export async function expectOrKeep(run: { name: string; runDir: string }, logDirs: string[], check: () => void | Promise<void>): Promise<void> {
  try {
    await check();
  } catch (err) {
    for (const dir of logDirs) {
      if (!existsSync(dir)) continue;
      for (const f of readdirSync(dir)) if (/\.(log|conf|yaml|json)$/.test(f)) copyFileSync(join(dir, f), join(run.runDir, f));
    }
    const where = keepArtifacts(run.runDir, run.name);
    console.error(`e2e: run "${run.name}" failed; serial log, pcap and server logs kept in ${where}`);
    throw err;
  }
}

/** A random per-run token (what the kernel command line must show). */
export function token(): string {
  return Math.random().toString(36).slice(2, 10) + Date.now().toString(36).slice(-4);
}

/** A locally administered MAC for guest number n of a path (52:54:00 is QEMU's OUI). */
export function mac(path: number, n = 1): string {
  return `52:54:00:e2:${path.toString(16).padStart(2, '0')}:${n.toString(16).padStart(2, '0')}`;
}
