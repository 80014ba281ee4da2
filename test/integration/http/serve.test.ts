// HTTP and HTTPS through `bootherd serve` as an operator runs it (on loopback, TFTP off, no DHCP):
// a file and its boot event, HTTPS with a `bootherd tls init` certificate whose key only root can
// read (it is read before the privilege drop), and a clean stop.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Daemon } from '../../helpers/daemon.ts';
import { generateLabTls } from '../../../src/cli/tls.ts';
import { curl, freePort, makeFixture, requireTool, sha256 } from './helpers.ts';
import type { Fixture } from './helpers.ts';

let dir = '';
let fx: Fixture;

before(() => {
  requireTool('curl', 'curl');
  requireTool('openssl', 'openssl');
  dir = mkdtempSync(join(tmpdir(), 'bh-http-serve-'));
  fx = makeFixture(dir);
});
after(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

test('bootherd serve answers HTTP and HTTPS on loopback, records the boot event, and stops cleanly', { timeout: 90_000 }, async () => {
  const tls = generateLabTls({ dir: join(dir, 'tls'), hostnames: ['localhost'], ips: ['127.0.0.1'] });
  const port = await freePort();
  const httpsPort = await freePort();
  const cfg = join(dir, 'bootherd.yaml');
  writeFileSync(
    cfg,
    [
      `state_dir: ${join(dir, 'state')}`,
      `boot_root: ${fx.root}`,
      'shutdown_grace: 5',
      'tftp:',
      '  enabled: false',
      'http:',
      '  address: 127.0.0.1',
      `  port: ${port}`,
      `  https_port: ${httpsPort}`,
      `  tls_cert: ${tls.serverCert}`,
      `  tls_key: ${tls.serverKey}`,
      '',
    ].join('\n'),
  );
  const d = new Daemon(['serve', '--config', cfg]);
  try {
    const ready = await d.ready();
    const services = ready['services'] as Record<string, Record<string, unknown>>;
    assert.deepEqual(services['http'], { root: fx.root, address: '127.0.0.1', port, https_port: httpsPort });

    const out = join(dir, 'kernel');
    const r = await curl(['-A', 'iPXE/1.21.1', '-o', out, '-w', '%{http_code}', `http://127.0.0.1:${port}/images/linux`]);
    assert.equal(r.stdout.toString(), '200', r.stderr);
    assert.equal(sha256(readFileSync(out)), sha256(fx.big));

    const s = await curl(['--cacert', tls.caCert, `https://127.0.0.1:${httpsPort}/hello.txt`]);
    assert.equal(s.status, 0, s.stderr);
    assert.equal(s.stdout.toString(), 'hello\n');
    assert.equal((await curl([`https://127.0.0.1:${httpsPort}/hello.txt`])).status, 60, 'no CA, no trust');

    // The event's detail, whether the log line nests it under `detail` or spreads it.
    const detail = (l: Record<string, unknown>): Record<string, unknown> => (typeof l['detail'] === 'object' && l['detail'] !== null ? (l['detail'] as Record<string, unknown>) : l);
    const ev = await d.waitFor((l) => l['stage'] === 'http' && detail(l)['path'] === 'images/linux', 'http boot event');
    assert.equal(ev['kind'], 'file');
    assert.equal(detail(ev)['status'], 200);
    assert.equal(detail(ev)['size'], fx.big.length);
    assert.equal(detail(ev)['user_agent'], 'iPXE/1.21.1');
  } finally {
    const exit = await d.stop('SIGTERM');
    assert.deepEqual(exit, { code: 0, signal: null }, d.stderr.join(''));
  }
  assert.equal(d.lines[d.lines.length - 1]?.msg, 'stopped');
});
