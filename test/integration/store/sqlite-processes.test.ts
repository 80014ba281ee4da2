// Several processes migrating one SQLite file at once (e.g. `bootherd db migrate` started while a
// server starts): each migration is applied exactly once and every process ends up current.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MIGRATIONS, openStore } from '../../../src/store/index.ts';
import { silentLogger } from '../../../src/log/logger.ts';

const STORE = path.join(import.meta.dirname, '../../../src/store/index.ts');
const LOGGER = path.join(import.meta.dirname, '../../../src/log/logger.ts');
const script = `
const { openStore } = await import(${JSON.stringify(STORE)});
const { silentLogger } = await import(${JSON.stringify(LOGGER)});
const s = await openStore(process.argv[1], { logger: silentLogger() });
const r = await s.migrate();
const st = await s.status();
await s.close();
process.stdout.write(JSON.stringify({ applied: r.applied, pending: st.pending }));
`;

function run(url: string): Promise<{ applied: string[]; pending: string[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script, url], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const guard = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(guard);
      if (code !== 0) reject(new Error(`migrating process failed (${code}): ${err}`));
      else resolve(JSON.parse(out) as { applied: string[]; pending: string[] });
    });
  });
}

describe('SQLite store shared by processes', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'bh-procs-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('three processes migrating at once apply each migration once', async () => {
    const url = `sqlite:${path.join(dir, 'shared.db')}`;
    const results = await Promise.all([run(url), run(url), run(url)]);
    const applied = results.flatMap((r) => r.applied).sort();
    assert.deepEqual(applied, MIGRATIONS.map((m) => `${String(m.version).padStart(4, '0')}_${m.name}`).sort());
    assert.ok(results.every((r) => r.pending.length === 0));
    const store = await openStore(url, { logger: silentLogger() });
    try {
      const st = await store.status();
      assert.equal(st.current, st.latest);
    } finally {
      await store.close();
    }
  });
});
