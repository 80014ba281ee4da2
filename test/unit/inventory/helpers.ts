// A fresh, migrated SQLite store per test, in a temporary directory removed at the end.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after } from 'node:test';
import { openStore } from '../../../src/store/index.ts';
import type { Store } from '../../../src/store/index.ts';
import { silentLogger } from '../../../src/log/logger.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'bh-inv-'));
let n = 0;
const open: Store[] = [];
after(async () => {
  await Promise.allSettled(open.map((s) => s.close()));
  rmSync(dir, { recursive: true, force: true });
});

export async function freshStore(): Promise<Store> {
  const store = await openStore(`sqlite:${path.join(dir, `inv${++n}.db`)}`, { logger: silentLogger() });
  await store.migrate();
  open.push(store);
  return store;
}
