// Windows sent with UDP GSO (one sendmsg per window, the kernel splits it into datagrams): real
// clients and the fault-injecting test client get every byte, the metrics show GSO was used,
// and a socket the kernel refuses GSO on falls back to one datagram per send without losing a
// block.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import koffi from 'koffi';
import { EventBus } from '../../../src/events/bus.ts';
import type { BootEvent } from '../../../src/events/bus.ts';
import { FileResolver } from '../../../src/files/resolver.ts';
import { GeneratedFiles } from '../../../src/files/registry.ts';
import { silentLogger } from '../../../src/log/logger.ts';
import { TftpServer } from '../../../src/tftp/server.ts';
import type { TftpServerOptions } from '../../../src/tftp/server.ts';
import { loadFastUdp } from '../../../src/tftp/udp-fast.ts';
import type { FastUdp } from '../../../src/tftp/udp-fast.ts';
import { tftpGet } from '../../helpers/tftp-client.ts';
import { CLIENT_PACKAGES, clientCommand, fileSha, makeRoot, requireTool, run, sha256 } from './fixtures.ts';
import type { Fixture } from './fixtures.ts';

const root = process.getuid?.() === 0;
const HOST = '127.0.0.1';
// Sizes around window and block edges: 16 × 1468 = 23,488 (one window), 64 × 1024 = 65,536.
const SIZES: Record<string, number> = {
  'w1468x16.bin': 16 * 1468,
  'w1468x16p1.bin': 16 * 1468 + 1,
  'w1468x16m1.bin': 16 * 1468 - 1,
  'w1024x64.bin': 64 * 1024,
  'odd.bin': 1_000_003,
  'lossy.bin': 300_007,
  'four.bin': 4 * 1024 * 1024,
};

async function startServer(fx: Fixture, extra: Partial<TftpServerOptions> = {}, events?: BootEvent[]): Promise<TftpServer> {
  const bus = new EventBus();
  if (events !== undefined) bus.subscribe((e) => events.push(e));
  const server = new TftpServer({ logger: silentLogger(), events: bus, resolver: new FileResolver({ root: fx.root }), limits: { maxRetries: 10 }, ...extra });
  await server.start({ address: HOST, port: 0 });
  return server;
}

async function idle(server: TftpServer): Promise<void> {
  // The last ACK may still be on its way when a client is done.
  for (let i = 0; i < 200 && server.activeSessions > 0; i++) await new Promise((r) => setTimeout(r, 25));
}

describe('windows with UDP GSO', { skip: loadFastUdp() === undefined ? 'the libc hot path (koffi) is not available here' : false }, () => {
  let fx: Fixture;
  before(() => {
    fx = makeRoot({ extra: SIZES });
  });
  after(() => {
    if (fx) rmSync(fx.dir, { recursive: true, force: true });
  });

  test('atftp with windowsize 4, 16 and 64 gets every file intact, and windows left as GSO sends', { skip: root ? false : 'needs root (CI runs as root)' }, async () => {
    requireTool(...CLIENT_PACKAGES.atftp);
    const server = await startServer(fx);
    try {
      for (const opt of [{ blksize: 1468, windowsize: 16 }, { blksize: 512, windowsize: 4 }, { blksize: 1024, windowsize: 64 }]) {
        for (const file of Object.keys(SIZES)) {
          const out = join(fx.dir, `atftp-${file}-${opt.blksize}-${opt.windowsize}.out`);
          const [cmd, args] = clientCommand('atftp', HOST, server.port, file, out, opt);
          await run(cmd, args, { timeout: 120_000 });
          assert.equal(fileSha(out), fx.files.get(file), `${file} ${JSON.stringify(opt)}: SHA-256`);
          rmSync(out, { force: true });
        }
      }
      await idle(server);
      const m = server.metrics();
      assert.ok(m.gsoSends > 0, 'windows went out as GSO sends');
      assert.equal(m.gsoFallbacks, 0, 'loopback segments: no fallback');
      // Datagrams, not calls: at least one per block of every transfer.
      let blocks = 0;
      for (const bs of [1468, 512, 1024]) for (const size of Object.values(SIZES)) blocks += Math.floor(size / bs) + 1;
      assert.ok(m.packetsSent >= blocks, `${m.packetsSent} datagrams counted for ${blocks} blocks`);
      assert.equal(m.failed, 0);
    } finally {
      await server.stop();
    }
  });

  test('lock-step transfers send no GSO batches (one DATA per send)', { skip: root ? false : 'needs root (CI runs as root)' }, async () => {
    requireTool(...CLIENT_PACKAGES.atftp);
    const server = await startServer(fx);
    try {
      const out = join(fx.dir, 'lockstep.out');
      const [cmd, args] = clientCommand('atftp', HOST, server.port, 'odd.bin', out, { blksize: 1468 });
      await run(cmd, args, { timeout: 120_000 });
      assert.equal(fileSha(out), fx.files.get('odd.bin'));
      await idle(server);
      assert.equal(server.metrics().gsoSends, 0);
    } finally {
      await server.stop();
    }
  });

  test('loss, duplicates and reordering with windows: every file intact, windows resent as GSO sends', async () => {
    const server = await startServer(fx);
    try {
      const cases: { name: string; value: string }[][] = [
        [{ name: 'blksize', value: '1468' }, { name: 'windowsize', value: '16' }],
        [{ name: 'blksize', value: '512' }, { name: 'windowsize', value: '8' }, { name: 'tsize', value: '0' }],
      ];
      for (const options of cases) {
        for (const seed of [1, 2]) {
          const r = await tftpGet({ host: HOST, port: server.port, file: 'lossy.bin', options, timeoutMs: 300, retries: 30, faults: { loss: 0.05, duplicate: 0.03, reorder: 0.1, delayMs: 5, seed } });
          assert.equal(sha256(r.data), fx.files.get('lossy.bin'), `${JSON.stringify(options)} seed ${seed}`);
        }
      }
      await idle(server);
      const m = server.metrics();
      assert.ok(m.gsoSends > 0, 'GSO was used');
      assert.ok(m.retransmits > 0, 'losses were repaired');
    } finally {
      await server.stop();
    }
  });

  test('a socket that refuses GSO sends (EINVAL): the transfer falls back to one datagram per send and loses no block', async () => {
    const real = loadFastUdp()!;
    // SO_NO_CHECK (UDP without checksums) makes the kernel refuse GSO sends on that socket with
    // EINVAL (this kernel refuses even the OACK while UDP_SEGMENT is set): the failure a path
    // without checksum offload gives (EIO), reproduced on loopback.
    const setsockopt = koffi.load('libc.so.6').func('int setsockopt(int fd, int level, int name, intptr_t val, int len)');
    const one = real.alloc(4);
    one.u32[0] = 1;
    let refused = 0;
    const udp: FastUdp = {
      ...real,
      setSegment(fd: number, segsize: number): boolean {
        if (segsize > 0 && (setsockopt(fd, 1, 11, one.addr, 4) as number) === 0) refused++;
        return real.setSegment(fd, segsize);
      },
    };
    const events: BootEvent[] = [];
    const server = await startServer(fx, { fastPath: { udp } }, events);
    try {
      for (const seed of [1, 2]) {
        const r = await tftpGet({ host: HOST, port: server.port, file: 'four.bin', options: [{ name: 'blksize', value: '1468' }, { name: 'windowsize', value: '16' }], timeoutMs: 300, retries: 30, faults: { loss: 0.01, duplicate: 0, reorder: 0, delayMs: 0, seed } });
        assert.equal(sha256(r.data), fx.files.get('four.bin'), `seed ${seed}`);
      }
      await idle(server);
      const m = server.metrics();
      assert.equal(refused, 2, 'both transfers asked for GSO');
      assert.equal(m.gsoFallbacks, 2, 'each transfer fell back once');
      assert.equal(m.gsoSends, 0, 'no GSO send went out');
      assert.equal(events.filter((e) => e.kind === 'transfer-fail').length, 0);
    } finally {
      await server.stop();
    }
  });

  test('a GSO send refused in the middle of a window larger than one send: the rest of that window still leaves one datagram per block', async () => {
    const real = loadFastUdp()!;
    // Windowsize 64 at blksize 1468 takes two sends (44 segments fit in one). The first window
    // send of each transfer (its second sendmsg, after the OACK) is refused with EIO, as on a
    // path without checksum offload.
    const sends = new Map<number, number>();
    let refused = 0;
    let forced = false;
    const udp: FastUdp = {
      ...real,
      setSegment(fd: number, segsize: number): boolean {
        if (segsize > 0) sends.set(fd, 0);
        else sends.delete(fd);
        return real.setSegment(fd, segsize);
      },
      sendMsg(fd: number, msg: number): number {
        const n = sends.get(fd);
        if (n !== undefined) sends.set(fd, n + 1);
        if (n === 1) {
          refused++;
          forced = true;
          return -1;
        }
        return real.sendMsg(fd, msg);
      },
      errno(): number {
        if (!forced) return real.errno();
        forced = false;
        return 5; // EIO
      },
    };
    const events: BootEvent[] = [];
    const server = await startServer(fx, { fastPath: { udp } }, events);
    try {
      for (const file of ['odd.bin', 'four.bin']) {
        const r = await tftpGet({ host: HOST, port: server.port, file, options: [{ name: 'blksize', value: '1468' }, { name: 'windowsize', value: '64' }], timeoutMs: 300, retries: 30 });
        assert.equal(sha256(r.data), fx.files.get(file), file);
      }
      await idle(server);
      const m = server.metrics();
      assert.equal(refused, 2, 'one refused send per transfer');
      assert.equal(m.gsoFallbacks, 2, 'each transfer fell back once');
      assert.equal(events.filter((e) => e.kind === 'transfer-fail').length, 0);
    } finally {
      await server.stop();
    }
  });

  test('generated files (small buffers that share memory with others) arrive intact, lock-step and windowed', async () => {
    const registry = new GeneratedFiles();
    // Buffer.from of short strings are slices of one shared pool: the send must point at the slice.
    const texts = ['#!ipxe\nchain http://198.18.0.1/boot.ipxe\n', 'x'.repeat(1469), 'menu\n'.repeat(3000)];
    texts.forEach((t, i) => registry.publish(`gen/${i}.txt`, Buffer.from(t)));
    const server = await startServer(fx, { registry });
    try {
      for (const [i, t] of texts.entries()) {
        for (const options of [[], [{ name: 'blksize', value: '1468' }, { name: 'windowsize', value: '16' }]]) {
          const r = await tftpGet({ host: HOST, port: server.port, file: `gen/${i}.txt`, options });
          assert.equal(r.data.toString(), t, `gen/${i}.txt ${JSON.stringify(options)}`);
        }
      }
    } finally {
      await server.stop();
    }
  });

  test('fastPath gso: false sends windows one datagram per send', async () => {
    const server = await startServer(fx, { fastPath: { gso: false } });
    try {
      const r = await tftpGet({ host: HOST, port: server.port, file: 'w1468x16p1.bin', options: [{ name: 'blksize', value: '1468' }, { name: 'windowsize', value: '16' }] });
      assert.equal(sha256(r.data), fx.files.get('w1468x16p1.bin'));
      await idle(server);
      assert.equal(server.metrics().gsoSends, 0);
    } finally {
      await server.stop();
    }
  });
});
