// parseHead: the fast path's strict HTTP/1.1 subset. Anything outside it must come back `other`
// (Node's parser and the app then answer it), never `fast`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseHead, responseText } from '../../../src/http/fast-conn.ts';

const PATHS = new Set(['/boot.ipxe', '/menu.ipxe']);
const LIMITS = { maxHeaderSize: 16 * 1024, maxHeadersCount: 100 };
const parse = (s: string) => parseHead(Buffer.from(s, 'latin1'), 0, PATHS, LIMITS);

test('plain GET and HEAD of a fast path are fast, with path, query, end and Connection: close', () => {
  const req = 'GET /boot.ipxe?mac=52:54:00:12:34:56&arch=x86_64 HTTP/1.1\r\nHost: 198.18.0.1\r\nUser-Agent: iPXE/1.21.1\r\n\r\n';
  assert.deepEqual(parse(req), { kind: 'fast', head: false, path: '/boot.ipxe', query: 'mac=52:54:00:12:34:56&arch=x86_64', close: false, end: req.length });
  const head = 'HEAD /menu.ipxe HTTP/1.1\r\nhost: x\r\nConnection: Close\r\n\r\n';
  assert.deepEqual(parse(head), { kind: 'fast', head: true, path: '/menu.ipxe', query: '', close: true, end: head.length });
  assert.equal((parse('GET /boot.ipxe HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n') as { close: boolean }).close, false);
  // A second request after the first: end points at it.
  const two = parse('GET /boot.ipxe HTTP/1.1\r\nHost: x\r\n\r\nGET /menu.ipxe HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.equal(two.kind === 'fast' && two.end, 36);
});

test('an incomplete head waits; one past the size limit does not', () => {
  assert.deepEqual(parse('GET /boot.ipxe HTTP/1.1\r\nHost: x\r\n'), { kind: 'incomplete' });
  assert.deepEqual(parse('GET /boot.ipxe HTTP/1.1\r\nHost: x\r\nX: '.padEnd(LIMITS.maxHeaderSize + 10, 'a')), { kind: 'other' });
  assert.deepEqual(parse(`GET /boot.ipxe HTTP/1.1\r\nHost: x\r\nX: ${'a'.repeat(LIMITS.maxHeaderSize)}\r\n\r\n`), { kind: 'other' });
});

test('everything outside the strict subset is left to Node and the app', () => {
  const others = [
    'POST /boot.ipxe HTTP/1.1\r\nHost: x\r\n\r\n',
    'get /boot.ipxe HTTP/1.1\r\nHost: x\r\n\r\n',
    'GET  /boot.ipxe HTTP/1.1\r\nHost: x\r\n\r\n',
    'GET /boot.ipxe HTTP/1.0\r\nHost: x\r\n\r\n',
    'GET /boot.ipxe HTTP/1.1 \r\nHost: x\r\n\r\n',
    'GET /boot.ipxe\r\nHost: x\r\n\r\n',
    'GET /other HTTP/1.1\r\nHost: x\r\n\r\n',
    'GET /boot.ipxe/ HTTP/1.1\r\nHost: x\r\n\r\n',
    'GET //boot.ipxe HTTP/1.1\r\nHost: x\r\n\r\n',
    'GET http://x/boot.ipxe HTTP/1.1\r\nHost: x\r\n\r\n',
    'GET * HTTP/1.1\r\nHost: x\r\n\r\n',
    'GET /boot.ipxe#frag HTTP/1.1\r\nHost: x\r\n\r\n',
    'GET /boot.ipxe?a=\x7f HTTP/1.1\r\nHost: x\r\n\r\n',
    'GET /boot.ipxe?a=\xe9 HTTP/1.1\r\nHost: x\r\n\r\n',
    'GET /boot.ipxe HTTP/1.1\r\n\r\n', // no Host
    'GET /boot.ipxe HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n',
    'GET /boot.ipxe HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n',
    'GET /boot.ipxe HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n',
    'GET /boot.ipxe HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n\r\n',
    'GET /boot.ipxe HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n',
    'GET /boot.ipxe HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, foo\r\n\r\n',
    'GET /boot.ipxe HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n', // obs-fold
    'GET /boot.ipxe HTTP/1.1\r\nHost : x\r\n\r\n',
    'GET /boot.ipxe HTTP/1.1\r\n: x\r\nHost: x\r\n\r\n',
    'GET /boot.ipxe HTTP/1.1\r\nHo(st: x\r\n\r\n',
    'GET /boot.ipxe HTTP/1.1\r\nHost: x\ny\r\n\r\n', // bare LF
    'GET /boot.ipxe HTTP/1.1\r\nHost: x\ry\r\n\r\n', // bare CR
    'GET /boot.ipxe HTTP/1.1\r\nHost: x\x00\r\n\r\n',
    'GET /boot.ipxe HTTP/1.1\r\nHost: \xff\r\n\r\n', // obs-text
    'GET /boot.ipxe HTTP/1.1\nHost: x\r\n\r\n',
  ];
  for (const r of others) assert.deepEqual(parse(r), { kind: 'other' }, JSON.stringify(r));
  const many = `GET /boot.ipxe HTTP/1.1\r\nHost: x\r\n${'X: y\r\n'.repeat(LIMITS.maxHeadersCount)}\r\n`;
  assert.deepEqual(parse(many), { kind: 'other' });
});

test('property: whatever the bytes, parseHead returns one of the three answers, and `fast` only for GET/HEAD of a listed path ending at a blank line', () => {
  const piece = fc.constantFrom('GET ', 'HEAD ', '/boot.ipxe', '/menu.ipxe', '?mac=1', ' HTTP/1.1', '\r\n', '\r\n\r\n', 'Host: x', 'Content-Length: 1', 'Connection: close', ' ', ':', '\n', '\x00', 'a');
  fc.assert(
    fc.property(fc.array(piece, { maxLength: 20 }), fc.uint8Array({ maxLength: 40 }), (parts, noise) => {
      const buf = Buffer.concat([Buffer.from(parts.join(''), 'latin1'), Buffer.from(noise)]);
      const r = parseHead(buf, 0, PATHS, LIMITS);
      if (r.kind === 'fast') {
        const text = buf.toString('latin1', 0, r.end);
        assert.match(text, /^(GET|HEAD) \/(boot|menu)\.ipxe[^ ]* HTTP\/1\.1\r\n/);
        assert.ok(text.endsWith('\r\n\r\n'));
        assert.equal((text.match(/^host:/gim) ?? []).length, 1);
        assert.doesNotMatch(text, /content-length|transfer-encoding/i);
      } else {
        assert.ok(r.kind === 'other' || r.kind === 'incomplete');
      }
    }),
    { numRuns: 3000 },
  );
});

test('the answer is written as Node writes it: status line, the app\'s headers, Date, keep-alive; HEAD without the body', () => {
  const t = responseText({ status: 200, contentType: 'text/plain; charset=utf-8', body: '#!ipxe\né\n' }, false, false, 15);
  assert.match(t, /^HTTP\/1\.1 200 OK\r\ncontent-type: text\/plain; charset=utf-8\r\ncache-control: no-store\r\ncontent-length: 10\r\nDate: [A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT\r\nConnection: keep-alive\r\nKeep-Alive: timeout=15\r\n\r\n#!ipxe\né\n$/);
  const h = responseText({ status: 200, contentType: 'text/plain', body: 'abc' }, true, true, 15);
  assert.match(h, /content-length: 3\r\n/);
  assert.match(h, /Connection: close\r\n\r\n$/);
});
