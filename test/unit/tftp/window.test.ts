import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { blockCount, WindowSender } from '../../../src/protocol/tftp/window.ts';
import type { WindowSenderConfig } from '../../../src/protocol/tftp/window.ts';
import { xorshift } from '../../helpers/xorshift.ts';

const cfg = (over: Partial<WindowSenderConfig> = {}): WindowSenderConfig => ({ totalBlocks: 10, windowsize: 1, oack: false, maxRetries: 5, initialRtoMs: 1000, minRtoMs: 50, maxRtoMs: 1000, ...over });
const drain = (s: WindowSender): number[] => {
  const out: number[] = [];
  for (let b = s.takeNext(); b >= 0; b = s.takeNext()) out.push(b);
  return out;
};

test('block count: the last block is short, and a file of n × blksize ends with an empty block', () => {
  assert.equal(blockCount(0, 512), 1);
  assert.equal(blockCount(511, 512), 1);
  assert.equal(blockCount(512, 512), 2);
  assert.equal(blockCount(513, 512), 2);
});

test('lock-step: one block per ACK, done after the last ACK', () => {
  const s = new WindowSender(cfg({ totalBlocks: 3 }), 0);
  assert.deepEqual(drain(s), [1]);
  assert.equal(s.onAck(1, 1), 'progress');
  assert.deepEqual(drain(s), [2]);
  assert.equal(s.onAck(2, 2), 'progress');
  assert.deepEqual(drain(s), [3]);
  assert.equal(s.onAck(3, 3), 'done');
  assert.deepEqual(drain(s), []);
});

test('after an OACK, DATA waits for ACK 0', () => {
  const s = new WindowSender(cfg({ oack: true, totalBlocks: 2 }), 0);
  assert.deepEqual(drain(s), [0]);
  assert.equal(s.onAck(1, 1), 'future');
  assert.deepEqual(drain(s), []);
  assert.equal(s.onAck(0, 2), 'progress');
  assert.deepEqual(drain(s), [1]);
});

test('a duplicate ACK never causes a resend (Sorcerer’s Apprentice, T29)', () => {
  const s = new WindowSender(cfg({ totalBlocks: 5 }), 0);
  drain(s);
  assert.equal(s.onAck(1, 1), 'progress');
  assert.deepEqual(drain(s), [2]);
  assert.equal(s.onAck(1, 2), 'duplicate');
  assert.deepEqual(drain(s), []);
  assert.equal(s.retransmits, 0);
});

test('an ACK for a block not yet sent is ignored (T28)', () => {
  const s = new WindowSender(cfg({ totalBlocks: 5 }), 0);
  drain(s);
  assert.equal(s.onAck(3, 1), 'future');
  assert.equal(s.acked, 0);
  assert.deepEqual(drain(s), []);
});

test('windowsize 4: a full window per ACK; a partial ACK restarts the window after it (loss)', () => {
  const s = new WindowSender(cfg({ totalBlocks: 10, windowsize: 4 }), 0);
  assert.deepEqual(drain(s), [1, 2, 3, 4]);
  assert.equal(s.onAck(4, 1), 'progress');
  assert.deepEqual(drain(s), [5, 6, 7, 8]);
  // block 6 lost: the receiver acknowledges 5
  assert.equal(s.onAck(5, 2), 'progress');
  assert.deepEqual(drain(s), [6, 7, 8, 9]);
  assert.equal(s.retransmits, 3);
  // a late ACK 5 again is a duplicate; an ACK 8 from the first window (reordered) is accepted
  assert.equal(s.onAck(5, 3), 'duplicate');
  assert.equal(s.onAck(9, 4), 'progress');
  assert.deepEqual(drain(s), [10]);
  assert.equal(s.onAck(10, 5), 'done');
});

test('timeouts resend the unacknowledged window with backoff, then give up', () => {
  const s = new WindowSender(cfg({ totalBlocks: 10, windowsize: 2, maxRetries: 3, initialRtoMs: 100, maxRtoMs: 100 }), 0);
  assert.deepEqual(drain(s), [1, 2]);
  assert.equal(s.onTimeout(99), 'not-yet');
  assert.equal(s.onTimeout(100), 'retransmit');
  assert.deepEqual(drain(s), [1, 2]);
  const d1 = s.deadline;
  assert.equal(s.onTimeout(d1), 'retransmit');
  assert.deepEqual(drain(s), [1, 2]);
  assert.ok(s.deadline - d1 > d1 - 100, 'the timeout grows');
  assert.equal(s.onTimeout(s.deadline), 'retransmit');
  assert.deepEqual(drain(s), [1, 2]);
  assert.equal(s.onTimeout(s.deadline), 'give-up');
  assert.equal(s.retransmits, 6);
});

test('block numbers roll over to 0 after 65535', () => {
  const total = 70000;
  const s = new WindowSender(cfg({ totalBlocks: total, windowsize: 8 }), 0);
  let t = 0;
  let last = 0;
  while (!s.done) {
    const sent = drain(s);
    last = sent[sent.length - 1]!;
    assert.equal(s.onAck(last & 0xffff, ++t), last === total ? 'done' : 'progress');
  }
  assert.equal(last, total);
  assert.equal(s.retransmits, 0);
});

test('an ACK of a stale, pre-rollover block number is not taken as progress', () => {
  const s = new WindowSender(cfg({ totalBlocks: 70000, windowsize: 4 }), 0);
  while (s.acked < 65534) {
    const sent = drain(s);
    s.onAck(sent[sent.length - 1]! & 0xffff, 1);
  }
  drain(s);
  const acked = s.acked;
  assert.equal(s.onAck(100, 2), 'future');
  assert.equal(s.acked, acked);
});

// A lossy, duplicating, reordering channel between the sender and an RFC 7440 receiver.
function simulate(seed: number, total: number, windowsize: number, loss: number, dup: number, reorder: number): { received: number[]; dataSent: number; done: boolean } {
  const rand = xorshift(seed);
  const s = new WindowSender(cfg({ totalBlocks: total, windowsize, maxRetries: 50, initialRtoMs: 100, maxRtoMs: 100, minRtoMs: 10 }), 0);
  let now = 0;
  let expected = 1;
  const received: number[] = [];
  let dataSent = 0;
  let inWindow = 0;
  const toReceiver: number[] = [];
  const toSender: number[] = [];
  const transmit = (q: number[], v: number): void => {
    if (rand() < loss) return;
    if (rand() < reorder && q.length > 0) q.splice(Math.floor(rand() * q.length), 0, v);
    else q.push(v);
    if (rand() < dup) q.push(v);
  };
  for (let step = 0; step < 200000 && !s.done; step++) {
    for (let b = s.takeNext(); b >= 0; b = s.takeNext()) {
      dataSent++;
      transmit(toReceiver, b);
    }
    if (toReceiver.length === 0 && toSender.length === 0) {
      now = s.deadline;
      s.onTimeout(now);
      continue;
    }
    now += 1;
    const d = toReceiver.shift();
    if (d !== undefined) {
      if (d === expected) {
        received.push(d);
        expected++;
        inWindow++;
        if (inWindow === windowsize || d === total) {
          inWindow = 0;
          transmit(toSender, (d & 0xffff));
        }
      } else if (d > expected) {
        inWindow = 0;
        transmit(toSender, (expected - 1) & 0xffff);
      } else {
        transmit(toSender, (expected - 1) & 0xffff); // duplicate DATA: re-ACK, as many clients do
      }
    }
    const a = toSender.shift();
    if (a !== undefined) s.onAck(a, now);
  }
  return { received, dataSent, done: s.done };
}

test('property: over loss, duplication and reordering every block arrives once, in order', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 2 ** 31 }), fc.integer({ min: 1, max: 300 }), fc.constantFrom(1, 2, 4, 8, 16), (seed, total, ws) => {
      const r = simulate(seed, total, ws, 0.05, 0.02, 0.1);
      assert.ok(r.done);
      assert.equal(r.received.length, total);
      r.received.forEach((b, i) => assert.equal(b, i + 1));
    }),
    { numRuns: 200 },
  );
});

test('SAS: with every ACK duplicated and duplicates re-ACKed, DATA sent stays at one per block (L04)', () => {
  const r = simulate(7, 391, 1, 0, 1, 0);
  assert.ok(r.done);
  assert.equal(r.dataSent, 391);
});
