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

  it('keeps the client_key encoding databases already hold (bare MAC, -id, .hex of a declined key)', async () => {
    const file = path.join(dir, 'keys.db');
    const store = await openStore(`sqlite:${file}`, { logger: silentLogger() });
    await store.migrate();
    const base = { subnet: '198.18.0.0/24', mac: '02:00:00:00:00:01', hostname: null, state: 'bound' as const, expiresAt: 2e12, updatedAt: 1e12, dhcpServerId: '198.18.0.1' };
    await store.leases.putMany([
      { ...base, ip: '198.18.0.10', clientKey: 'mac:02:00:00:00:00:01' },
      { ...base, ip: '198.18.0.11', clientKey: 'id:0102' },
      { ...base, ip: '198.18.0.12', clientKey: 'declined:mac:02:00:00:00:00:01', state: 'declined' },
    ]);
    await store.close();
    const raw = new DatabaseSync(file);
    try {
      const rows = raw.prepare('select ip, client_key, server_id from leases order by ip').all();
      assert.deepEqual(rows.map((r) => ({ ...r })), [
        { ip: '198.18.0.10', client_key: '02:00:00:00:00:01', server_id: '198.18.0.1' },
        { ip: '198.18.0.11', client_key: '-0102', server_id: '198.18.0.1' },
        { ip: '198.18.0.12', client_key: `.${Buffer.from('declined:mac:02:00:00:00:00:01').toString('hex')}`, server_id: '198.18.0.1' },
      ]);
      // A row as an older bootherd wrote it reads back in the DHCP server's form.
      raw.prepare("insert into leases values ('198.18.0.13', '198.18.0.0/24', '-ff00', '02:00:00:00:00:02', null, 'bound', 1, 1, '198.18.0.1')").run();
    } finally {
      raw.close();
    }
    const again = await openStore(`sqlite:${file}`, { logger: silentLogger() });
    try {
      assert.equal((await again.leases.get('198.18.0.13'))?.clientKey, 'id:ff00');
      assert.deepEqual((await again.leases.findByClient('198.18.0.0/24', 'id:ff00')).map((l) => l.ip), ['198.18.0.13']);
    } finally {
      await again.close();
    }
  });
});
