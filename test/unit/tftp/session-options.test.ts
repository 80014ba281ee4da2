// A session's negotiation as its client sees it (SECURITY.md §2.4 T18–T27, T24 netascii): the
// first packet (OACK or DATA 1), what the OACK holds, and what the transfer then does with it.
// Fake I/O on a fake clock (test/helpers/tftp-fake-io.ts); no socket.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeAck, encodeError } from '../../../src/protocol/tftp/packets.ts';
import type { RequestOption } from '../../../src/protocol/tftp/packets.ts';
import { oackOf, SessionHarness } from '../../helpers/tftp-fake-io.ts';

const o = (name: string, value: string): RequestOption => ({ name, value });
const raw = (s: string): Buffer => Buffer.from(s, 'latin1');
const content = (n: number): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => (i * 7 + (i >> 8)) & 0xff));

async function first(options: RequestOption[], size = 200_000): Promise<SessionHarness> {
  const h = new SessionHarness({ content: content(size) }, { options });
  assert.equal(await h.start(), true);
  return h;
}

test('T18–T25: option values outside the grammar or the RFC ranges never reach the OACK', async () => {
  const cases: [string, RequestOption[], Record<string, string>][] = [
    ['T18 blksize 0', [o('blksize', '0'), o('tsize', '0')], { tsize: '200000' }],
    ['T18 blksize 7', [o('blksize', '7'), o('tsize', '0')], { tsize: '200000' }],
    ['T19 blksize 65465', [o('blksize', '65465'), o('tsize', '0')], { tsize: '200000' }],
    ['T19 blksize of 20 digits', [o('blksize', '99999999999999999999'), o('tsize', '0')], { tsize: '200000' }],
    ['T20 blksize abc', [o('blksize', 'abc'), o('tsize', '0')], { tsize: '200000' }],
    ['T20 blksize -1', [o('blksize', '-1'), o('tsize', '0')], { tsize: '200000' }],
    ['T20 blksize +512', [o('blksize', '+512'), o('tsize', '0')], { tsize: '200000' }],
    ['T20 blksize "512 "', [o('blksize', '512 '), o('tsize', '0')], { tsize: '200000' }],
    ['T20 blksize 0x200', [o('blksize', '0x200'), o('tsize', '0')], { tsize: '200000' }],
    ['T20 blksize empty', [o('blksize', ''), o('tsize', '0')], { tsize: '200000' }],
    ['T21 blksize twice: the last counts', [o('blksize', '1024'), o('blksize', '512')], { blksize: '512' }],
    ['T22 windowsize 0', [o('windowsize', '0'), o('tsize', '0')], { tsize: '200000' }],
    ['T22 windowsize 65536', [o('windowsize', '65536'), o('tsize', '0')], { tsize: '200000' }],
    ['T22 windowsize 65535: the server\'s cap', [o('windowsize', '65535')], { windowsize: '64' }],
    ['T23 timeout 0', [o('timeout', '0'), o('tsize', '0')], { tsize: '200000' }],
    ['T23 timeout 256', [o('timeout', '256'), o('tsize', '0')], { tsize: '200000' }],
    ['T24 tsize 12345: the exact size', [o('tsize', '12345')], { tsize: '200000' }],
    ['T25 unknown option', [o('foo', 'bar'), o('blksize', '1024')], { blksize: '1024' }],
    ['blksize above the MTU: the link\'s largest', [o('blksize', '8192')], { blksize: '1468' }],
  ];
  for (const [title, options, expected] of cases) {
    const h = await first(options);
    const sent = h.take();
    assert.equal(sent.length, 1, `${title}: one packet`);
    assert.equal(sent[0]!.at, 0, `${title}: at once`);
    assert.deepEqual(oackOf(sent[0]), expected, title);
  }
});

test('T21: with blksize 1024 then 512, DATA carries 512 octets', async () => {
  const h = await first([o('blksize', '1024'), o('blksize', '512')]);
  h.take();
  await h.ack(0);
  const d = h.take();
  assert.equal(d.length, 1);
  assert.equal(d[0]!.packet?.op === 'data' && d[0]!.packet.data.length, 512);
});

test('T22: windowsize 65535 is granted as the server\'s cap: 64 DATA per ACK', async () => {
  const h = await first([o('windowsize', '65535'), o('blksize', '512')]);
  h.take();
  await h.ack(0);
  assert.deepEqual(SessionHarness.blocks(h.take()), Array.from({ length: 64 }, (_, i) => i + 1));
});

test('T23: an acknowledged timeout sets when the OACK is first resent; an invalid one leaves the server\'s', async () => {
  for (const [value, expectedAt] of [['3', 3000], ['0', 1000], ['256', 1000]] as const) {
    const h = await first([o('timeout', value), o('blksize', '1024')]);
    h.take();
    await h.advance(expectedAt - h.tickMs);
    assert.deepEqual(h.take(), [], `timeout ${value}: nothing before ${expectedAt} ms`);
    await h.advance(h.tickMs);
    const again = h.take();
    assert.equal(again.length, 1, `timeout ${value}: the OACK again at ${expectedAt} ms`);
    assert.equal(again[0]!.packet?.op, 'oack');
  }
});

test('T24: tsize is the exact size in octet mode, omitted in netascii and for an empty file', async () => {
  assert.deepEqual(oackOf((await first([o('tsize', '0')], 4321)).take()[0]), { tsize: '4321' });
  const na = new SessionHarness({ content: raw('line\n') }, { options: [o('tsize', '0'), o('blksize', '512')], mode: 'netascii' });
  await na.start();
  assert.deepEqual(oackOf(na.take()[0]), { blksize: '512' });
  // An empty file, tsize only: no OACK at all; DATA 1 with no payload tells the size.
  const empty = await first([o('tsize', '0')], 0);
  const d = empty.take();
  assert.equal(d[0]!.packet?.op, 'data');
  assert.equal(d[0]!.packet?.op === 'data' && d[0]!.packet.data.length, 0);
});

test('no (valid) option: DATA 1 of 512 octets at once, no OACK', async () => {
  const h = await first([]);
  const d = h.take();
  assert.equal(d.length, 1);
  assert.equal(d[0]!.at, 0);
  assert.ok(d[0]!.packet?.op === 'data' && d[0]!.packet.block === 1 && d[0]!.packet.data.length === 512);
});

test('T26: 300 unknown options (a 2.5 KB request) are ignored: DATA 1; a known one among them is answered', async () => {
  let many = '\x00\x01f.bin\x00octet\x00';
  for (let i = 0; i < 300; i++) many += `x${i}\x00${i}\x00`;
  assert.ok(many.length > 1500);
  const plain = new SessionHarness({ content: content(5000) }, { rrq: raw(many) });
  await plain.start();
  assert.deepEqual(SessionHarness.blocks(plain.take()), [1]);
  const known = new SessionHarness({ content: content(5000) }, { rrq: raw(many.replace('octet\x00', 'octet\x00blksize\x001024\x00')) });
  await known.start();
  assert.deepEqual(oackOf(known.take()[0]), { blksize: '1024' });
});

test('T27: a trailing option name without a value: the OACK holds only what the request held in full', async () => {
  const h = new SessionHarness({ content: content(5000) }, { rrq: raw('\x00\x01f.bin\x00octet\x00blksize\x001024\x00tsize') });
  await h.start();
  const sent = h.take();
  assert.deepEqual(oackOf(sent[0]), { blksize: '1024' });
  assert.deepEqual(sent[0]!.bytes, raw('\x00\x06blksize\x001024\x00'));
});

test('T24, netascii: LF leaves as CR LF and a bare CR as CR NUL, across block boundaries', async () => {
  // blksize 8: the CR of the first CR LF is the last octet of block 1, its LF the first of block 2.
  const text = raw('abcdefg\nh\ri\n\n');
  const h = new SessionHarness({ content: text }, { options: [o('blksize', '8')], mode: 'netascii', maxBlksize: 1468 });
  await h.start();
  h.take();
  const got: Buffer[] = [];
  await h.ack(0);
  for (let block = 1; h.ended.length === 0; block++) {
    const d = h.take();
    assert.equal(d.length, 1);
    assert.ok(d[0]!.packet?.op === 'data');
    if (d[0]!.packet.op === 'data') got.push(d[0]!.packet.data);
    await h.ack(block);
  }
  assert.deepEqual(Buffer.concat(got), raw('abcdefg\r\nh\r\x00i\r\n\r\n'));
  assert.deepEqual(got.map((b) => b.length), [8, 8, 1]);
  assert.equal(h.ended[0]!.how, 'finished');
});

test('netascii of a file above netasciiMaxBytes is refused before anything is sent', async () => {
  const h = new SessionHarness({ content: content(2000) }, { mode: 'netascii' }, { netasciiMaxBytes: 1999 });
  assert.equal(await h.start(), false);
  assert.deepEqual(h.take(), []);
});

test('T33: the client declines the OACK with ERROR 8: the session ends quietly, nothing more is sent', async () => {
  const h = await first([o('tsize', '0')]);
  h.take();
  await h.send(encodeError(8, 'size probe'));
  assert.deepEqual(h.ended.map((e) => [e.how, e.reason]), [['declined', 'options-declined']]);
  await h.advance(10_000);
  assert.deepEqual(h.take(), []);
  assert.equal(h.io.closed, true);
});

test('ERROR 8 after DATA began is a failure of the transfer, not a declined OACK', async () => {
  const h = await first([o('blksize', '1024')]);
  await h.ack(0);
  h.take();
  await h.send(encodeError(8, 'late'));
  assert.deepEqual(h.ended.map((e) => [e.how, e.reason, e.extra?.clientError]), [['failed', 'client-error', 8]]);
});

test('an ACK of block 0 without an OACK is a duplicate: no DATA is sent again', async () => {
  const h = await first([]);
  h.take();
  await h.send(encodeAck(0));
  assert.deepEqual(h.take(), []);
  assert.equal(h.counters.duplicateAcks, 1);
});
