// Transfers over an impaired path: 5 % loss each way, duplication and reordering, injected in the
// test client (the namespace test uses tc netem where the kernel has it). Lock-step and windowed.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { EventBus } from '../../../src/events/bus.ts';
import { FileResolver } from '../../../src/files/resolver.ts';
import { silentLogger } from '../../../src/log/logger.ts';
import { TftpServer } from '../../../src/tftp/server.ts';
import { tftpGet } from '../../helpers/tftp-client.ts';
import { makeRoot, sha256 } from './fixtures.ts';
import type { Fixture } from './fixtures.ts';

describe('loss, duplication and reordering', () => {
  let fx: Fixture;
  let server: TftpServer;
  before(async () => {
    fx = makeRoot({ extra: { 'lossy.bin': 200_000 } });
    server = new TftpServer({ logger: silentLogger(), events: new EventBus(), resolver: new FileResolver({ root: fx.root }), limits: { maxRetries: 10 } });
    await server.start({ address: '127.0.0.1', port: 0 });
  });
  after(async () => {
    await server?.stop();
    if (fx) rmSync(fx.dir, { recursive: true, force: true });
  });

  const cases: [string, { name: string; value: string }[]][] = [
    ['lock-step, blksize 512', []],
    ['lock-step, blksize 1468', [{ name: 'blksize', value: '1468' }]],
    ['windowsize 8, blksize 1468', [{ name: 'blksize', value: '1468' }, { name: 'windowsize', value: '8' }]],
    ['windowsize 16, blksize 512', [{ name: 'windowsize', value: '16' }, { name: 'tsize', value: '0' }]],
  ];
  for (const [title, options] of cases) {
    test(`${title}: the file arrives intact`, async () => {
      for (const seed of [1, 2]) {
        const r = await tftpGet({ host: '127.0.0.1', port: server.port, file: 'lossy.bin', options, timeoutMs: 300, retries: 30, faults: { loss: 0.05, duplicate: 0.02, reorder: 0.1, delayMs: 5, seed } });
        assert.equal(sha256(r.data), fx.files.get('lossy.bin'), `seed ${seed}`);
      }
    });
  }

  test('the server retransmitted and never resent on a duplicate ACK alone', async () => {
    for (let i = 0; i < 100 && server.activeSessions > 0; i++) await new Promise((r) => setTimeout(r, 50));
    const m = server.metrics();
    assert.ok(m.retransmits > 0, 'losses were repaired by retransmission');
    assert.ok(m.duplicateAcks > 0, 'duplicate ACKs were seen');
    assert.equal(m.started, 8);
    // A lost final ACK leaves the server unsure the last block arrived (inherent in TFTP): it then
    // retransmits and gives up, although the client has the file.
    assert.ok(m.finished >= 6, `${m.finished} of 8 confirmed`);
  });
});
