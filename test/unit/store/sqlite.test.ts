// The storage suite on embedded SQLite (node:sqlite), one temporary file per test.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runStoreSuite } from './store.suite.ts';
import { openStore } from '../../../src/store/index.ts';
import { silentLogger } from '../../../src/log/logger.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'bh-store-'));
let n = 0;
after(() => rmSync(dir, { recursive: true, force: true }));

runStoreSuite({
  backend: 'sqlite',
  freshUrl: async () => `sqlite:${path.join(dir, `t${++n}.db`)}`,
  concurrentStoresInOneProcess: false,
});

describe('SQLite file', () => {
  it('is in WAL mode and readable by its owner only', async () => {
    const file = path.join(dir, 'mode.db');
    const store = await openStore(`sqlite://${file}`, { logger: silentLogger() });
    await store.migrate();
    await store.close();
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const raw = new DatabaseSync(file);
    try {
      assert.equal((raw.prepare('pragma journal_mode').get() as { journal_mode: string }).journal_mode, 'wal');
    } finally {
      raw.close();
    }
  });
});
