// The hot path puts a lone transfer's socket into blocking mode while it waits for ACKs itself;
// libuv needs every socket it watches non-blocking. Whenever JavaScript outside the hot path runs
// (here: a 1 ms interval, during real transfers), every socket of the process must be
// non-blocking again. The in-process client (which cannot answer while the server's thread
// waits) makes the hot path miss and back off; the counters show both happened.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { EventBus } from '../../../src/events/bus.ts';
import { FileResolver } from '../../../src/files/resolver.ts';
import { silentLogger } from '../../../src/log/logger.ts';
import { TftpServer } from '../../../src/tftp/server.ts';
import { loadFastUdp } from '../../../src/tftp/udp-fast.ts';
import { tftpGet } from '../../helpers/tftp-client.ts';
import { CLIENT_PACKAGES, clientCommand, fileSha, makeRoot, requireTool, run, sha256 } from './fixtures.ts';
import type { Fixture } from './fixtures.ts';
import { loadNativeLoop } from '../../../src/tftp/native.ts';

const O_NONBLOCK = 0o4000;
const root = process.getuid?.() === 0;

/** The UDP sockets of this process: how many, and the descriptors of those lacking O_NONBLOCK. */
function udpSockets(): { count: number; blocking: number[] } {
  const out: number[] = [];
  let count = 0;
  // Inodes of UDP sockets (the 10th column of /proc/net/udp).
  const udp = new Set(readFileSync('/proc/net/udp', 'utf8').split('\n').slice(1).map((l) => l.trim().split(/\s+/)[9]).filter((x) => x !== undefined));
  for (const name of readdirSync('/proc/self/fd')) {
    let target: string;
    try {
      target = readlinkSync(`/proc/self/fd/${name}`);
    } catch {
      continue; // closed meanwhile
    }
    const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
    if (inode === undefined || !udp.has(inode)) continue;
    count++;
    let info: string;
    try {
      info = readFileSync(`/proc/self/fdinfo/${name}`, 'utf8');
    } catch {
      continue;
    }
    const flags = parseInt(/flags:\s+([0-7]+)/.exec(info)?.[1] ?? '0', 8);
    if ((flags & O_NONBLOCK) === 0) out.push(Number(name));
  }
  return { count, blocking: out };
}

describe('transfer sockets between hot-path slices', { skip: loadFastUdp() === undefined ? 'the libc hot path (koffi) is not available here' : false }, () => {
  let fx: Fixture;
  let server: TftpServer;
  before(async () => {
    fx = makeRoot({ extra: { 'two-mib.bin': 2 * 1024 * 1024 } });
    server = new TftpServer({ logger: silentLogger(), events: new EventBus(), resolver: new FileResolver({ root: fx.root }) });
    await server.start({ address: '127.0.0.1', port: 0 });
  });
  after(async () => {
    await server?.stop();
    if (fx) rmSync(fx.dir, { recursive: true, force: true });
  });

  /** Runs `work` while checking every millisecond; returns the checks made with a transfer open (and at least one UDP socket seen). */
  async function watch(work: () => Promise<void>): Promise<number> {
    let during = 0;
    const bad: number[][] = [];
    const timer = setInterval(() => {
      if (server.activeSessions === 0) return;
      const u = udpSockets();
      // The listener, the test's own sockets and at least one transfer socket.
      if (u.count >= 2) during++;
      if (u.blocking.length > 0) bad.push(u.blocking);
    }, 1);
    try {
      await work();
    } finally {
      clearInterval(timer);
    }
    assert.deepEqual(bad, [], 'UDP sockets left in blocking mode while the event loop ran');
    return during;
  }

  test('a lone lock-step transfer to atftp (the blocking wait)', { skip: root ? false : 'needs root (CI runs as root)' }, async () => {
    requireTool(...CLIENT_PACKAGES.atftp);
    const out = join(fx.dir, 'lone.out');
    const before = server.metrics();
    const during = await watch(async () => {
      const [cmd, args] = clientCommand('atftp', '127.0.0.1', server.port, 'two-mib.bin', out, { blksize: 512 });
      await run(cmd, args, { timeout: 60_000 });
    });
    assert.equal(fileSha(out), fx.files.get('two-mib.bin'));
    assert.ok(during > 0, 'the event loop ran while the transfer was open');
    // The hot path carried it: its lock-step rounds ran in the compiled loop where it is built
    // (4,096 blocks of 512 octets: nearly all of them answered there). Without a compiler nothing
    // counts the blocking wait's rounds; CI builds the loop.
    if (loadNativeLoop() !== undefined) {
      assert.equal(server.lockstepPath, 'compiled');
      const rounds = server.metrics().nativeRounds - before.nativeRounds;
      assert.ok(rounds > 2048, `only ${rounds} of 4,096 rounds ran in the compiled loop`);
    }
  });

  test('two transfers at once, and the in-process client (misses and backoff)', { skip: root ? false : 'needs root (CI runs as root)' }, async () => {
    requireTool(...CLIENT_PACKAGES.atftp);
    const outs = [join(fx.dir, 'a.out'), join(fx.dir, 'b.out')];
    let inProcess: Buffer | undefined;
    const before = server.metrics();
    const during = await watch(async () => {
      await Promise.all([
        ...outs.map((out) => {
          const [cmd, args] = clientCommand('atftp', '127.0.0.1', server.port, 'two-mib.bin', out, { blksize: 1468 });
          return run(cmd, args, { timeout: 60_000 });
        }),
        tftpGet({ host: '127.0.0.1', port: server.port, file: 'two-mib.bin', options: [{ name: 'blksize', value: '1468' }] }).then((r) => {
          inProcess = r.data;
        }),
      ]);
    });
    for (const out of outs) assert.equal(fileSha(out), fx.files.get('two-mib.bin'));
    assert.equal(sha256(inProcess!), fx.files.get('two-mib.bin'));
    assert.ok(during > 0);
    // The in-process client cannot answer while the server's thread waits for it: the hot path
    // waited and missed (only the hot path waits), then backed off to polls without waiting.
    const after = server.metrics();
    assert.ok(after.waitMisses > before.waitMisses, `the hot path waited for ACKs and missed (${after.waitMisses - before.waitMisses} misses)`);
    assert.ok(after.skippedWaits > before.skippedWaits, `the hot path backed off: it polled instead of waiting (${after.skippedWaits - before.skippedWaits} polls)`);
  });
});
