// The receive queue: urgent datagrams (those that complete an exchange) before new ones, FIFO within
// a class, and under overload the oldest of a full class is given up, never an urgent one for a new one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Intake, isUrgent } from '../../../src/dhcp/intake.ts';

test('urgent entries come out first, each class in arrival order', () => {
  const q = new Intake<string>();
  q.push('d1', false);
  q.push('r1', true);
  q.push('d2', false);
  q.push('r2', true);
  assert.equal(q.size, 4);
  assert.deepEqual([q.shift(), q.shift(), q.shift(), q.shift(), q.shift()], ['r1', 'r2', 'd1', 'd2', undefined]);
  assert.equal(q.size, 0);
});

test('a full class gives up its oldest entry and says which; the other class is untouched', () => {
  const q = new Intake<string>({ maxNew: 2, maxUrgent: 1 });
  assert.equal(q.push('r1', true), undefined);
  assert.equal(q.push('d1', false), undefined);
  assert.equal(q.push('d2', false), undefined);
  assert.equal(q.push('d3', false), 'd1');
  assert.equal(q.push('r2', true), 'r1');
  assert.deepEqual([q.shift(), q.shift(), q.shift()], ['r2', 'd2', 'd3']);
  q.push('x', false);
  assert.equal(q.clear(), 1);
  assert.equal(q.shift(), undefined);
});

test('REQUEST, DECLINE, RELEASE and anything on port 4011 are urgent; DISCOVER, INFORM and unreadable are not', () => {
  assert.deepEqual([1, 3, 4, 7, 8, undefined].map((t) => isUrgent(t, 67)), [false, true, true, true, false, false]);
  assert.equal(isUrgent(1, 4011), true);
  assert.equal(isUrgent(undefined, 4011), true);
});

test('model check: the queue behaves like two bounded FIFO lists, urgent first', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 5 }), fc.array(fc.oneof(fc.constant<'take'>('take'), fc.boolean()), { maxLength: 60 }), (maxUrgent, maxNew, ops) => {
      const q = new Intake<number>({ maxUrgent, maxNew });
      const urgent: number[] = [];
      const fresh: number[] = [];
      let n = 0;
      for (const op of ops) {
        if (op === 'take') {
          assert.equal(q.shift(), urgent.length > 0 ? urgent.shift() : fresh.shift());
        } else {
          const list = op ? urgent : fresh;
          list.push(++n);
          const evicted = list.length > (op ? maxUrgent : maxNew) ? list.shift() : undefined;
          assert.equal(q.push(n, op), evicted);
        }
        assert.equal(q.size, urgent.length + fresh.length);
      }
    }),
    { numRuns: 300 },
  );
});
