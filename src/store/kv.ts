// Small settings that belong with the data rather than in the config file (e.g. this server's id).
import type { Kysely } from 'kysely';
import type { Database } from './schema.ts';
import type { Gate } from './gate.ts';
import { checkText, invalid } from './validate.ts';

export interface KvRepository {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string): Promise<void>;
  delete(key: string): Promise<boolean>;
  /** Returns the stored value, or stores and returns make() when there is none (atomically). */
  getOrSet(key: string, make: () => string): Promise<string>;
}

const KEY = /^[a-z0-9][a-z0-9._-]*$/;
export const MAX_KV_VALUE = 65_536;

function checkKey(key: string): string {
  return checkText('a setting', 'key', key, 128, { pattern: KEY });
}
function checkValue(v: string): string {
  if (typeof v !== 'string') throw invalid('a setting', 'value', v, 'is not a string');
  if (v.length > MAX_KV_VALUE) throw invalid('a setting', 'value', `${v.length} characters`, `is longer than ${MAX_KV_VALUE}`);
  return v;
}

export function createKvRepository(db: Kysely<Database>, gate: Gate): KvRepository {
  return {
    get: (key) => gate.run(async () => (await db.selectFrom('kv').select('value').where('key', '=', checkKey(key)).executeTakeFirst())?.value),
    set: (key, value) => gate.run(async () => {
      const row = { key: checkKey(key), value: checkValue(value) };
      await db.insertInto('kv').values(row).onConflict((oc) => oc.column('key').doUpdateSet({ value: row.value })).execute();
    }),
    delete: (key) => gate.run(async () => Number((await db.deleteFrom('kv').where('key', '=', checkKey(key)).executeTakeFirst()).numDeletedRows) > 0),
    getOrSet: (key, make) => gate.run(async () => {
      const k = checkKey(key);
      const existing = await db.selectFrom('kv').select('value').where('key', '=', k).executeTakeFirst();
      if (existing !== undefined) return existing.value;
      await db.insertInto('kv').values({ key: k, value: checkValue(make()) }).onConflict((oc) => oc.column('key').doNothing()).execute();
      // Another server may have won the race: whatever is stored now is the answer.
      return (await db.selectFrom('kv').select('value').where('key', '=', k).executeTakeFirstOrThrow()).value;
    }),
  };
}
