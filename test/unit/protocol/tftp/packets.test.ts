import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodePacket, encodeAck, encodeData, encodeError, encodeOack, encodeRequest, MAX_REQUEST_BYTES } from '../../../../src/protocol/tftp/packets.ts';

const raw = (s: string): Buffer => Buffer.from(s, 'latin1');

test('an RRQ with options decodes to filename, lower-case mode and options', () => {
  const d = decodePacket(raw('\x00\x01pxelinux.0\x00OcTeT\x00TSIZE\x000\x00blksize\x001408\x00'));
  assert.ok(d.ok);
  assert.deepEqual(d.packet.op, 'rrq');
  if (d.packet.op !== 'rrq') return;
  assert.equal(d.packet.filename, 'pxelinux.0');
  assert.equal(d.packet.mode, 'octet');
  assert.deepEqual(d.packet.options, [
    { name: 'tsize', value: '0' },
    { name: 'blksize', value: '1408' },
  ]);
});

test('malformed requests are typed failures, never exceptions (T01–T09, T15, T17)', () => {
  const cases: [string, Buffer, string][] = [
    ['empty datagram', Buffer.alloc(0), 'empty'],
    ['one octet', Buffer.from([0]), 'truncated'],
    ['opcode 0', raw('\x00\x00x\x00octet\x00'), 'unknown-opcode'],
    ['opcode 7', raw('\x00\x07x\x00octet\x00'), 'unknown-opcode'],
    ['opcode 0xffff', raw('\xff\xffx\x00octet\x00'), 'unknown-opcode'],
    ['2-octet ACK', raw('\x00\x04'), 'truncated'],
    ['no NUL after the file name', raw('\x00\x01canary.bin'), 'no-terminator'],
    ['empty file name', raw('\x00\x01\x00octet\x00'), 'empty-filename'],
    ['file name without mode', raw('\x00\x01canary.bin\x00'), 'missing-mode'],
    ['unterminated mode', raw('\x00\x01canary.bin\x00octet'), 'no-terminator'],
    ['mode binary', raw('\x00\x01a\x00binary\x00'), 'unknown-mode'],
    ['mode mail', raw('\x00\x01a\x00mail\x00'), 'unknown-mode'],
    ['mode \\xff', raw('\x00\x01a\x00\xff\x00'), 'unknown-mode'],
    ['600-octet mode', raw('\x00\x01a\x00' + 'o'.repeat(600) + '\x00'), 'unknown-mode'],
    ['NUL splits the name: mode becomes ../../etc/passwd', raw('\x00\x01canary.bin\x00../../etc/passwd\x00octet\x00'), 'unknown-mode'],
    ['65,000-octet request', Buffer.concat([raw('\x00\x01'), Buffer.alloc(65000, 0x61), raw('\x00octet\x00')]), 'too-long'],
  ];
  for (const [title, buf, reason] of cases) {
    const d = decodePacket(buf);
    assert.equal(d.ok, false, title);
    if (!d.ok) assert.equal(d.reason, reason, title);
  }
});

test('a trailing option name without a value is dropped, never read past the end (T27)', () => {
  const d = decodePacket(raw('\x00\x01a\x00octet\x00blksize\x001024\x00tsize\x00'));
  assert.ok(d.ok && d.packet.op === 'rrq');
  if (d.packet.op === 'rrq') assert.deepEqual(d.packet.options, [{ name: 'blksize', value: '1024' }]);
  const e = decodePacket(raw('\x00\x01a\x00octet\x00blksize\x001024'));
  assert.ok(e.ok && e.packet.op === 'rrq');
  if (e.packet.op === 'rrq') assert.deepEqual(e.packet.options, []);
});

test('300 unknown options are skipped in bounded work; the known ones among them count (T25, T26)', () => {
  let body = '\x00\x01a\x00octet\x00';
  for (let i = 0; i < 300; i++) body += `o${i}\x00${i}\x00`;
  const d = decodePacket(raw(body));
  assert.ok(d.ok && d.packet.op === 'rrq', 'answered, not refused as too long');
  if (d.packet.op === 'rrq') assert.deepEqual(d.packet.options, []);
  const known = decodePacket(raw('\x00\x01a\x00octet\x00' + 'x\x00y\x00'.repeat(200) + 'BlkSize\x001024\x00' + 'x\x00y\x00'.repeat(30) + 'tsize\x000\x00'));
  assert.ok(known.ok && known.packet.op === 'rrq');
  if (known.packet.op === 'rrq') assert.deepEqual(known.packet.options, [{ name: 'blksize', value: '1024' }, { name: 'tsize', value: '0' }]);
  // At most 32 known pairs are kept.
  const many = decodePacket(raw('\x00\x01a\x00octet\x00' + 'tsize\x000\x00'.repeat(100)));
  assert.ok(many.ok && many.packet.op === 'rrq');
  if (many.packet.op === 'rrq') assert.equal(many.packet.options.length, 32);
});

test('only the first 1,500 octets of a request are read: options past them are ignored (T17, T26)', () => {
  const head = '\x00\x01a\x00octet\x00';
  const pad = 'x\x00y\x00'.repeat(Math.floor((MAX_REQUEST_BYTES - head.length - 'blksize\x001024\x00'.length) / 4));
  const inside = head + pad + 'blksize\x001024\x00';
  assert.ok(inside.length <= MAX_REQUEST_BYTES);
  const d = decodePacket(raw(inside + 'windowsize\x004\x00' + 'x\x00y\x00'.repeat(500)));
  assert.ok(d.ok && d.packet.op === 'rrq');
  if (d.packet.op === 'rrq') assert.deepEqual(d.packet.options, [{ name: 'blksize', value: '1024' }], 'the one within the limit only');
  // A name or mode that does not end within the limit: too long.
  for (const [title, buf] of [
    ['name', raw('\x00\x01' + 'a'.repeat(MAX_REQUEST_BYTES) + '\x00octet\x00')],
    ['mode', raw('\x00\x01a\x00' + 'o'.repeat(MAX_REQUEST_BYTES) + '\x00')],
    ['name ending at the limit', raw('\x00\x01' + 'a'.repeat(MAX_REQUEST_BYTES - 3) + '\x00octet\x00')],
  ] as const) {
    const r = decodePacket(buf);
    assert.ok(!r.ok && r.reason === 'too-long', title);
  }
});

test('DATA, ACK, ERROR and OACK round-trip', () => {
  const data = Buffer.from('hello');
  const d = decodePacket(encodeData(65535, data));
  assert.ok(d.ok && d.packet.op === 'data');
  if (d.packet.op === 'data') {
    assert.equal(d.packet.block, 65535);
    assert.deepEqual(d.packet.data, data);
  }
  assert.deepEqual(decodePacket(encodeAck(513)), { ok: true, packet: { op: 'ack', block: 513 } });
  assert.deepEqual(decodePacket(encodeError(1, 'File not found')), { ok: true, packet: { op: 'error', code: 1, message: 'File not found' } });
  const o = decodePacket(encodeOack([{ name: 'blksize', value: '1468' }]));
  assert.deepEqual(o, { ok: true, packet: { op: 'oack', options: [{ name: 'blksize', value: '1468' }] } });
});

test('ERROR messages are printable ASCII only', () => {
  const e = encodeError(0, 'bad\nname\x00é');
  assert.equal(e.indexOf(0, 4), e.length - 1);
  assert.match(e.toString('latin1', 4, e.length - 1), /^[\x20-\x7e]*$/);
});

test('property: decode never throws on arbitrary bytes', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 2000 }), (bytes) => {
      decodePacket(bytes);
    }),
    { numRuns: 2000 },
  );
});

test('property: encodeRequest then decode gives the same request', () => {
  const printable = fc.string({ minLength: 1, maxLength: 40 }).filter((s) => !s.includes('\0') && /^[\x20-\x7e]+$/.test(s));
  const opt = fc.record({ name: fc.constantFrom('blksize', 'tsize', 'timeout', 'windowsize', 'x'), value: fc.stringMatching(/^[0-9]{1,10}$/) });
  fc.assert(
    fc.property(printable, fc.constantFrom('octet', 'netascii'), fc.array(opt, { maxLength: 6 }), (name, mode, options) => {
      const d = decodePacket(encodeRequest('rrq', name, mode, options));
      assert.ok(d.ok && d.packet.op === 'rrq');
      if (d.packet.op !== 'rrq') return;
      assert.equal(d.packet.filename, name);
      assert.equal(d.packet.mode, mode);
      // Names the decoder does not know ('x') are skipped.
      assert.deepEqual(d.packet.options, options.filter((x) => x.name !== 'x').map((x) => ({ name: x.name, value: x.value })));
    }),
    { numRuns: 500 },
  );
});
