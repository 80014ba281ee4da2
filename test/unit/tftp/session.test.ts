// A session's transfer as its client sees it (SECURITY.md §2.4 T28–T36 and the timers): which
// DATA leave, when (on the fake clock, with the server's 20 ms timer), and when the session ends.
// Fake I/O (test/helpers/tftp-fake-io.ts); no socket, no sleep.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeAck, encodeData, encodeError, encodeRequest } from '../../../src/protocol/tftp/packets.ts';
import type { RequestOption } from '../../../src/protocol/tftp/packets.ts';
import { CLIENT, SessionHarness } from '../../helpers/tftp-fake-io.ts';
import type { FileSpec, Sent } from '../../helpers/tftp-fake-io.ts';
import type { TftpLimits } from '../../../src/tftp/types.ts';

const o = (name: string, value: string): RequestOption => ({ name, value });
const content = (n: number): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + (i >> 9)) & 0xff));

async function started(file: FileSpec, options: RequestOption[] = [], limits: Partial<TftpLimits> = {}): Promise<SessionHarness> {
  const h = new SessionHarness(file, { options }, limits);
  assert.equal(await h.start(), true);
  return h;
}

function payloads(sent: Sent[]): Buffer[] {
  return sent.flatMap((x) => (x.packet?.op === 'data' ? [x.packet.data] : []));
}

/** A client that ACKs the last DATA of each batch it gets until the session ends; returns what it got. */
async function download(h: SessionHarness, dup = false): Promise<{ data: Buffer; dataPackets: number }> {
  const got: Buffer[] = [];
  let dataPackets = 0;
  let expected = 1;
  for (let rounds = 0; h.ended.length === 0; rounds++) {
    if (rounds > 1_000_000) throw new Error('runaway');
    const sent = h.take();
    let last = -1;
    for (const x of sent) {
      if (x.packet?.op === 'oack') last = 0;
      if (x.packet?.op !== 'data') continue;
      dataPackets++;
      if (x.packet.block === (expected & 0xffff)) {
        got.push(x.packet.data);
        last = expected++;
      }
    }
    if (last < 0) throw new Error(`nothing to acknowledge (${sent.length} packets)`);
    await h.ack(last);
    if (dup) await h.ack(last);
  }
  return { data: Buffer.concat(got), dataPackets };
}

test('a lock-step transfer: DATA n after ACK n-1, the last one short, and the session finishes', async () => {
  const file = content(5000);
  const h = await started({ content: file });
  const r = await download(h);
  assert.deepEqual(r.data, file);
  assert.equal(r.dataPackets, 10);
  assert.deepEqual(h.ended.map((e) => [e.how, e.reason]), [['finished', 'done']]);
  assert.equal(h.io.closed, true);
  assert.equal(h.counters.retransmits, 0);
});

test('T29: every ACK duplicated: no DATA is ever sent for a duplicate (Sorcerer\'s Apprentice)', async () => {
  const file = content(100 * 512 + 7);
  const h = await started({ content: file });
  const r = await download(h, true);
  assert.deepEqual(r.data, file);
  assert.equal(r.dataPackets, 101, 'each block exactly once');
  assert.equal(h.counters.duplicateAcks, 100, 'the duplicate of the last ACK comes after the end');
});

test('T28: an ACK for a block not yet sent is ignored; the data stays correct', async () => {
  const file = content(10 * 512 + 100);
  const h = await started({ content: file }, [o('blksize', '512'), o('windowsize', '4')]);
  h.take();
  await h.ack(0);
  assert.deepEqual(SessionHarness.blocks(h.take()), [1, 2, 3, 4]);
  await h.ack(9);
  assert.deepEqual(h.take(), [], 'nothing for the future ACK');
  assert.equal(h.counters.futureAcks, 1);
  await h.ack(4);
  assert.deepEqual(SessionHarness.blocks(h.take()), [5, 6, 7, 8]);
});

test('T36: windowsize 4 with one ACK per window: four DATA per ACK, a short window at the end', async () => {
  const file = content(10 * 512 + 100);
  const h = await started({ content: file }, [o('blksize', '512'), o('windowsize', '4')]);
  const windows: number[][] = [];
  const got: Buffer[] = [];
  h.take();
  await h.ack(0);
  while (h.ended.length === 0) {
    const sent = h.take();
    const blocks = SessionHarness.blocks(sent);
    windows.push(blocks);
    got.push(...payloads(sent));
    await h.ack(blocks.at(-1)!);
  }
  assert.deepEqual(windows, [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11]]);
  assert.deepEqual(Buffer.concat(got), file);
});

test('T36: an ACK inside the window (a block was lost) starts the next window right after it', async () => {
  const h = await started({ content: content(20 * 512) }, [o('blksize', '512'), o('windowsize', '4')]);
  h.take();
  await h.ack(0);
  h.take();
  await h.ack(2);
  assert.deepEqual(SessionHarness.blocks(h.take()), [3, 4, 5, 6], 'RFC 7440 §4');
  assert.equal(h.counters.retransmits, 0, 'nothing resent before its window began again');
});

test('T35: more than 65,535 blocks: block numbers roll over to 0 and the data arrives intact', async () => {
  const file = content(8 * 65_540 + 3);
  const h = await started({ content: file }, [o('blksize', '8')]);
  const seen: number[] = [];
  const got: Buffer[] = [];
  let block = 0;
  h.take();
  await h.ack(0);
  while (h.ended.length === 0) {
    const sent = h.take();
    assert.equal(sent.length, 1);
    const p = sent[0]!.packet;
    assert.ok(p?.op === 'data');
    if (p.op !== 'data') return;
    block++;
    if (block >= 65_534 && block <= 65_538) seen.push(p.block);
    got.push(p.data);
    await h.ack(p.block);
  }
  assert.deepEqual(seen, [65_534, 65_535, 0, 1, 2]);
  assert.equal(block, 65_541);
  assert.deepEqual(Buffer.concat(got), file);
  assert.equal(h.ended[0]!.how, 'finished');
});

test('T31: a client silent after block 1: retransmissions with a doubling timeout, then the session is freed', async () => {
  const file = content(10 * 512);
  const h = await started({ content: file }, [], { maxRetries: 5, timeoutMs: 1000, minTimeoutMs: 50 });
  assert.deepEqual(SessionHarness.blocks(h.take()), [1]);
  await h.advance(10);
  await h.ack(1); // a 10 ms round trip: the timeout adapts to its floor, 50 ms
  await h.advance(10_000);
  const sent = h.take();
  assert.deepEqual(SessionHarness.blocks(sent), [2, 2, 2, 2, 2, 2]);
  assert.deepEqual(sent.map((x) => x.at), [10, 60, 160, 360, 760, 1560], 'first send, then after 50, 100, 200, 400, 800 ms');
  assert.deepEqual(h.ended.map((e) => [e.how, e.reason, e.at]), [['failed', 'timeout', 3160]], 'given up 1,600 ms after the 5th');
  assert.equal(h.counters.retransmits, 5);
  assert.equal(h.io.stalls, 5, 'each retransmission hands the transfer back to the event loop');
});

test('T31: an OACK never acknowledged: resent after 1, 2, 4, 4, 4 s (the backoff caps at 4× the timeout), then given up', async () => {
  const h = await started({ content: content(5000) }, [o('blksize', '1024')], { maxRetries: 5, timeoutMs: 1000 });
  await h.advance(30_000);
  const sent = h.take();
  assert.ok(sent.every((x) => x.packet?.op === 'oack'));
  assert.deepEqual(sent.map((x) => x.at), [0, 1000, 3000, 7000, 11_000, 15_000]);
  assert.deepEqual(h.ended.map((e) => [e.how, e.reason, e.at]), [['failed', 'no-ack', 19_000]]);
});

test('amplification bound: a client that never ACKs gets no more than 30× what it sent', async () => {
  // The request is 14 octets: 420 may go out. DATA 1 (516) goes; resending it would pass the bound.
  const h = await started({ content: content(5000) });
  assert.equal(encodeRequest('rrq', 'f.bin', 'octet').length, 14);
  await h.advance(5000);
  const sent = h.take();
  assert.deepEqual(SessionHarness.blocks(sent), [1]);
  assert.deepEqual(h.ended.map((e) => [e.how, e.reason, e.at]), [['failed', 'no-ack', 1000]]);
  // Once the client has ACKed, the bound no longer applies.
  const acked = await started({ content: content(5000) }, [], { maxRetries: 2 });
  acked.take();
  await acked.ack(1);
  await acked.advance(5000);
  assert.deepEqual(SessionHarness.blocks(acked.take()), [2, 2, 2]);
  assert.equal(acked.ended[0]!.reason, 'timeout');
});

test('idle: a transfer without a valid packet from its client for idleTimeoutMs is freed', async () => {
  const h = await started({ content: content(5000) }, [], { idleTimeoutMs: 5000, maxRetries: 1000, amplificationFactor: 1e9 });
  await h.advance(4000);
  assert.equal(h.ended.length, 0);
  await h.ack(1);
  await h.advance(5000);
  assert.equal(h.ended.length, 0, 'the ACK at 4 s counts as activity');
  await h.advance(20);
  assert.deepEqual(h.ended.map((e) => [e.how, e.reason, e.at]), [['failed', 'idle', 9020]]);
});

test('T30: a stranger gets ERROR 5 and the transfer goes on; at most maxStrangerReplies, never to an ERROR or a service port', async () => {
  const h = await started({ content: content(10 * 512) }, [], { maxStrangerReplies: 3 });
  h.take();
  h.stranger(encodeAck(1), CLIENT.address, CLIENT.port + 1);
  const r = h.take();
  assert.equal(r.length, 1);
  assert.deepEqual([r[0]!.address, r[0]!.port], [CLIENT.address, CLIENT.port + 1]);
  assert.ok(r[0]!.packet?.op === 'error' && r[0]!.packet.code === 5);
  h.stranger(encodeError(0, 'x'), '192.0.2.99', 5000);
  h.stranger(encodeAck(1), '192.0.2.99', 53);
  assert.deepEqual(h.take(), [], 'no answer to an ERROR, nor to a service port');
  for (let i = 0; i < 10; i++) h.stranger(encodeAck(1), '192.0.2.99', 6000 + i);
  assert.equal(h.take().length, 2, 'three replies in all');
  assert.equal(h.counters.strangerPackets, 13);
  // The stranger's ACK did not move the transfer: the client's does.
  await h.ack(1);
  assert.deepEqual(SessionHarness.blocks(h.take()), [2]);
});

test('T32: the client sends ERROR mid-transfer: the session ends and sends nothing more', async () => {
  const h = await started({ content: content(10 * 512) });
  await h.ack(1);
  h.take();
  await h.send(encodeError(3, 'Disk full'));
  assert.deepEqual(h.ended.map((e) => [e.how, e.reason, e.extra?.clientError, e.extra?.clientMessage]), [['failed', 'client-error', 3, '"Disk full"']]);
  await h.advance(60_000);
  assert.deepEqual(h.take(), []);
});

test('unexpected packets from the client (DATA, a 2-octet ACK, an RRQ) are dropped without an answer', async () => {
  const h = await started({ content: content(10 * 512) });
  h.take();
  await h.send(encodeData(1, Buffer.from('x')));
  await h.send(Buffer.from([0, 4]));
  await h.send(encodeRequest('rrq', 'other', 'octet'));
  assert.deepEqual(h.take(), []);
  assert.deepEqual(h.drops, ['unexpected-in-transfer', 'unexpected-in-transfer', 'unexpected-in-transfer']);
  await h.ack(1);
  assert.deepEqual(SessionHarness.blocks(h.take()), [2]);
});

test('a file not held in memory is read window by window; lock-step and windowed transfers arrive intact', async () => {
  const file = content(300_001);
  for (const options of [[o('blksize', '1468')], [o('blksize', '1468'), o('windowsize', '16')], []]) {
    const h = await started({ content: file, inMemory: false }, options);
    const r = await download(h);
    assert.deepEqual(r.data, file, JSON.stringify(options));
    assert.ok(h.file.reads > 1, 'more than one read');
    assert.equal(h.ended[0]!.how, 'finished');
  }
});

test('a read error or a file that shrank mid-transfer ends the session; nothing past it is sent', async () => {
  for (const [fault, reason] of [['error', 'read-error'], ['short', 'file-changed']] as const) {
    const h = await started({ content: content(300_000), inMemory: false, readFault: fault });
    assert.deepEqual(h.take(), [], fault);
    assert.deepEqual(h.ended.map((e) => [e.how, e.reason]), [['failed', reason]]);
  }
});

test('abort (the server stops): ERROR 0 to the client while the transfer runs', async () => {
  const h = await started({ content: content(5000) });
  h.take();
  h.session.abort(encodeError(0, 'Server shutting down'));
  const r = h.take();
  assert.equal(r.length, 1);
  assert.ok(r[0]!.packet?.op === 'error' && r[0]!.packet.code === 0 && r[0]!.port === CLIENT.port);
});

test('the lock-step rounds a compiled loop ran are taken in: the next timeout and the next DATA follow from them', async () => {
  const file = content(10 * 512);
  const h = await started({ content: file }, [], { minTimeoutMs: 50 });
  await h.ack(1);
  h.take();
  assert.equal(h.session.lockstepReady(), true);
  // Three rounds ran outside: ACK 2, 3 and 4 came, DATA 3, 4 and 5 left.
  h.now = 100;
  h.session.takeRounds(3, h.now, 5, 12, 3 * 516);
  assert.equal(h.session.sender!.acked, 4);
  await h.ack(5);
  assert.deepEqual(SessionHarness.blocks(h.take()), [6]);
  await h.advance(1000);
  assert.deepEqual(SessionHarness.blocks(h.take()).slice(0, 1), [6], 'the timer resends DATA 6');
});
