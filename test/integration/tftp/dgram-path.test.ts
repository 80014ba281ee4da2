// The portable path (fastPath: false: plain node:dgram, no koffi, no compiler), and a transfer the
// hot path cannot take (no descriptor from libc) falling back to it: files of edge sizes, from
// the cache and read from disk, lock-step and windowed, over loss, duplication and reordering,
// with a stranger on the transfer's port.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { rmSync } from 'node:fs';
import { EventBus } from '../../../src/events/bus.ts';
import type { BootEvent } from '../../../src/events/bus.ts';
import { FileResolver } from '../../../src/files/resolver.ts';
import { silentLogger } from '../../../src/log/logger.ts';
import { decodePacket, encodeAck } from '../../../src/protocol/tftp/packets.ts';
import { TftpServer } from '../../../src/tftp/server.ts';
import { loadFastUdp } from '../../../src/tftp/udp-fast.ts';
import type { FastUdp } from '../../../src/tftp/udp-fast.ts';
import { tftpGet } from '../../helpers/tftp-client.ts';
import { makeRoot, sha256 } from './fixtures.ts';
import type { Fixture } from './fixtures.ts';

const HOST = '127.0.0.1';
const OPTIONS: [string, { name: string; value: string }[]][] = [
  ['lock-step, blksize 512', []],
  ['lock-step, blksize 1468', [{ name: 'blksize', value: '1468' }]],
  ['windowsize 8, blksize 1468', [{ name: 'blksize', value: '1468' }, { name: 'windowsize', value: '8' }, { name: 'tsize', value: '0' }]],
];

async function idle(server: TftpServer): Promise<void> {
  for (let i = 0; i < 200 && server.activeSessions > 0; i++) await new Promise((r) => setTimeout(r, 25));
}

describe('the portable path (fastPath: false)', () => {
  let fx: Fixture;
  let cached: TftpServer;
  let fromDisk: TftpServer;
  const events: BootEvent[] = [];
  before(async () => {
    fx = makeRoot({ extra: { 'mid.bin': 300_001, 'lossy.bin': 150_000 } });
    const bus = new EventBus();
    bus.subscribe((e) => events.push(e));
    const opts = { logger: silentLogger(), events: bus, limits: { maxRetries: 10 }, fastPath: false } as const;
    cached = new TftpServer({ ...opts, resolver: new FileResolver({ root: fx.root }) });
    fromDisk = new TftpServer({ ...opts, resolver: new FileResolver({ root: fx.root, cacheBytes: 0 }) });
    await cached.start({ address: HOST, port: 0 });
    await fromDisk.start({ address: HOST, port: 0 });
  });
  after(async () => {
    await cached?.stop();
    await fromDisk?.stop();
    if (fx) rmSync(fx.dir, { recursive: true, force: true });
  });

  test('files of 0, 511, 512, 513 and 300,001 octets arrive intact, from the cache and from disk, lock-step and windowed', async () => {
    assert.equal(cached.lockstepPath, 'javascript');
    for (const server of [cached, fromDisk]) {
      for (const [title, options] of OPTIONS) {
        for (const file of ['empty.bin', 's511.bin', 's512.bin', 's513.bin', 'mid.bin']) {
          const r = await tftpGet({ host: HOST, port: server.port, file, options });
          assert.equal(sha256(r.data), fx.files.get(file), `${file}, ${title}`);
        }
      }
    }
  });

  test('over loss, duplication and reordering the files arrive intact; the losses are repaired by retransmission', async () => {
    for (const [title, options] of OPTIONS) {
      for (const seed of [1, 2]) {
        const r = await tftpGet({ host: HOST, port: cached.port, file: 'lossy.bin', options, timeoutMs: 300, retries: 30, faults: { loss: 0.05, duplicate: 0.02, reorder: 0.1, delayMs: 5, seed } });
        assert.equal(sha256(r.data), fx.files.get('lossy.bin'), `${title}, seed ${seed}`);
      }
    }
    await idle(cached);
    const m = cached.metrics();
    assert.ok(m.retransmits > 0);
    assert.ok(m.duplicateAcks > 0);
    assert.deepEqual([m.nativeRounds, m.gsoSends, m.waitMisses], [0, 0, 0], 'no hot path');
  });

  test('a stranger sending to the transfer\'s port gets ERROR 5 and the transfer goes on', async () => {
    const stranger = dgram.createSocket('udp4');
    const got: number[] = [];
    stranger.on('message', (msg) => {
      const d = decodePacket(msg);
      if (d.ok && d.packet.op === 'error') got.push(d.packet.code);
    });
    await new Promise<void>((r) => stranger.bind({ address: HOST, port: 0 }, r));
    try {
      const r = await tftpGet({
        host: HOST,
        port: cached.port,
        file: 'mid.bin',
        onPeer: (peer) => stranger.send(encodeAck(1), peer.port, peer.address),
      });
      assert.equal(sha256(r.data), fx.files.get('mid.bin'));
      for (let i = 0; i < 100 && got.length === 0; i++) await new Promise((res) => setTimeout(res, 10));
      assert.deepEqual(got, [5]);
    } finally {
      stranger.close();
    }
    assert.equal(events.filter((e) => e.kind === 'transfer-fail').length, 0);
  });
});

describe('a transfer the hot path cannot take (no descriptor) goes through dgram', { skip: loadFastUdp() === undefined ? 'the libc hot path (koffi) is not available here' : false }, () => {
  test('every other transfer socket refused by libc: all transfers arrive intact', async () => {
    const fx = makeRoot({ extra: { 'mid.bin': 300_001 } });
    const real = loadFastUdp()!;
    let calls = 0;
    let refused = 0;
    const udp: FastUdp = {
      ...real,
      openBound(address: string): number {
        if (calls++ % 2 === 1) {
          refused++;
          return -1;
        }
        return real.openBound(address);
      },
    };
    const server = new TftpServer({ logger: silentLogger(), events: new EventBus(), resolver: new FileResolver({ root: fx.root }), fastPath: { udp } });
    await server.start({ address: HOST, port: 0 });
    try {
      const results = await Promise.all(Array.from({ length: 6 }, (_, i) => tftpGet({ host: HOST, port: server.port, file: 'mid.bin', options: OPTIONS[i % OPTIONS.length]![1] })));
      for (const r of results) assert.equal(sha256(r.data), fx.files.get('mid.bin'));
      assert.equal(refused, 3);
      await idle(server);
      assert.equal(server.metrics().finished, 6);
    } finally {
      await server.stop();
      rmSync(fx.dir, { recursive: true, force: true });
    }
  });
});
