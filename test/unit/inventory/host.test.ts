import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { approvedState, canTransition, canonicalMac, canonicalUuid, checkTransition } from '../../../src/inventory/host.ts';
import { isInventoryError } from '../../../src/inventory/errors.ts';
import { HOST_STATES } from '../../../src/inventory/types.ts';

describe('canonical MACs', () => {
  it('accepts colons, dashes, dots and bare hex, in any case', () => {
    for (const m of ['52:54:00:AB:cd:0f', '52-54-00-ab-CD-0F', '5254.00ab.cd0f', '525400ABCD0F', ' 52:54:0:ab:cd:f ']) {
      assert.equal(canonicalMac(m), '52:54:00:ab:cd:0f', m);
    }
  });

  it('refuses what is not a MAC, with BH_INV_BAD_MAC and an example', () => {
    for (const m of ['', '52:54:00:ab:cd', '52:54:00:ab:cd:0f:11', 'zz:54:00:ab:cd:0f', '52:54-00:ab:cd:0f', '52:54:00:ab:cd:0f\n']) {
      assert.throws(() => canonicalMac(m), (err: unknown) => isInventoryError(err, 'BH_INV_BAD_MAC') && /52:54:00/.test(err.hint), JSON.stringify(m));
    }
  });

  it('property: any 6 octets in any notation give the same canonical MAC', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 6, maxLength: 6 }), fc.constantFrom(':', '-', '.', ''), fc.boolean(), (bytes, sep, upper) => {
      const hex = [...bytes].map((b) => b.toString(16).padStart(2, '0'));
      const expected = hex.join(':');
      let text = sep === '.' ? [hex.slice(0, 2).join(''), hex.slice(2, 4).join(''), hex.slice(4).join('')].join('.') : hex.join(sep);
      if (upper) text = text.toUpperCase();
      assert.equal(canonicalMac(text), expected);
      assert.equal(canonicalMac(expected), expected);
    }), { numRuns: 300 });
  });
});

describe('canonical UUIDs', () => {
  it('lower case 8-4-4-4-12 from upper case, braces, urn: and bare hex', () => {
    const want = '4c4c4544-0042-3510-8051-c7c04f4a4d32';
    for (const u of ['4C4C4544-0042-3510-8051-C7C04F4A4D32', '{4c4c4544-0042-3510-8051-c7c04f4a4d32}', 'urn:uuid:4c4c4544-0042-3510-8051-c7c04f4a4d32', '4c4c454400423510 8051c7c04f4a4d32'.replace(' ', '')]) {
      assert.equal(canonicalUuid(u), want, u);
    }
    assert.throws(() => canonicalUuid('4c4c4544-0042-3510-8051'), (err: unknown) => isInventoryError(err, 'BH_INV_BAD_UUID'));
  });
});

describe('host states', () => {
  it('approve: pending and new become active; a disabled or local host is not approved', () => {
    assert.equal(approvedState('h', 'pending'), 'active');
    assert.equal(approvedState('h', 'new'), 'active');
    assert.equal(approvedState('h', 'active'), 'active');
    for (const s of ['disabled', 'local'] as const) {
      assert.throws(() => approvedState('node1', s), (err: unknown) => isInventoryError(err, 'BH_INV_TRANSITION') && /hosts set node1 --state active/.test(err.hint));
    }
  });

  it('the table: re-install (local → active), disable from anywhere, no way back to new except from disabled', () => {
    assert.ok(canTransition('local', 'active'));
    for (const s of HOST_STATES) assert.ok(canTransition(s, 'disabled'), s);
    for (const s of HOST_STATES) assert.equal(canTransition(s, 'new'), s === 'new' || s === 'disabled', s);
    assert.equal(canTransition('pending', 'new'), false);
    assert.equal(canTransition('local', 'pending'), false);
  });

  it('a refused transition names the states it may go to', () => {
    assert.throws(() => checkTransition('node1', 'local', 'pending'), (err: unknown) => isInventoryError(err, 'BH_INV_TRANSITION') && /node1 cannot go from local to pending/.test(err.message) && /active, disabled/.test(err.hint));
  });
});
