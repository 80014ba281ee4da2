// peekMessageType: the message type read without a full decode (the service's triage under load).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeDhcp, encodeDhcp, peekMessageType } from '../../../../src/protocol/dhcp/packet.ts';
import { fixture, fixtureNames, raw } from './raw.ts';

describe('peekMessageType', () => {
  it('finds option 53 after PAD and other options', () => {
    assert.equal(peekMessageType(raw({ options: [53, 1, 3, 255] })), 3);
    assert.equal(peekMessageType(raw({ options: [0, 0, 61, 7, 1, 2, 3, 4, 5, 6, 7, 12, 2, 104, 105, 53, 1, 1, 255] })), 1);
  });

  it('gives undefined without a cookie, without option 53, for a 53 of the wrong length, or an option running past the end', () => {
    assert.equal(peekMessageType(raw({ cookie: null, options: [53, 1, 3, 255] })), undefined);
    assert.equal(peekMessageType(raw({ cookie: [1, 2, 3, 4], options: [53, 1, 3, 255] })), undefined);
    assert.equal(peekMessageType(raw({ options: [12, 2, 104, 105, 255, 53, 1, 3] })), undefined, 'after END');
    assert.equal(peekMessageType(raw({ options: [53, 2, 3, 3, 255] })), undefined);
    assert.equal(peekMessageType(raw({ options: [12, 40, 104, 105, 53, 1, 3] })), undefined);
    assert.equal(peekMessageType(raw({ options: [] })), undefined);
    assert.equal(peekMessageType(new Uint8Array(10)), undefined);
  });

  it('agrees with the full decode on every capture', () => {
    for (const name of fixtureNames()) {
      const buf = fixture(name);
      const d = decodeDhcp(buf);
      if (!d.ok) continue;
      const t = d.packet.options.get(53);
      if (t === undefined || t.length !== 1 || d.packet.duplicateOptions.includes(53)) continue;
      assert.equal(peekMessageType(buf), t[0], name);
    }
  });

  it('reads the type of any encoded packet whose option 53 is in the main area, and never throws on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 18 }), fc.array(fc.tuple(fc.integer({ min: 1, max: 254 }), fc.uint8Array({ maxLength: 20 })), { maxLength: 8 }), (type, extra) => {
        const options = new Map<number, Uint8Array>([[53, Uint8Array.of(type)]]);
        for (const [code, v] of extra) if (code !== 52 && code !== 53) options.set(code, v);
        const base = decodeDhcp(raw());
        assert.ok(base.ok);
        assert.equal(peekMessageType(encodeDhcp({ ...base.packet, options }, { maxSize: 1500 })), type);
      }),
      { numRuns: 200 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
        const t = peekMessageType(bytes);
        assert.ok(t === undefined || (Number.isInteger(t) && t >= 0 && t <= 255));
      }),
      { numRuns: 300 },
    );
  });
});
