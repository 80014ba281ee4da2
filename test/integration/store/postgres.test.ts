// The storage suite on PostgreSQL: a throwaway cluster (Debian's postgresql package) on a unix
// socket in a temporary directory, one database per test. Needs root (postgres runs as the
// unprivileged postgres user via runuser) and the apt package "postgresql".
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runStoreSuite } from '../../unit/store/store.suite.ts';
import { startPostgres } from '../../helpers/postgres.ts';
import type { PgCluster } from '../../helpers/postgres.ts';
import { isStoreError, openStore } from '../../../src/store/index.ts';
import { silentLogger } from '../../../src/log/logger.ts';

const isRoot = process.getuid?.() === 0;
let cluster: PgCluster | undefined;
let n = 0;

if (!isRoot) {
  it('PostgreSQL storage suite', (t) => t.skip('needs root: the test cluster runs as the postgres user via runuser'));
} else {
  before(() => {
    cluster = startPostgres();
  });
  after(() => cluster?.stop());

  const fresh = async (): Promise<string> => {
    if (cluster === undefined) throw new Error('the test cluster did not start');
    return cluster.createDatabase(`bh_t${++n}`);
  };

  runStoreSuite({ backend: 'postgres', freshUrl: fresh, concurrentStoresInOneProcess: true });

  describe('store on postgres: URLs', () => {
    it('accepts postgresql:// and socket URLs, and never shows the password', async () => {
      const url = (await fresh()).replace(/^postgres:/, 'postgresql:');
      const withPassword = url.replace('user=postgres', 'user=postgres&password=s3cret');
      const store = await openStore(withPassword, { logger: silentLogger() });
      try {
        const st = await store.status();
        assert.equal(st.backend, 'postgres');
        assert.ok(!st.location.includes('s3cret'), st.location);
        assert.ok(st.location.startsWith('postgres:'), st.location);
      } finally {
        await store.close();
      }
    });

    it('fails with BH_STORE_OPEN when the server is not there', async () => {
      await assert.rejects(openStore('postgres:///nothing?host=/nonexistent-dir&user=postgres', { logger: silentLogger() }),
        (err) => isStoreError(err, 'BH_STORE_OPEN'));
    });
  });
}
