// The boot scripts' fast path (bootFastPath on HttpListener.setFastPath) against the app's own
// route (registerBootRoutes): over a real loopback socket, every request gets the same answer
// either way, and the fast path takes only GET/HEAD of the boot paths once the engine is up.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openStore } from '../../../src/store/index.ts';
import type { Store } from '../../../src/store/index.ts';
import { silentLogger } from '../../../src/log/logger.ts';
import { EventBus } from '../../../src/events/bus.ts';
import type { BootEvent } from '../../../src/events/bus.ts';
import { GeneratedFiles } from '../../../src/files/registry.ts';
import { FileResolver } from '../../../src/files/resolver.ts';
import { HostDirectory } from '../../../src/boot/hosts.ts';
import { BootEngine } from '../../../src/boot/engine.ts';
import { bootFastPath, registerBootRoutes } from '../../../src/http/boot-routes.ts';
import { HttpListener } from '../../../src/http/listener.ts';
import type { FastPath } from '../../../src/http/listener.ts';
import { createHttpApp } from '../../../src/http/server.ts';

const MAC = '52:54:00:12:34:56';
const dir = mkdtempSync(path.join(tmpdir(), 'bh-fastpath-'));
const root = path.join(dir, 'root');

interface Server {
  port: number;
  listener: HttpListener;
  /** Requests the fast path took. */
  taken: number;
  close(): Promise<void>;
}

let store: Store;
let engine: BootEngine | undefined;
const events: BootEvent[] = [];

before(async () => {
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  store = await openStore(`sqlite:${path.join(dir, 'fast.db')}`, { logger: silentLogger() });
  await store.migrate();
  const p = await store.profiles.create({ name: 'debian', spec: { kind: 'linux', kernel: 'debian/linux', initrd: ['debian/initrd.gz'], cmdline: 'console=ttyS0' } });
  await store.hosts.create({ macs: [MAC], hostname: 'node01', state: 'active', profileId: p.id });
  const bus = new EventBus((err) => {
    throw err;
  });
  bus.subscribe((e) => events.push(e));
  const directory = new HostDirectory({ store, logger: silentLogger() });
  await directory.refresh();
  // Every fetch an event (no per-host summaries): the tests below fetch the same host's script many times.
  engine = new BootEngine({ directory, events: bus, logger: silentLogger(), bootRoot: root, diskCheckMs: 0, repeats: { burst: 0 } });
});

after(async () => {
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** An app on a real listener; with `fast`, the boot fast path is set on the listener. */
async function serve(fast: boolean, getEngine: () => BootEngine | undefined = () => engine): Promise<Server> {
  const listener = new HttpListener({ logger: silentLogger() });
  const registry = new GeneratedFiles();
  const app = createHttpApp({ logger: silentLogger(), events: new EventBus(), resolver: new FileResolver({ root, registry }), listener, routes: (a) => registerBootRoutes(a, getEngine) });
  await app.ready();
  const s: Server = { port: 0, listener, taken: 0, close: async () => {} };
  if (fast) {
    const inner = bootFastPath(getEngine);
    const counting: FastPath = {
      paths: inner.paths,
      answer: (p, q, ip) => {
        const a = inner.answer(p, q, ip);
        if (a !== undefined) s.taken++;
        return a;
      },
    };
    listener.setFastPath(counting);
  }
  const a = await listener.listen('127.0.0.1', 0);
  s.port = a.port;
  s.close = async () => {
    await listener.close(0);
    await app.close();
  };
  return s;
}

/** One raw HTTP/1.1 exchange; the answer with the Date header taken out. */
function exchange(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1', () => sock.write(request));
    let out = '';
    sock.setEncoding('latin1');
    sock.on('data', (d: string) => (out += d));
    sock.on('error', reject);
    sock.on('close', () => resolve(out.replace(/^Date: .*\r\n/im, '')));
  });
}

const get = (target: string, method = 'GET', extra = ''): string => `${method} ${target} HTTP/1.1\r\nHost: boot\r\nConnection: close\r\n${extra}\r\n`;

describe('boot scripts: fast path and app answer alike', () => {
  let fast: Server;
  let slow: Server;
  before(async () => {
    fast = await serve(true);
    slow = await serve(false);
  });
  after(async () => {
    await fast?.close();
    await slow?.close();
  });

  const same: [string, string, boolean][] = [
    ['the per-host script', get(`/boot.ipxe?mac=${MAC}&arch=x86_64&platform=efi`), true],
    ['HEAD of the script', get(`/boot.ipxe?mac=${MAC}`, 'HEAD'), true],
    ['an unknown MAC', get('/boot.ipxe?mac=52:54:00:00:00:01'), true],
    ['a malformed MAC and repeated keys', get('/boot.ipxe?mac=zz%00&mac=1&uuid=%ZZ'), true],
    ['no query (the client address decides)', get('/boot.ipxe'), true],
    ['the menu', get('/menu.ipxe?arch=i386'), true],
    ['register', get(`/register.ipxe?mac=${MAC}`), true],
    ['POST (405 from the app)', get('/boot.ipxe', 'POST', 'Content-Length: 0\r\n'), false],
    ['a // target (400 from the app)', get('//boot.ipxe'), false],
    ['an absolute-form target (400 from the app)', get('http://boot/boot.ipxe'), false],
    ['another path (404 from the app)', get('/boot.ipxe2'), false],
  ];
  for (const [what, req, taken] of same) {
    it(`${what}: same bytes; fast path ${taken ? 'answers' : 'leaves it to the app'}`, async () => {
      const before = fast.taken;
      const a = await exchange(fast.port, req);
      const b = await exchange(slow.port, req);
      assert.match(a, /^HTTP\/1\.1 \d{3} /);
      assert.equal(a, b);
      assert.equal(fast.taken - before, taken ? 1 : 0);
    });
  }

  it('the script answer carries the headers iPXE and caches need', async () => {
    const a = await exchange(fast.port, get(`/boot.ipxe?mac=${MAC}`));
    const [head, body] = a.split('\r\n\r\n');
    assert.match(head!, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(head!, /\r\ncontent-type: text\/plain; charset=utf-8\r\n/i);
    assert.match(head!, /\r\ncache-control: no-store\r\n/i);
    assert.equal(Number(/\r\ncontent-length: (\d+)/i.exec(head!)?.[1]), Buffer.byteLength(body!));
    assert.match(body!, /^kernel \/debian\/linux /m);
  });

  it('every script answered on the fast path is a boot event naming the host', async () => {
    const n = events.length;
    await exchange(fast.port, get(`/boot.ipxe?mac=${MAC}`));
    const e = events.slice(n).filter((x) => x.kind === 'script');
    assert.equal(e.length, 1);
    assert.equal(e[0]?.detail['client'], MAC);
    assert.equal(e[0]?.detail['profile'], 'debian');
  });

  it('keep-alive and pipelining: scripts on one connection are answered in order', async () => {
    const targets = [`/boot.ipxe?mac=${MAC}`, '/menu.ipxe', `/boot.ipxe?mac=${MAC}&arch=x86_64&platform=efi`];
    const req = targets.map((t, i) => `GET ${t} HTTP/1.1\r\nHost: boot\r\n${i === targets.length - 1 ? 'Connection: close\r\n' : ''}\r\n`).join('');
    const before = fast.taken;
    const a = await exchange(fast.port, req);
    const b = await exchange(slow.port, req);
    assert.equal(a.replace(/^Date: .*\r\n/gim, ''), b.replace(/^Date: .*\r\n/gim, ''));
    assert.equal(fast.taken - before, 3);
    const bodies = a.split(/HTTP\/1\.1 200 OK\r\n/).slice(1);
    assert.equal(bodies.length, 3);
    assert.match(bodies[0]!, /^# bootherd: profile debian for node01/m);
    assert.match(bodies[1]!, /^menu /m);
    assert.match(bodies[2]!, /^# bootherd: profile debian for node01/m);
  });

  it('pipelined: a script, a file, a script, a POST with a body: the app takes over at the file, same bytes', async () => {
    writeFileSync(path.join(root, 'ipxe.efi'), 'MZ-efi');
    const req = [`GET /boot.ipxe?mac=${MAC} HTTP/1.1\r\nHost: boot\r\n\r\n`, 'GET /ipxe.efi HTTP/1.1\r\nHost: boot\r\n\r\n', `GET /boot.ipxe?mac=${MAC} HTTP/1.1\r\nHost: boot\r\n\r\n`, 'POST /boot.ipxe HTTP/1.1\r\nHost: boot\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello'].join('');
    const a = await exchange(fast.port, req);
    const b = await exchange(slow.port, req);
    const norm = (x: string) => x.replace(/^Date: .*\r\n/gim, '');
    assert.equal(norm(a), norm(b));
    assert.equal((a.match(/HTTP\/1\.1 \d{3} /g) ?? []).length, 4);
    assert.match(a, /MZ-efi/);
    assert.match(a, /HTTP\/1\.1 405 /);
  });

  it('a request head split over several writes, HTTP/1.0, and Content-Length: 0 are answered alike', async () => {
    const split = async (port: number): Promise<string> =>
      new Promise((resolve, reject) => {
        const sock = net.connect(port, '127.0.0.1', () => {
          sock.write(`GET /boot.ipxe?mac=${MAC} HT`);
          setTimeout(() => sock.write('TP/1.1\r\nHost: bo'), 20);
          setTimeout(() => sock.write('ot\r\nConnection: close\r\n\r\n'), 40);
        });
        let out = '';
        sock.setEncoding('latin1');
        sock.on('data', (d: string) => (out += d));
        sock.on('error', reject);
        sock.on('close', () => resolve(out.replace(/^Date: .*\r\n/im, '')));
      });
    assert.equal(await split(fast.port), await split(slow.port));
    assert.match(await split(fast.port), /^kernel \/debian\/linux /m);
    for (const r of [`GET /boot.ipxe?mac=${MAC} HTTP/1.0\r\nHost: boot\r\n\r\n`, get(`/boot.ipxe?mac=${MAC}`, 'GET', 'Content-Length: 0\r\n'), get(`/boot.ipxe?mac=${MAC}`, 'GET', 'X-Odd:\x01\r\n')]) {
      assert.equal(await exchange(fast.port, r), await exchange(slow.port, r));
    }
  });

  it('a client pipelining more than the fast path buffers gets every answer, in order', async () => {
    const one = `GET /boot.ipxe?mac=${MAC} HTTP/1.1\r\nHost: boot\r\n\r\n`;
    const n = Math.ceil((2 * 64 * 1024) / one.length);
    const req = one.repeat(n - 1) + `GET /menu.ipxe HTTP/1.1\r\nHost: boot\r\nConnection: close\r\n\r\n`;
    const a = await exchange(fast.port, req);
    assert.equal((a.match(/HTTP\/1\.1 200 OK/g) ?? []).length, n);
    assert.match(a.slice(a.lastIndexOf('HTTP/1.1 200 OK')), /^menu /m);
  });

  it('a client that half-closes after its request still gets the script', async () => {
    const out = await new Promise<string>((resolve, reject) => {
      const sock = net.connect(fast.port, '127.0.0.1', () => sock.end(`GET /boot.ipxe?mac=${MAC} HTTP/1.1\r\nHost: boot\r\n\r\n`));
      let acc = '';
      sock.setEncoding('latin1');
      sock.on('data', (d: string) => (acc += d));
      sock.on('error', reject);
      sock.on('close', () => resolve(acc));
    });
    assert.match(out, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(out, /^kernel \/debian\/linux /m);
  });

  it("an operator's own boot.ipxe in the boot root is served by the file route", async () => {
    writeFileSync(path.join(root, 'boot.ipxe'), '#!ipxe\necho hand-written\n');
    try {
      const before = fast.taken;
      const a = await exchange(fast.port, get(`/boot.ipxe?mac=${MAC}`));
      assert.match(a, /\r\n\r\n#!ipxe\necho hand-written\n$/);
      assert.match(a, /accept-ranges: bytes/i, 'the file route answered');
      assert.equal(a, await exchange(slow.port, get(`/boot.ipxe?mac=${MAC}`)));
      assert.equal(fast.taken - before, 0, 'the engine declined at once: the app served the file');
    } finally {
      rmSync(path.join(root, 'boot.ipxe'));
    }
  });
});

describe('boot scripts: when the fast path stands aside', () => {
  it('before the engine exists the app answers 503 with Retry-After', async () => {
    const s = await serve(true, () => undefined);
    try {
      const a = await exchange(s.port, get(`/boot.ipxe?mac=${MAC}`));
      assert.match(a, /^HTTP\/1\.1 503 /);
      assert.match(a, /\r\nretry-after: 5\r\n/i);
      assert.equal(s.taken, 0);
    } finally {
      await s.close();
    }
  });
});

describe('boot scripts: closing with fast-path connections open', () => {
  it('close() ends idle keep-alive connections on the fast path at once and resolves', async () => {
    const s = await serve(true);
    const sock = net.connect(s.port, '127.0.0.1');
    let out = '';
    sock.setEncoding('latin1');
    sock.on('data', (d: string) => (out += d));
    const closed = new Promise<void>((r) => sock.once('close', () => r()));
    await new Promise<void>((r) => sock.once('connect', () => r()));
    sock.write(`GET /boot.ipxe?mac=${MAC} HTTP/1.1\r\nHost: boot\r\n\r\n`);
    while (!/goto failed\n/.test(out)) await new Promise((r) => setTimeout(r, 5));
    assert.equal(s.taken, 1);
    // A long grace period: close() must not wait for it, since the connection is idle.
    await s.listener.close(600_000);
    await closed;
    await s.close();
  });
});
