// The compiled lock-step loop (native/tftp-fast.c, docs/decisions/0013): a lone lock-step
// transfer's ordinary rounds run in C, everything else in JavaScript. The clients run in their
// own processes (the server's thread blocks in its receive while the loop runs), some with loss,
// duplication and reordering, one with a stranger sending to the transfer's port; every file
// must arrive intact, from the cache and read from disk window by window. The same cases run on
// the koffi path (tftp.native_loop: false) so that both stay covered.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { EventBus } from '../../../src/events/bus.ts';
import { FileResolver } from '../../../src/files/resolver.ts';
import { silentLogger } from '../../../src/log/logger.ts';
import { TftpServer } from '../../../src/tftp/server.ts';
import { loadNativeLoop, nativeLoopError, NATIVE_MODULE_PATH } from '../../../src/tftp/native.ts';
import { loadFastUdp } from '../../../src/tftp/udp-fast.ts';
import type { GetOptions } from '../../helpers/tftp-client.ts';
import { makeRoot, run } from './fixtures.ts';
import type { Fixture } from './fixtures.ts';

const helper = join(import.meta.dirname, '../../helpers/tftp-get-proc.ts');

function hasCompiler(): boolean {
  try {
    execFileSync('sh', ['-c', 'command -v "${CC:-cc}"'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

test('the compiled loop is built and loads wherever a C compiler is (npm ci runs scripts/build-native.sh)', { skip: hasCompiler() ? false : 'no C compiler on this machine: the koffi path is used' }, () => {
  assert.ok(loadNativeLoop() !== undefined, `${NATIVE_MODULE_PATH}: ${nativeLoopError() ?? ''}`);
});

interface ProcResult {
  sha256?: string;
  length?: number;
  strangerErrors?: number;
  error?: string;
}

async function getInChild(get: Omit<GetOptions, 'onPeer'>, strangers = 0): Promise<ProcResult> {
  const { stdout } = await run(process.execPath, [helper, JSON.stringify({ get, strangers })], { timeout: 120_000 });
  return JSON.parse(stdout.trim().split('\n').pop()!) as ProcResult;
}

const SIZES: Record<string, number> = { 'empty.bin': 0, 'b511.bin': 511, 'b512.bin': 512, 'b513.bin': 513, 'mid.bin': 300_000, 'lossy.bin': 100_000, 'roll.bin': 600_000 };

for (const native of [true, false]) {
  const skip = loadFastUdp() === undefined ? 'the libc hot path (koffi) is not available here' : native && loadNativeLoop() === undefined ? 'the compiled loop is not built here' : false;
  describe(native ? 'lock-step through the compiled loop' : 'lock-step through koffi (native_loop: false)', { skip }, () => {
    let fx: Fixture;
    let server: TftpServer;
    let fromDisk: TftpServer;
    before(async () => {
      fx = makeRoot({ extra: SIZES });
      const opts = { logger: silentLogger(), events: new EventBus(), limits: { maxRetries: 10 }, fastPath: { nativeLoop: native } } as const;
      server = new TftpServer({ ...opts, resolver: new FileResolver({ root: fx.root }) });
      // No cache: large files are read from disk window by window (the loop stops at each chunk's end).
      fromDisk = new TftpServer({ ...opts, resolver: new FileResolver({ root: fx.root, cacheBytes: 0 }) });
      await server.start({ address: '127.0.0.1', port: 0 });
      await fromDisk.start({ address: '127.0.0.1', port: 0 });
    });
    after(async () => {
      await server?.stop();
      await fromDisk?.stop();
      if (fx) rmSync(fx.dir, { recursive: true, force: true });
    });

    test('files of 0, 511, 512, 513 and 300,000 octets, at blksize 512 and 1468, arrive intact', async () => {
      for (const file of Object.keys(SIZES).filter((f) => f !== 'roll.bin' && f !== 'lossy.bin')) {
        for (const options of [[], [{ name: 'blksize', value: '1468' }, { name: 'tsize', value: '0' }]]) {
          const r = await getInChild({ host: '127.0.0.1', port: server.port, file, options });
          assert.equal(r.sha256, fx.files.get(file), `${file} ${JSON.stringify(options)}: ${r.error ?? ''}`);
        }
      }
    });

    test('75,001 blocks of 8 octets: block numbers roll over, read from disk window by window', async () => {
      const r = await getInChild({ host: '127.0.0.1', port: fromDisk.port, file: 'roll.bin', options: [{ name: 'blksize', value: '8' }] });
      assert.equal(r.sha256, fx.files.get('roll.bin'), r.error);
      const r2 = await getInChild({ host: '127.0.0.1', port: fromDisk.port, file: 'mid.bin', options: [{ name: 'blksize', value: '1468' }] });
      assert.equal(r2.sha256, fx.files.get('mid.bin'), r2.error);
    });

    test('over loss, duplication and reordering, lock-step transfers arrive intact', async () => {
      for (const [port, blksize] of [[server.port, '512'], [server.port, '1468'], [fromDisk.port, '512']] as const) {
        for (const seed of [1, 2]) {
          const faults = { loss: 0.05, duplicate: 0.05, reorder: 0.1, delayMs: 3, seed };
          const r = await getInChild({ host: '127.0.0.1', port, file: 'lossy.bin', options: [{ name: 'blksize', value: blksize }], timeoutMs: 200, retries: 30, faults });
          assert.equal(r.sha256, fx.files.get('lossy.bin'), `blksize ${blksize} seed ${seed}: ${r.error ?? ''}`);
        }
      }
    });

    for (const ioUring of native ? [true, false] : [false]) {
      const sends = !native ? '' : ioUring ? ', each batch of sends in one io_uring_enter where the kernel allows it' : ', one sendmsg each (io_uring: false)';
      test(`several transfers at once (the many-transfer loop${sends}), over loss, duplication and reordering, with a stranger`, async () => {
        // blockingWait off: a lone transfer also goes through the epoll loop, so every compiled round here is the many-transfer loop's.
        const many = new TftpServer({ logger: silentLogger(), events: new EventBus(), limits: { maxRetries: 10 }, resolver: new FileResolver({ root: fx.root }), fastPath: { nativeLoop: native, blockingWait: false, ioUring } });
        assert.equal(many.batchSendPath, native && ioUring && loadNativeLoop()?.batchRing?.() === true ? 'io_uring' : 'sendmsg');
        await many.start({ address: '127.0.0.1', port: 0 });
        try {
          const gets = [];
          for (let i = 0; i < 6; i++) {
            const faults = i < 4 ? { loss: 0.03, duplicate: 0.05, reorder: 0.1, delayMs: 3, seed: i + 1 } : undefined;
            const options = [{ name: 'blksize', value: i % 2 === 0 ? '512' : '1468' }];
            gets.push(getInChild({ host: '127.0.0.1', port: many.port, file: i < 4 ? 'lossy.bin' : 'mid.bin', options, timeoutMs: 200, retries: 30, faults }, i === 5 ? 20 : 0));
          }
          const results = await Promise.all(gets);
          results.forEach((r, i) => assert.equal(r.sha256, fx.files.get(i < 4 ? 'lossy.bin' : 'mid.bin'), `client ${i}: ${r.error ?? ''}`));
          assert.ok((results[5]!.strangerErrors ?? 0) > 0, 'the stranger got ERROR 5');
          for (let i = 0; i < 100 && many.activeSessions > 0; i++) await new Promise((r) => setTimeout(r, 50));
          const m = many.metrics();
          assert.ok(m.finished >= 2, 'the transfers without faults were confirmed'); // a lossy one's last ACK may be lost (inherent in TFTP)
          assert.ok(m.duplicateAcks > 0 && m.retransmits > 0);
          if (native) assert.ok(m.nativeRounds > 1000, `rounds in the many-transfer loop: ${m.nativeRounds}`);
          else assert.equal(m.nativeRounds, 0);
        } finally {
          await many.stop();
        }
      });
    }

    test('while transfers keep the thread busy their sockets leave the event loop\'s watch; when it goes idle they are watched again (a stalled client is heard)', async () => {
      // A 0.01 ms slice: every drive() uses its slice up, so the sockets leave the watch at once.
      // A 4 s retransmission timeout: nothing but the idle hot path puts the stalled client's
      // socket back under the watch during its pause (a retransmission would, too).
      const busy = new TftpServer({
        logger: silentLogger(),
        events: new EventBus(),
        limits: { maxRetries: 10, timeoutMs: 4000, minTimeoutMs: 4000 },
        resolver: new FileResolver({ root: fx.root }),
        fastPath: { nativeLoop: native, blockingWait: false, sliceMs: 0.01 },
      });
      await busy.start({ address: '127.0.0.1', port: 0 });
      const samples: { active: number; unwatched: number }[] = [];
      const sampler = setInterval(() => {
        const m = busy.metrics();
        samples.push({ active: m.active, unwatched: m.unwatched });
      }, 2);
      try {
        const options = [{ name: 'blksize', value: '512' }];
        const [a, b] = await Promise.all([
          getInChild({ host: '127.0.0.1', port: busy.port, file: 'mid.bin', options }),
          getInChild({ host: '127.0.0.1', port: busy.port, file: 'mid.bin', options, timeoutMs: 3000, pause: { afterBlock: 150, ms: 600 } }),
        ]);
        assert.equal(a.sha256, fx.files.get('mid.bin'), a.error);
        assert.equal(b.sha256, fx.files.get('mid.bin'), b.error);
        for (let i = 0; i < 100 && busy.activeSessions > 0; i++) await new Promise((r) => setTimeout(r, 20));
        const m = busy.metrics();
        assert.ok(m.watchPauses > 0, 'the busy transfers\' sockets left the event loop\'s watch');
        assert.equal(m.unwatched, 0, 'idle: every socket is watched again');
        assert.equal(m.retransmits, 0);
        const first = samples.findIndex((x) => x.unwatched > 0);
        assert.ok(first >= 0, 'sampled while sockets were out of the watch');
        assert.ok(
          samples.slice(first).some((x) => x.active > 0 && x.unwatched === 0),
          'while a transfer waited for its stalled client, with nothing else to do, its socket was watched again',
        );
      } finally {
        clearInterval(sampler);
        await busy.stop();
      }
    });

    test('a stranger sending to the transfer\'s port gets ERROR 5 and the transfer goes on', async () => {
      const r = await getInChild({ host: '127.0.0.1', port: server.port, file: 'roll.bin', options: [{ name: 'blksize', value: '8' }] }, 20);
      assert.equal(r.sha256, fx.files.get('roll.bin'), r.error);
      assert.ok((r.strangerErrors ?? 0) > 0, 'the stranger got ERROR 5');
      assert.ok((r.strangerErrors ?? 0) <= server.limits.maxStrangerReplies, 'at most maxStrangerReplies answers');
    });

    test('the counters: duplicates seen and never answered with a resend, losses repaired; rounds ran where they should', async () => {
      for (let i = 0; i < 100 && server.activeSessions + fromDisk.activeSessions > 0; i++) await new Promise((r) => setTimeout(r, 50));
      const m = server.metrics();
      const d = fromDisk.metrics();
      assert.ok(m.duplicateAcks > 0, 'duplicate ACKs were seen');
      assert.ok(m.retransmits > 0 && d.retransmits > 0, 'losses were repaired by retransmission');
      assert.ok(m.strangerPackets > 0);
      if (native) {
        assert.ok(m.nativeRounds > 10_000 && d.nativeRounds > 10_000, `rounds in the compiled loop: ${m.nativeRounds}, ${d.nativeRounds}`);
        // Every DATA datagram is counted once, whichever side sent it.
        assert.ok(m.packetsSent >= m.nativeRounds);
      } else {
        assert.equal(m.nativeRounds + d.nativeRounds, 0);
      }
    });
  });
}

test('a compiled loop that reports rounds the transfer never had is caught: logged, its slot disarmed, the transfer ends intact on the JavaScript path', { timeout: 60_000, skip: loadFastUdp() === undefined ? 'the libc hot path (koffi) is not available here' : false }, async () => {
  const { Writable } = await import('node:stream');
  const { createLogger } = await import('../../../src/log/logger.ts');
  const { default: koffi } = await import('koffi');
  const { LS_BAD, SLOT_ARMED, SLOT_BYTES, SLOT_ROUNDS, MP_CTL_BYTES, MP_IDLE, MP_SLOTS, MP_NSLOTS } = await import('../../../src/tftp/native.ts');
  const viewAt = (addr: number, len: number): DataView => new DataView(koffi.view(addr, len) as ArrayBuffer);
  const { tftpGet } = await import('../../helpers/tftp-client.ts');
  const { sha256 } = await import('./fixtures.ts');
  const lines: string[] = [];
  const sink = new Writable({ write(chunk: Buffer, _enc, cb) { lines.push(...chunk.toString().split('\n').filter((l) => l !== '')); cb(); } });
  // A faulty loop: it never touches a socket, and claims a million rounds for every armed slot.
  let corrupted = 0;
  const faulty = {
    lockstep: (): number => LS_BAD,
    many: (ctl: number): number => {
      const mp = viewAt(ctl, MP_CTL_BYTES);
      const slots = Number(mp.getBigUint64(MP_SLOTS, true));
      const n = mp.getUint32(MP_NSLOTS, true);
      const table = viewAt(slots, n * SLOT_BYTES);
      for (let i = 0; i < n; i++) {
        if (table.getUint32(i * SLOT_BYTES + SLOT_ARMED, true) === 1 && table.getUint32(i * SLOT_BYTES + SLOT_ROUNDS, true) === 0) {
          table.setUint32(i * SLOT_BYTES + SLOT_ROUNDS, 1_000_000, true);
          corrupted++;
        }
      }
      return MP_IDLE;
    },
  };
  const fx = makeRoot({ extra: { 'f.bin': 100_000 } });
  const server = new TftpServer({ logger: createLogger({ level: 'info', format: 'json', destination: sink }), events: new EventBus(), resolver: new FileResolver({ root: fx.root }), fastPath: { native: faulty, blockingWait: false } });
  await server.start({ address: '127.0.0.1', port: 0 });
  try {
    const r = await tftpGet({ host: '127.0.0.1', port: server.port, file: 'f.bin', options: [{ name: 'blksize', value: '512' }], timeoutMs: 300, retries: 20 });
    assert.equal(sha256(r.data), fx.files.get('f.bin'));
    assert.ok(corrupted > 0, 'the faulty loop saw an armed slot');
    assert.ok(lines.some((l) => l.includes('BH_TFTP_INTERNAL')), 'the disagreement was logged');
  } finally {
    await server.stop();
    rmSync(fx.dir, { recursive: true, force: true });
  }
});
