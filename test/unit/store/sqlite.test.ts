// The storage suite on embedded SQLite (node:sqlite), one temporary file per test.
import { after } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runStoreSuite } from './store.suite.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'bh-store-'));
let n = 0;
after(() => rmSync(dir, { recursive: true, force: true }));

runStoreSuite({
  backend: 'sqlite',
  freshUrl: async () => `sqlite:${path.join(dir, `t${++n}.db`)}`,
  concurrentStoresInOneProcess: false,
});
