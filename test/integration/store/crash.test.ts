// Crash durability: a child process writes leases and prints each one once put() resolved; we
// SIGKILL it mid-stream, reopen the store and check that every printed lease is there and that the
// database is sound; the same for boot-event batches (appendMany). On SQLite (WAL, synchronous=FULL) and, as root, on a throwaway PostgreSQL.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { openStore } from '../../../src/store/index.ts';
import { silentLogger } from '../../../src/log/logger.ts';
import { startPostgres } from '../../helpers/postgres.ts';
import type { PgCluster } from '../../helpers/postgres.ts';

const WRITER = path.join(import.meta.dirname, '../../helpers/store-writer.ts');
const EVENT_WRITER = path.join(import.meta.dirname, 'event-writer.ts');
const KILL_AFTER = 200;
/** Acknowledged events (batches of 16) before the kill. */
const KILL_AFTER_EVENTS = 1_600;

/**
 * Runs `script url`, hands each line it prints (one acknowledged write, or a range of them) to
 * `take`, and SIGKILLs it once `count()` reaches `killAfter`. Resolves once it died of that kill.
 */
function runUntilKilled(script: string, url: string, killAfter: number, take: (line: string) => void, count: () => number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, url], { stdio: ['ignore', 'pipe', 'pipe'] });
    let buf = '';
    let stderr = '';
    let killed = false;
    const guard = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      for (const line of lines) take(line);
      if (!killed && count() >= killAfter) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(guard);
      if (signal !== 'SIGKILL' || !killed) reject(new Error(`${path.basename(script)} ended before the kill (code ${code}, signal ${signal}): ${stderr}`));
      else resolve();
    });
  });
}

/** Runs the lease writer, SIGKILLs it after KILL_AFTER acknowledged writes; returns every acknowledged write. */
async function writeUntilKilled(url: string): Promise<Map<string, number>> {
  const acked = new Map<string, number>();
  await runUntilKilled(WRITER, url, KILL_AFTER, (line) => {
    const [ip, exp] = line.split(' ');
    if (ip !== undefined && exp !== undefined) acked.set(ip, Number(exp));
  }, () => acked.size);
  return acked;
}

/** Runs the event writer, SIGKILLs it after KILL_AFTER_EVENTS acknowledged events; returns their numbers. */
async function appendEventsUntilKilled(url: string): Promise<Set<number>> {
  const acked = new Set<number>();
  await runUntilKilled(EVENT_WRITER, url, KILL_AFTER_EVENTS, (line) => {
    const [first, last] = line.split(' ').map(Number);
    if (first === undefined || last === undefined || Number.isNaN(first) || Number.isNaN(last)) return;
    for (let i = first; i <= last; i++) acked.add(i);
  }, () => acked.size);
  return acked;
}

/** Every acknowledged event is stored, and the stored events are in the order they were appended. */
async function checkEventsThere(url: string, acked: Set<number>): Promise<void> {
  const store = await openStore(url, { logger: silentLogger() });
  try {
    const stored = (await store.events.list({ limit: 10_000 })).reverse();
    const numbers = stored.map((e) => Number(e.kind.slice(1)));
    const have = new Set(numbers);
    assert.deepEqual([...acked].filter((i) => !have.has(i)), [], 'every event acknowledged before the kill must be in the store');
    assert.deepEqual(numbers, [...numbers].sort((a, b) => a - b), 'events are stored in the order they were appended');
    assert.deepEqual(stored.map((e) => e.detail.n), numbers);
  } finally {
    await store.close();
  }
}

async function checkAllThere(url: string, acked: Map<string, number>): Promise<number> {
  const store = await openStore(url, { logger: silentLogger() });
  try {
    assert.deepEqual((await store.status()).pending, []);
    const stored = new Map((await store.leases.listAll()).map((l) => [l.ip, l.expiresAt]));
    const missing = [...acked].filter(([ip, exp]) => stored.get(ip) !== exp);
    assert.deepEqual(missing, [], 'every lease acknowledged before the kill must be in the store');
    return stored.size;
  } finally {
    await store.close();
  }
}

/** SQLite's own check of the file after the kill. */
function assertIntegrity(file: string): void {
  const raw = new DatabaseSync(file);
  try {
    assert.deepEqual(raw.prepare('pragma integrity_check').all().map((r) => ({ ...r })), [{ integrity_check: 'ok' }]);
  } finally {
    raw.close();
  }
}

describe('store crash durability', () => {
  it('SQLite: every acknowledged put survives SIGKILL and the file passes integrity_check', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'bh-crash-'));
    try {
      const file = path.join(dir, 'leases.db');
      const acked = await writeUntilKilled(`sqlite:${file}`);
      assert.ok(acked.size >= KILL_AFTER);
      assertIntegrity(file);
      const total = await checkAllThere(`sqlite:${file}`, acked);
      assert.ok(total >= acked.size);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('SQLite: every acknowledged event batch (appendMany) survives SIGKILL, in order', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'bh-crash-ev-'));
    try {
      const file = path.join(dir, 'events.db');
      const acked = await appendEventsUntilKilled(`sqlite:${file}`);
      assert.ok(acked.size >= KILL_AFTER_EVENTS);
      assertIntegrity(file);
      await checkEventsThere(`sqlite:${file}`, acked);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('PostgreSQL', () => {
    let cluster: PgCluster | undefined;
    after(() => cluster?.stop());
    it('every acknowledged put survives SIGKILL of the writer', async (t) => {
      if (process.getuid?.() !== 0) {
        t.skip('needs root: the test cluster runs as the postgres user via runuser');
        return;
      }
      cluster = startPostgres();
      const url = await cluster.createDatabase('bh_crash');
      const acked = await writeUntilKilled(url);
      assert.ok(acked.size >= KILL_AFTER);
      await checkAllThere(url, acked);
    });
    it('every acknowledged event batch survives SIGKILL of the writer, in order', async (t) => {
      if (process.getuid?.() !== 0) {
        t.skip('needs root: the test cluster runs as the postgres user via runuser');
        return;
      }
      cluster ??= startPostgres();
      const url = await cluster.createDatabase('bh_crash_events');
      const acked = await appendEventsUntilKilled(url);
      assert.ok(acked.size >= KILL_AFTER_EVENTS);
      await checkEventsThere(url, acked);
    });
  });
});
