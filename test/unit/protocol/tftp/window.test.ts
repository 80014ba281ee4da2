import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { blockCount, WindowSender } from '../../../../src/protocol/tftp/window.ts';
import type { WindowSenderConfig } from '../../../../src/protocol/tftp/window.ts';
import { xorshift } from '../../../helpers/xorshift.ts';

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
    { numRuns: 500 },
  );
});

test('SAS: with every ACK duplicated and duplicates re-ACKed, DATA sent stays at one per block (L04)', () => {
  const r = simulate(7, 391, 1, 0, 1, 0);
  assert.ok(r.done);
  assert.equal(r.dataSent, 391);
});

/** The observable state of a sender, for comparing two of them. */
const state = (s: WindowSender): Record<string, number> => ({ acked: s.acked, next: s.next, highestSent: s.highestSent, retries: s.retries, retransmits: s.retransmits, deadline: s.deadline, rtoMs: s.rtoMs });

test('lockstepRounds(k) leaves the state of k × (ACK of the block in flight, take the next), over rollover, OACK and a retransmitted start', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 70_000 }),
      fc.boolean(),
      fc.boolean(),
      fc.integer({ min: 0, max: 40 }),
      fc.integer({ min: 0, max: 30 }),
      (total, oack, retransmitFirst, before, rtt) => {
        // Both start at t = 1, when the first block (or the OACK) leaves.
        const a = new WindowSender(cfg({ totalBlocks: total, oack }), 1);
        const b = new WindowSender(cfg({ totalBlocks: total, oack }), 1);
        // Both: the OACK acknowledged (when there is one) and `before` rounds the ordinary way.
        for (const s of [a, b]) {
          if (oack) {
            s.takeNext();
            s.onAck(0, 1);
          }
          s.takeNext();
        }
        let t = 1;
        const pre = Math.min(before, total - 1);
        for (let i = 0; i < pre; i++) {
          t += rtt;
          for (const s of [a, b]) {
            s.onAck((s.acked + 1) & 0xffff, t);
            s.takeNext();
          }
        }
        if (retransmitFirst) {
          t += 2000;
          for (const s of [a, b]) {
            assert.equal(s.onTimeout(t), 'retransmit');
            s.takeNext();
          }
        }
        const k = total - 1 - pre;
        // a: k ordinary rounds, each `rtt` long; b: the same rounds reported at once.
        for (let i = 0; i < k; i++) {
          t += rtt;
          assert.equal(a.onAck((a.acked + 1) & 0xffff, t), 'progress');
          assert.equal(a.takeNext(), a.acked + 1);
        }
        b.lockstepRounds(k, t, rtt);
        const sa = state(a);
        const sb = state(b);
        assert.ok(Math.abs(sa.rtoMs! - sb.rtoMs!) < 1e-6, `rto ${sa.rtoMs} vs ${sb.rtoMs}`);
        assert.ok(Math.abs(sa.deadline! - sb.deadline!) < 1e-6);
        assert.deepEqual({ ...sa, rtoMs: 0, deadline: 0 }, { ...sb, rtoMs: 0, deadline: 0 });
        // The last block's ACK then ends both alike.
        assert.equal(a.onAck(total & 0xffff, t + 1), 'done');
        assert.equal(b.onAck(total & 0xffff, t + 1), 'done');
      },
    ),
    { numRuns: 500 },
  );
});

test('lockstepRounds refuses what lock-step with one block in flight cannot be', () => {
  const windowed = new WindowSender(cfg({ windowsize: 4 }), 0);
  drain(windowed);
  assert.throws(() => windowed.lockstepRounds(1, 1, 0), RangeError);
  const waitingForAck0 = new WindowSender(cfg({ oack: true }), 0);
  drain(waitingForAck0);
  assert.throws(() => waitingForAck0.lockstepRounds(1, 1, 0), RangeError, 'the OACK is not acknowledged');
  const nothingSent = new WindowSender(cfg({ totalBlocks: 3 }), 0);
  assert.throws(() => nothingSent.lockstepRounds(1, 1, 0), RangeError, 'no block in flight');
  const s = new WindowSender(cfg({ totalBlocks: 3 }), 0);
  drain(s);
  assert.throws(() => s.lockstepRounds(3, 1, 0), RangeError, 'past the last block');
  s.lockstepRounds(2, 1, 0);
  assert.equal(s.next, 4);
  assert.equal(s.onAck(3, 2), 'done');
});
