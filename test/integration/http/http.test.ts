// The HTTP boot-file server listening on loopback, driven by real curl and raw sockets: what
// firmware and attackers actually send, through Node's real HTTP parser.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { createHttpApp, listenerOf } from '../../../src/http/server.ts';
import { FileResolver } from '../../../src/files/resolver.ts';
import { EventBus } from '../../../src/events/bus.ts';
import type { BootEvent } from '../../../src/events/bus.ts';
import { silentLogger } from '../../../src/log/logger.ts';
import { curl, makeFixture, rawRequest, requireTool, SENTINEL, sha256 } from './helpers.ts';
import type { Fixture } from './helpers.ts';

let dir = '';
let fx: Fixture;
let cached: FastifyInstance;
let streamed: FastifyInstance;
let strict: FastifyInstance;
let port = 0;
let streamPort = 0;
let strictPort = 0;
const events: BootEvent[] = [];

before(async () => {
  requireTool('curl', 'curl');
  dir = mkdtempSync(join(tmpdir(), 'bh-http-int-'));
  fx = makeFixture(dir);
  const bus = new EventBus();
  bus.subscribe((e) => events.push(e));
  cached = createHttpApp({ logger: silentLogger(), events: bus, resolver: new FileResolver({ root: fx.root }) });
  streamed = createHttpApp({ logger: silentLogger(), events: new EventBus(), resolver: new FileResolver({ root: fx.root, cacheBytes: 0 }) });
  // Short timeouts and a small per-IP cap, to observe them without waiting long.
  strict = createHttpApp({
    logger: silentLogger(),
    events: new EventBus(),
    resolver: new FileResolver({ root: fx.root }),
    limits: { headersTimeoutMs: 1000, requestTimeoutMs: 2000, keepAliveTimeoutMs: 500, maxConnectionsPerIp: 4 },
  });
  await cached.listen({ host: '127.0.0.1', port: 0 });
  await streamed.listen({ host: '127.0.0.1', port: 0 });
  await strict.listen({ host: '127.0.0.1', port: 0 });
  port = (cached.server.address() as net.AddressInfo).port;
  streamPort = (streamed.server.address() as net.AddressInfo).port;
  strictPort = (strict.server.address() as net.AddressInfo).port;
});
after(async () => {
  await cached?.close();
  await streamed?.close();
  await strict?.close();
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

test('curl HEAD (as EDK2 does it) gets the size and no body', async () => {
  const r = await curl(['-I', '-A', 'UefiHttpBoot/1.0', `http://127.0.0.1:${port}/ipxe.efi`]);
  assert.equal(r.status, 0, r.stderr);
  const head = r.stdout.toString();
  assert.match(head, /^HTTP\/1\.1 200/);
  assert.match(head, new RegExp(`content-length: ${fx.efi.length}\\r\\n`, 'i'));
  assert.match(head, /content-type: application\/efi/i);
  assert.match(head, /accept-ranges: bytes/i);
});

test('curl ranges: 206 with exactly the requested bytes; 416 beyond the end', async () => {
  const r = await curl(['-r', '1000-1999', '-w', '%{http_code}', '-o', join(dir, 'part'), `http://127.0.0.1:${port}/images/linux`]);
  assert.equal(r.stdout.toString(), '206');
  assert.deepEqual(readFileSync(join(dir, 'part')), fx.big.subarray(1000, 2000));
  const s = await curl(['-r', '1000-1999', '-o', join(dir, 'part2'), `http://127.0.0.1:${streamPort}/images/linux`]);
  assert.equal(s.status, 0, s.stderr);
  assert.deepEqual(readFileSync(join(dir, 'part2')), fx.big.subarray(1000, 2000));
  const bad = await curl(['-r', `${fx.big.length}-`, '-o', '/dev/null', '-D', '-', `http://127.0.0.1:${port}/images/linux`]);
  assert.match(bad.stdout.toString(), /^HTTP\/1\.1 416/);
  assert.match(bad.stdout.toString(), new RegExp(`content-range: bytes \\*/${fx.big.length}`, 'i'));
});

test('a 32 MiB kernel arrives intact, from the memory cache and streamed from disk', async () => {
  for (const p of [port, streamPort]) {
    const out = join(dir, `big-${p}`);
    const r = await curl(['-o', out, '-w', '%{http_code} %{size_download}', `http://127.0.0.1:${p}/images/linux`]);
    assert.equal(r.stdout.toString(), `200 ${fx.big.length}`, r.stderr);
    assert.equal(sha256(readFileSync(out)), sha256(fx.big));
    rmSync(out);
  }
  const ev = events.find((e) => e.detail['path'] === 'images/linux' && e.detail['status'] === 200);
  assert.ok(ev !== undefined, 'a boot event for the download');
  assert.equal(ev.detail['complete'], true);
  assert.match(String(ev.detail['user_agent']), /^curl\//);
});

test('H01/H07: raw traversal, absolute-form and "//" targets are 400 and leak nothing', async () => {
  for (const target of ['/../../etc/passwd', '/%2e%2e/%2e%2e/etc/passwd', '/..%2f..%2fetc/passwd', 'http://evil/etc/passwd', '//etc/passwd', '/images/../../outside/SENTINEL.txt']) {
    const r = await rawRequest(port, `GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    assert.equal(r.status, 400, `${target}: ${r.text.slice(0, 80)}`);
    assert.ok(!r.text.includes(SENTINEL) && !r.text.includes('root:x:0:0') && !r.text.includes(dir), target);
  }
  const c = await rawRequest(port, 'CONNECT evil:443 HTTP/1.1\r\nHost: evil:443\r\n\r\n');
  assert.equal(c.status, 405);
  assert.ok(c.closedByServer);
});

test('H06 through the socket: symlink out, FIFO, /dev/zero and 0600 files are 404 and the server stays up', async () => {
  for (const name of ['escape-link', 'fifo', 'devzero', 'secret0600.txt']) {
    const r = await curl(['-w', '%{http_code}', '-o', join(dir, 'x'), `http://127.0.0.1:${port}/${name}`]);
    assert.equal(r.stdout.toString(), '404', name);
    assert.ok(!readFileSync(join(dir, 'x'), 'latin1').includes(SENTINEL));
  }
  assert.equal((await curl([`http://127.0.0.1:${port}/healthz`])).stdout.toString().trim(), 'ok');
});

test('H12/H09: a 20 KiB header and 10,000 headers are 431; a 64 KiB path is 414', async () => {
  const long = await rawRequest(port, `GET /hello.txt HTTP/1.1\r\nHost: x\r\nX-Long: ${'a'.repeat(20 * 1024)}\r\n\r\n`);
  assert.equal(long.status, 431);
  assert.ok(long.closedByServer);
  const many = await rawRequest(port, `GET /hello.txt HTTP/1.1\r\nHost: x\r\n${Array.from({ length: 10_000 }, (_, i) => `X-${i}: y\r\n`).join('')}\r\n`);
  assert.equal(many.status, 431);
  const path = await rawRequest(port, `GET /${'a'.repeat(64 * 1024)} HTTP/1.1\r\nHost: x\r\n\r\n`);
  assert.equal(path.status, 414);
  assert.ok(path.closedByServer);
});

test('H13: request smuggling shapes are 400 and the connection is closed', async () => {
  const cases = [
    'POST /hello.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    'POST /hello.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!',
    'GET /hello.txt HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n',
    'GET /hello.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n',
    'POST /hello.txt HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n',
    'GET /hello.txt HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\nGET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n',
    'GET /hello.txt HTTP/1.1\r\n\r\n',
  ];
  for (const req of cases) {
    const r = await rawRequest(port, req);
    assert.equal(r.status, 400, `${JSON.stringify(req.slice(0, 70))} → ${r.text.slice(0, 60)}`);
    assert.ok(r.closedByServer, JSON.stringify(req.slice(0, 70)));
    assert.ok(!/hello\n/.test(r.text), 'no file smuggled out behind the error');
  }
});

test('H16: TRACE, PUT, DELETE and PROPFIND over the wire are 405', async () => {
  for (const m of ['TRACE', 'PUT', 'DELETE', 'PROPFIND']) {
    const r = await rawRequest(port, `${m} /hello.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
    assert.equal(r.status, 405, m);
    assert.match(r.text, /allow: GET, HEAD/i);
  }
});

test('H15: a slowloris connection is cut by the headers timeout while a normal client is served', async () => {
  const slow = net.connect({ host: '127.0.0.1', port: strictPort });
  const closed = new Promise<string>((resolve) => {
    let got = '';
    slow.on('data', (d) => (got += d.toString('latin1')));
    slow.on('close', () => resolve(got));
    slow.on('error', () => {});
  });
  slow.write('GET /hello.txt HTTP/1.1\r\nHo');
  const dribble = setInterval(() => slow.writable && slow.write('x'), 200);
  const ok = await curl([`http://127.0.0.1:${strictPort}/hello.txt`]);
  assert.equal(ok.stdout.toString(), 'hello\n');
  const got = await closed;
  clearInterval(dribble);
  assert.ok(got === '' || /^HTTP\/1\.1 408/.test(got), got);
});

test('H15: an idle keep-alive connection is closed by the server', async () => {
  const r = await rawRequest(strictPort, 'GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n', 10_000);
  assert.equal(r.status, 200);
  assert.ok(r.closedByServer, 'the server closed the idle keep-alive connection');
});

test('H15: connections beyond the per-IP cap are closed at once; a freed slot serves again', { timeout: 30_000 }, async () => {
  const listener = listenerOf(strict);
  assert.ok(listener !== undefined);
  const held: net.Socket[] = [];
  for (let i = 0; i < 4; i++) {
    const s = net.connect({ host: '127.0.0.1', port: strictPort });
    s.on('error', () => {});
    await new Promise((r) => s.once('connect', r));
    held.push(s);
  }
  while (listener.connections < 4) await new Promise((r) => setTimeout(r, 10));
  const extra = net.connect({ host: '127.0.0.1', port: strictPort });
  extra.on('error', () => {});
  const refused = await new Promise<boolean>((resolve) => {
    extra.once('data', () => resolve(false));
    extra.once('close', () => resolve(true));
    extra.once('connect', () => extra.write('GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n'));
  });
  assert.ok(refused, 'the fifth connection was closed without an answer');
  assert.ok(listener.refusedConnections >= 1);
  held.pop()?.destroy();
  while (listener.connections > 3) await new Promise((r) => setTimeout(r, 10));
  assert.equal((await curl([`http://127.0.0.1:${strictPort}/hello.txt`])).stdout.toString(), 'hello\n');
  for (const s of held) s.destroy();
});

test('L13: downloads aborted mid-stream release their file descriptors', { timeout: 60_000 }, async () => {
  const { readdirSync } = await import('node:fs');
  const fds = () => readdirSync('/proc/self/fd').length;
  const listener = listenerOf(streamed);
  assert.ok(listener !== undefined);
  while (listener.connections > 0) await new Promise((r) => setTimeout(r, 20));
  const baseline = fds();
  for (let i = 0; i < 20; i++) {
    const s = net.connect({ host: '127.0.0.1', port: streamPort });
    s.on('error', () => {});
    s.write('GET /images/linux HTTP/1.1\r\nHost: x\r\n\r\n');
    // Abort some before any byte arrives (while the file is being opened), the rest mid-body.
    if (i % 2 === 0) s.destroy();
    else await new Promise<void>((r) => s.once('data', () => (s.destroy(), r())));
  }
  while (listener.connections > 0) await new Promise((r) => setTimeout(r, 20));
  while (fds() > baseline) await new Promise((r) => setTimeout(r, 50));
  assert.ok(fds() <= baseline);
  const ok = await curl(['-o', '/dev/null', '-w', '%{http_code}', `http://127.0.0.1:${streamPort}/images/linux`]);
  assert.equal(ok.stdout.toString(), '200');
});
