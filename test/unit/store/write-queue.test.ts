// Group commit on an in-memory node:sqlite database: writes from one tick share one transaction.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DatabaseSync } from 'node:sqlite';
import { Kysely, sql } from 'kysely';
import { NodeSqliteDialect } from '../../../src/store/sqlite-dialect.ts';
import { WriteQueue } from '../../../src/store/write-queue.ts';
import type { Database } from '../../../src/store/schema.ts';

async function memoryDb(): Promise<Kysely<Database>> {
  const db = new Kysely<Database>({ dialect: new NodeSqliteDialect({ database: new DatabaseSync(':memory:') }) });
  await db.schema.createTable('kv').addColumn('key', 'text', (c) => c.primaryKey()).addColumn('value', 'text', (c) => c.notNull()).execute();
  return db;
}

describe('WriteQueue', () => {
  it('commits writes made in one tick in one transaction and resolves each with its result', async () => {
    const db = await memoryDb();
    const q = new WriteQueue(db);
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) =>
      q.push(async (trx) => {
        await trx.insertInto('kv').values({ key: `k${i}`, value: String(i) }).execute();
        return i;
      })));
    assert.deepEqual(results, Array.from({ length: 100 }, (_, i) => i));
    assert.equal(q.batches, 1);
    const n = await sql<{ n: number }>`select count(*) as n from kv`.execute(db);
    assert.equal(n.rows[0]?.n, 100);
    await db.destroy();
  });

  it('splits very large bursts into bounded batches', async () => {
    const db = await memoryDb();
    const q = new WriteQueue(db, 10);
    await Promise.all(Array.from({ length: 35 }, (_, i) => q.push((trx) => trx.insertInto('kv').values({ key: `k${i}`, value: 'v' }).execute())));
    assert.equal(q.batches, 4);
    await db.destroy();
  });

  it('rejects only the failing write and keeps the others', async () => {
    const db = await memoryDb();
    const q = new WriteQueue(db);
    const put = (key: string) => q.push((trx) => trx.insertInto('kv').values({ key, value: 'v' }).execute());
    const r = await Promise.allSettled([put('a'), put('a'), put('b')]);
    assert.deepEqual(r.map((x) => x.status), ['fulfilled', 'rejected', 'fulfilled']);
    const rows = await db.selectFrom('kv').select('key').orderBy('key').execute();
    assert.deepEqual(rows.map((x) => x.key), ['a', 'b']);
    await db.destroy();
  });

  it('drain() waits for queued writes', async () => {
    const db = await memoryDb();
    const q = new WriteQueue(db);
    let done = 0;
    for (let i = 0; i < 5; i++) void q.push((trx) => trx.insertInto('kv').values({ key: `k${i}`, value: 'v' }).execute()).then(() => done++);
    await q.drain();
    await new Promise((r) => setImmediate(r));
    assert.equal(done, 5);
    assert.equal(q.pending, 0);
    await db.destroy();
  });
});
