// Store URL forms and the hostname sanitiser: pure functions, no database.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isStoreError, openStore, parseStoreUrl, sanitizeHostname } from '../../../src/store/index.ts';
import { silentLogger } from '../../../src/log/logger.ts';

describe('parseStoreUrl', () => {
  it('reads every SQLite form as an absolute file', () => {
    for (const u of ['sqlite:/var/lib/bootherd/b.db', 'sqlite:///var/lib/bootherd/b.db', '/var/lib/bootherd/b.db', 'sqlite://localhost/var/lib/bootherd/b.db']) {
      assert.deepEqual(parseStoreUrl(u), { backend: 'sqlite', file: '/var/lib/bootherd/b.db', display: 'sqlite:/var/lib/bootherd/b.db' }, u);
    }
    const rel = parseStoreUrl('state/b.db');
    assert.equal(rel.backend, 'sqlite');
    assert.equal(rel.backend === 'sqlite' && rel.file, `${process.cwd()}/state/b.db`);
  });

  it('reads PostgreSQL URLs and hides the password', () => {
    const a = parseStoreUrl('postgres://boot:s3cret@db.example:5433/bootherd');
    assert.equal(a.backend, 'postgres');
    assert.equal(a.backend === 'postgres' && a.connectionString, 'postgres://boot:s3cret@db.example:5433/bootherd');
    assert.equal(a.display, 'postgres://boot@db.example:5433/bootherd');
    const b = parseStoreUrl('postgresql://boot@db/bootherd?password=s3cret');
    assert.equal(b.backend, 'postgres');
    assert.ok(!b.display.includes('s3cret'), b.display);
    const c = parseStoreUrl('postgres:///bootherd?host=/run/postgresql');
    assert.equal(c.backend, 'postgres');
    assert.equal(c.display, 'postgres:///bootherd?host=/run/postgresql');
  });

  it('refuses unknown schemes, empty URLs and SQLite URLs with a host (BH_STORE_URL)', async () => {
    for (const u of ['mysql://db/x', 'http://x', '', 'sqlite://otherhost/x.db', 'sqlite:']) {
      assert.throws(() => parseStoreUrl(u), (err) => isStoreError(err, 'BH_STORE_URL') && err.hint.length > 0, u);
    }
    await assert.rejects(openStore('mysql://db/x', { logger: silentLogger() }), (err) => isStoreError(err, 'BH_STORE_URL'));
  });

  it('fails to open an SQLite file in a missing directory with BH_STORE_OPEN', async () => {
    await assert.rejects(openStore('sqlite:/nonexistent-bootherd-dir/x.db', { logger: silentLogger() }), (err) => isStoreError(err, 'BH_STORE_OPEN'));
  });
});

describe('sanitizeHostname', () => {
  it('keeps hostname characters and drops the rest', () => {
    assert.equal(sanitizeHostname('node-1.lab'), 'node-1.lab');
    assert.equal(sanitizeHostname('evil\r\nname; rm -rf /'), 'evilnamerm-rf');
    assert.equal(sanitizeHostname('<script>alert(1)</script>'), 'scriptalert1script');
    assert.equal(sanitizeHostname('-.-lead'), 'lead');
    assert.equal(sanitizeHostname('\u0000\u00ff'), null);
    assert.equal(sanitizeHostname(null), null);
    assert.equal(sanitizeHostname('a'.repeat(400))?.length, 253);
  });
});
