// The boot-file app driven through fastify's inject() (no socket): what a firmware or an attacker
// sees for each request. Raw-socket cases (absolute-form, parser errors, timeouts, the connection
// cap, TLS) are in test/integration/http.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { createHttpApp } from '../../../src/http/server.ts';
import { FileResolver } from '../../../src/files/resolver.ts';
import { GeneratedFiles } from '../../../src/files/registry.ts';
import { EventBus } from '../../../src/events/bus.ts';
import type { BootEvent } from '../../../src/events/bus.ts';
import { silentLogger } from '../../../src/log/logger.ts';

let dir = '';
let root = '';
let app: FastifyInstance;
let streaming: FastifyInstance;
const events: BootEvent[] = [];
const SENTINEL = 'HOSTILE-PROBE-SENTINEL-' + randomBytes(8).toString('hex');
const efi = randomBytes(200_000);
const big = randomBytes(3 * 1024 * 1024 + 17);
const MTIME = new Date('2025-03-01T10:00:00Z');

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'bh-http-unit-'));
  root = join(dir, 'root');
  mkdirSync(join(root, 'images', 'debian'), { recursive: true });
  mkdirSync(join(root, '.git'));
  mkdirSync(join(dir, 'outside'));
  writeFileSync(join(dir, 'outside', 'SENTINEL.txt'), SENTINEL);
  writeFileSync(join(root, 'ipxe.efi'), efi);
  writeFileSync(join(root, 'boot.ipxe'), '#!ipxe\nchain http://x/next\n');
  writeFileSync(join(root, 'grub.cfg'), 'set timeout=1\n');
  writeFileSync(join(root, 'images', 'debian', 'linux'), big);
  writeFileSync(join(root, 'empty.bin'), '');
  writeFileSync(join(root, '.git', 'config'), SENTINEL);
  writeFileSync(join(root, '.env'), SENTINEL);
  writeFileSync(join(root, 'boot.ipxe~'), SENTINEL);
  writeFileSync(join(root, 'secret0600.txt'), SENTINEL);
  chmodSync(join(root, 'secret0600.txt'), 0o600);
  symlinkSync('../outside/SENTINEL.txt', join(root, 'escape-link'));
  symlinkSync('../outside', join(root, 'dirlink'));
  symlinkSync('/dev/zero', join(root, 'devzero'));
  execFileSync('mkfifo', [join(root, 'fifo')]);
  for (const f of ['ipxe.efi', 'boot.ipxe', 'grub.cfg', 'images/debian/linux']) utimesSync(join(root, f), MTIME, MTIME);

  const bus = new EventBus();
  bus.subscribe((e) => events.push(e));
  const registry = new GeneratedFiles();
  registry.publish('pxelinux.cfg/default', 'DEFAULT local\n');
  app = createHttpApp({
    logger: silentLogger(),
    events: bus,
    resolver: new FileResolver({ root, registry }),
    routes: (a) => {
      a.get('/boot.ipxe', async (_req, reply) => reply.type('text/plain').send('#!ipxe\necho dynamic\n'));
    },
  });
  // The same root with the cache off: every file is streamed from disk in small chunks.
  streaming = createHttpApp({ logger: silentLogger(), events: new EventBus(), resolver: new FileResolver({ root, cacheBytes: 0 }), streamChunkBytes: 64 * 1024 });
});
after(async () => {
  await app.close();
  await streaming.close();
  rmSync(dir, { recursive: true, force: true });
});

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

test('GET serves the file with Content-Length, Accept-Ranges, Last-Modified and application/efi', async () => {
  const r = await app.inject({ method: 'GET', url: '/ipxe.efi', headers: { 'user-agent': 'iPXE/1.21.1' } });
  assert.equal(r.statusCode, 200);
  assert.equal(sha(r.rawPayload), sha(efi));
  assert.equal(r.headers['content-length'], String(efi.length));
  assert.equal(r.headers['content-type'], 'application/efi');
  assert.equal(r.headers['accept-ranges'], 'bytes');
  assert.equal(r.headers['last-modified'], MTIME.toUTCString());
});

test('HEAD (EDK2 HTTP Boot) has the real Content-Length and no body', async () => {
  const r = await app.inject({ method: 'HEAD', url: '/ipxe.efi', headers: { 'user-agent': 'UefiHttpBoot/1.0' } });
  assert.equal(r.statusCode, 200);
  assert.equal(r.headers['content-length'], String(efi.length));
  assert.equal(r.headers['content-type'], 'application/efi');
  assert.equal(r.rawPayload.length, 0);
});

test('content types: text for .ipxe and .cfg, octets for a kernel', async () => {
  assert.equal((await app.inject('/grub.cfg')).headers['content-type'], 'text/plain; charset=utf-8');
  assert.equal((await app.inject('/images/debian/linux')).headers['content-type'], 'application/octet-stream');
});

test('Range: one range is 206 with Content-Range and exactly those bytes; HEAD ignores Range', async () => {
  const r = await app.inject({ url: '/ipxe.efi', headers: { range: 'bytes=100-199' } });
  assert.equal(r.statusCode, 206);
  assert.equal(r.headers['content-range'], `bytes 100-199/${efi.length}`);
  assert.equal(r.headers['content-length'], '100');
  assert.deepEqual(r.rawPayload, efi.subarray(100, 200));
  const tail = await app.inject({ url: '/ipxe.efi', headers: { range: 'bytes=-10' } });
  assert.deepEqual(tail.rawPayload, efi.subarray(efi.length - 10));
  const head = await app.inject({ method: 'HEAD', url: '/ipxe.efi', headers: { range: 'bytes=0-0' } });
  assert.equal(head.statusCode, 200);
  assert.equal(head.headers['content-length'], String(efi.length));
});

test('Range: unsatisfiable is 416 with "bytes */size"; multi and absurd ranges get the whole file (H14)', async () => {
  for (const range of [`bytes=${efi.length}-`, 'bytes=5-1', 'bytes=99999999999999999999999-']) {
    const r = await app.inject({ url: '/ipxe.efi', headers: { range } });
    assert.equal(r.statusCode, 416, range);
    assert.equal(r.headers['content-range'], `bytes */${efi.length}`);
  }
  const empty = await app.inject({ url: '/empty.bin', headers: { range: 'bytes=0-' } });
  assert.equal(empty.statusCode, 416);
  assert.equal(empty.headers['content-range'], 'bytes */0');
  const many = 'bytes=' + Array.from({ length: 1000 }, () => '0-').join(',');
  for (const range of ['bytes=-1,-9223372036854775807', 'bytes=0-,0-,0-', many.slice(0, 8000)]) {
    const r = await app.inject({ url: '/ipxe.efi', headers: { range } });
    assert.equal(r.statusCode, 200, range.slice(0, 30));
    assert.equal(r.rawPayload.length, efi.length);
  }
  const huge = await app.inject({ url: '/ipxe.efi', headers: { range: 'bytes=-9223372036854775807' } });
  assert.equal(huge.statusCode, 206);
  assert.equal(huge.headers['content-range'], `bytes 0-${efi.length - 1}/${efi.length}`);
});

test('If-Range with a stale date sends the whole file; If-Modified-Since answers 304', async () => {
  const stale = await app.inject({ url: '/ipxe.efi', headers: { range: 'bytes=0-9', 'if-range': 'Sat, 01 Jan 2000 00:00:00 GMT' } });
  assert.equal(stale.statusCode, 200);
  const fresh = await app.inject({ url: '/ipxe.efi', headers: { range: 'bytes=0-9', 'if-range': MTIME.toUTCString() } });
  assert.equal(fresh.statusCode, 206);
  const nm = await app.inject({ url: '/ipxe.efi', headers: { 'if-modified-since': MTIME.toUTCString() } });
  assert.equal(nm.statusCode, 304);
  assert.equal(nm.rawPayload.length, 0);
  const older = await app.inject({ url: '/ipxe.efi', headers: { 'if-modified-since': 'Sat, 01 Jan 2000 00:00:00 GMT' } });
  assert.equal(older.statusCode, 200);
});

test('large files stream from disk when not cached: whole file and ranges are byte-exact', async () => {
  const r = await streaming.inject('/images/debian/linux');
  assert.equal(r.statusCode, 200);
  assert.equal(r.headers['content-length'], String(big.length));
  assert.equal(sha(r.rawPayload), sha(big));
  const mid = await streaming.inject({ url: '/images/debian/linux', headers: { range: 'bytes=65530-200000' } });
  assert.equal(mid.statusCode, 206);
  assert.deepEqual(mid.rawPayload, big.subarray(65530, 200001));
  const head = await streaming.inject({ method: 'HEAD', url: '/images/debian/linux' });
  assert.equal(head.headers['content-length'], String(big.length));
  assert.equal(head.rawPayload.length, 0);
});

test('generated files are served like files; dynamic routes win over a file of the same name', async () => {
  const g = await app.inject('/pxelinux.cfg/default');
  assert.equal(g.statusCode, 200);
  assert.equal(g.body, 'DEFAULT local\n');
  const d = await app.inject('/boot.ipxe');
  assert.equal(d.body, '#!ipxe\necho dynamic\n');
  const h = await app.inject({ method: 'HEAD', url: '/boot.ipxe' });
  assert.equal(h.statusCode, 200);
});

test('/healthz answers 200 "ok"', async () => {
  const r = await app.inject('/healthz');
  assert.equal(r.statusCode, 200);
  assert.equal(r.body.trim(), 'ok');
});

/** Every hostile answer: the expected status, a bare body, and nothing from outside the root. */
function assertSafe(r: { statusCode: number; body: string; headers: Record<string, unknown> }, what: string): void {
  assert.ok(!r.body.includes(SENTINEL), `${what}: sentinel leaked`);
  assert.ok(!r.body.includes(root) && !r.body.includes(dir) && !r.body.includes('/tmp'), `${what}: server path in body: ${r.body}`);
  assert.ok(!/\bat \S+ \(|node:|fastify|v\d+\.\d+|Error:|BH_/.test(r.body), `${what}: internals in body: ${r.body}`);
  assert.ok(r.body.length < 64, `${what}: body too chatty: ${r.body}`);
  assert.equal(r.headers['server'], undefined);
  assert.equal(r.headers['x-powered-by'], undefined);
}

test('H01–H05, H08, H10: traversal and odd names get 400/404 and never anything from outside the root', async () => {
  const cases: [string, number][] = [
    ['/..%2f..%2fetc/passwd', 400],
    ['/%252e%252e%252fetc%252fpasswd', 404],
    ['/..%5c..%5cetc%5cpasswd', 400],
    ['/ipxe.efi%00.txt', 400],
    ['/%c0%ae%c0%ae/etc/passwd', 400],
    ['/%ff', 400],
    ['/images%2f..%2f..%2foutside%2fSENTINEL.txt', 400],
    ['/.git/config', 404],
    ['/.env', 404],
    ['/boot.ipxe~', 404],
    ['/', 404],
    ['/images/', 404],
    ['/images', 404],
    ['/missing.efi', 404],
  ];
  for (const [url, code] of cases) {
    const r = await app.inject(url);
    assert.equal(r.statusCode, code, url);
    assertSafe(r, url);
  }
});

test('H06: symlinks out of the root, a FIFO, a device and a 0600 file are 404 without hanging', async () => {
  for (const url of ['/escape-link', '/dirlink/SENTINEL.txt', '/fifo', '/devzero', '/secret0600.txt']) {
    const r = await app.inject(url);
    assert.equal(r.statusCode, 404, url);
    assertSafe(r, url);
  }
});

test('H16: TRACE, PUT, DELETE, PROPFIND, POST, OPTIONS are 405 with Allow: GET, HEAD', async () => {
  for (const method of ['TRACE', 'PUT', 'DELETE', 'PROPFIND', 'POST', 'OPTIONS', 'PATCH'] as const) {
    const r = await app.inject({ method, url: '/ipxe.efi', payload: method === 'POST' || method === 'PUT' ? 'x' : undefined });
    assert.equal(r.statusCode, 405, method);
    assert.equal(r.headers['allow'], 'GET, HEAD');
    assertSafe(r, method);
  }
});

test('H17: the Host header has no effect on what is served', async () => {
  const a = await app.inject({ url: '/grub.cfg', headers: { host: 'evil.example' } });
  const b = await app.inject({ url: '/grub.cfg', headers: { host: '127.0.0.1:8080' } });
  assert.equal(a.statusCode, 200);
  assert.equal(a.body, b.body);
});

test('every file answer emits one http/file boot event with sanitised detail', async () => {
  events.length = 0;
  await app.inject({ url: '/ipxe.efi', headers: { 'user-agent': 'evil\r\nX-Injected: 1\x1b[31m', range: 'bytes=0-99' } });
  await app.inject({ method: 'HEAD', url: '/ipxe.efi', headers: { 'user-agent': 'UefiHttpBoot/1.0' } });
  await app.inject('/missing.efi');
  await app.inject('/healthz');
  assert.equal(events.length, 3, JSON.stringify(events));
  const [ranged, head, missing] = events;
  assert.equal(ranged?.stage, 'http');
  assert.equal(ranged?.kind, 'file');
  assert.equal(ranged?.host, '127.0.0.1');
  assert.deepEqual(
    { path: ranged?.detail['path'], size: ranged?.detail['size'], status: ranged?.detail['status'], range: ranged?.detail['range'], client: ranged?.detail['client'] },
    { path: 'ipxe.efi', size: efi.length, status: 206, range: '0-99', client: '127.0.0.1' },
  );
  assert.equal(ranged?.detail['user_agent'], 'evil??X-Injected: 1?[31m');
  assert.equal(typeof ranged?.detail['duration_ms'], 'number');
  assert.equal(head?.detail['method'], 'HEAD');
  assert.equal(head?.detail['user_agent'], 'UefiHttpBoot/1.0');
  assert.equal(missing?.detail['status'], 404);
});
