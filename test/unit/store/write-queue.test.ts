// Group commit on an in-memory node:sqlite database: writes from one tick share one transaction.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DatabaseSync } from 'node:sqlite';
import { Kysely, sql } from 'kysely';
import { NodeSqliteDialect } from '../../../src/store/sqlite-dialect.ts';
import { WriteQueue } from '../../../src/store/write-queue.ts';
import type { Database } from '../../../src/store/schema.ts';
import type { SqlWrite } from '../../../src/store/write-queue.ts';
import type { JobOutcome, SqlStatement, SqliteWriter } from '../../../src/store/sqlite-writer.ts';

/** A stand-in for the SQLite write worker: records each batch's size, commits on the next turn. */
function fakeWriter(): { writer: SqliteWriter; batches: number[] } {
  const batches: number[] = [];
  const run = (jobs: SqlStatement[][]): Promise<JobOutcome[]> => {
    batches.push(jobs.length);
    return new Promise((r) => setImmediate(() => r(jobs.map((j) => ({ ok: true, results: j.map(() => ({ changes: 1, lastInsertRowid: 0 })) })))));
  };
  return { writer: { run } as unknown as SqliteWriter, batches };
}

const write = (i: number): SqlWrite<number> => ({
  statements: [{ sql: 'insert into kv values (?, ?)', params: [`k${i}`, 'v'], rows: false }],
  result: () => i,
  kysely: () => Promise.resolve(i),
});

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

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

  describe('commit pacing (write worker)', () => {
    it('after a busy commit, gathers the writes that trickle in into one next commit', async () => {
      const db = await memoryDb();
      const { writer, batches } = fakeWriter();
      const q = new WriteQueue(db, 512, writer, { minGapMs: 200, enoughJobs: 1000, busyBatch: 8 });
      const all: Promise<number>[] = [q.push(write(0))];
      await turn(); // the first commit is in flight: 10 writes arrive meanwhile (busy)
      for (let i = 1; i <= 10; i++) all.push(q.push(write(i)));
      await all[0];
      for (let i = 11; i < 21; i++) {
        all.push(q.push(write(i)));
        await turn();
      }
      assert.deepEqual(await Promise.all(all), Array.from({ length: 21 }, (_, i) => i));
      assert.deepEqual(batches, [1, 20]);
      await db.destroy();
    });

    it('without pacing, the same trickle takes a commit per write', async () => {
      const db = await memoryDb();
      const { writer, batches } = fakeWriter();
      const q = new WriteQueue(db, 512, writer, null);
      const all: Promise<number>[] = [q.push(write(0))];
      await turn();
      for (let i = 1; i <= 10; i++) all.push(q.push(write(i)));
      await all[0];
      for (let i = 11; i < 21; i++) {
        all.push(q.push(write(i)));
        await turn();
      }
      await Promise.all(all);
      assert.ok(batches.length > 2, `batches ${batches.join(',')}`);
      await db.destroy();
    });

    it('starts the next commit as soon as enough writes are queued', { timeout: 20_000 }, async () => {
      const db = await memoryDb();
      const { writer, batches } = fakeWriter();
      const q = new WriteQueue(db, 512, writer, { minGapMs: 60_000, enoughJobs: 50, busyBatch: 8 });
      const first = q.push(write(0));
      await turn();
      const busy = Array.from({ length: 10 }, (_, i) => q.push(write(1 + i)));
      await first;
      await Promise.all(busy.concat(Array.from({ length: 40 }, (_, i) => q.push(write(11 + i)))));
      assert.deepEqual(batches, [1, 50]);
      await db.destroy();
    });

    it('does not hold back a write when few arrived during the previous commit (light load)', { timeout: 20_000 }, async () => {
      const db = await memoryDb();
      const { writer, batches } = fakeWriter();
      const q = new WriteQueue(db, 512, writer, { minGapMs: 60_000, enoughJobs: 1000, busyBatch: 8 });
      const first = q.push(write(0));
      await turn();
      const during = Array.from({ length: 5 }, (_, i) => q.push(write(1 + i)));
      await Promise.all([first, ...during]);
      for (let i = 6; i < 10; i++) assert.equal(await q.push(write(i)), i);
      assert.deepEqual(batches, [1, 5, 1, 1, 1, 1]);
      await db.destroy();
    });
  });

  describe('delayed writes (nobody waits on them)', () => {
    it('gather the delayed writes of many turns into one commit', { timeout: 20_000 }, async () => {
      const db = await memoryDb();
      const { writer, batches } = fakeWriter();
      const q = new WriteQueue(db, 512, writer, null);
      const all: Promise<number>[] = [];
      for (let i = 0; i < 20; i++) {
        all.push(q.push(write(i), 100));
        await turn();
      }
      assert.deepEqual(batches, [], 'nothing committed before the delay');
      assert.deepEqual(await Promise.all(all), Array.from({ length: 20 }, (_, i) => i));
      assert.deepEqual(batches, [20]);
      await db.destroy();
    });

    it('are taken along, in order, by the next write that is not delayed', { timeout: 20_000 }, async () => {
      const db = await memoryDb();
      const order: number[] = [];
      const { writer, batches } = fakeWriter();
      const q = new WriteQueue(db, 512, writer, null);
      const delayed = Array.from({ length: 5 }, (_, i) => q.push(write(i), 60_000).then((v) => order.push(v)));
      await turn();
      await q.push(write(5)).then((v) => order.push(v));
      await Promise.all(delayed);
      assert.deepEqual(order, [0, 1, 2, 3, 4, 5]);
      assert.deepEqual(batches, [6]);
      await db.destroy();
    });

    it('are committed at once by drain() (closing the store)', { timeout: 20_000 }, async () => {
      const db = await memoryDb();
      const { writer, batches } = fakeWriter();
      const q = new WriteQueue(db, 512, writer, null);
      let done = 0;
      for (let i = 0; i < 3; i++) void q.push(write(i), 60_000).then(() => done++);
      await q.drain();
      await turn();
      assert.equal(done, 3);
      assert.deepEqual(batches, [3]);
      await db.destroy();
    });

    it('wait for company on the Kysely path too (PostgreSQL), then share one transaction', { timeout: 20_000 }, async () => {
      const db = await memoryDb();
      const q = new WriteQueue(db);
      const put = (key: string, delay: number) => q.push((trx) => trx.insertInto('kv').values({ key, value: 'v' }).execute(), delay);
      const delayed = [put('a', 60_000), put('b', 60_000)];
      await turn();
      await turn();
      assert.equal(q.batches, 0);
      await Promise.all([...delayed, put('c', 0)]);
      assert.equal(q.batches, 1);
      const rows = await db.selectFrom('kv').select('key').orderBy('key').execute();
      assert.deepEqual(rows.map((x) => x.key), ['a', 'b', 'c']);
      await db.destroy();
    });
  });
});
