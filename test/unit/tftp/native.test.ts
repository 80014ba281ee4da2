// The compiled loops refuse a control block they cannot trust, without touching a socket.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket } from 'node:dgram';
import { CTL_BYTES, CTL_BLKSIZE, CTL_CUR, CTL_FD, CTL_RCAP, CTL_TOTAL, LS_BAD, loadNativeLoop, MP_BAD, MP_CTL_BYTES } from '../../../src/tftp/native.ts';
import { loadFastUdp } from '../../../src/tftp/udp-fast.ts';

const native = loadNativeLoop();
const fast = loadFastUdp();
const skip = native === undefined || fast === undefined ? 'the compiled loop is not built here' : false;

test('a missing, odd or misaligned address is refused (BAD), not followed', { skip }, () => {
  for (const addr of [0, -8, 8, 4096, 65536.5, Number.NaN, 2 ** 60]) {
    assert.equal(native!.lockstep(addr), LS_BAD, `lockstep(${addr})`);
    assert.equal(native!.many(addr), MP_BAD, `many(${addr})`);
  }
  const raw = fast!.alloc(CTL_BYTES + 8);
  assert.equal(native!.lockstep(raw.addr + 4), LS_BAD, 'misaligned');
  assert.equal(native!.many(raw.addr + 4), MP_BAD, 'misaligned');
});

test('an inconsistent transfer is refused before any call: blksize 0, no receive room, block in flight past the end', { skip }, () => {
  const raw = fast!.alloc(CTL_BYTES);
  const v = new DataView(raw.buf.buffer, raw.buf.byteOffset, CTL_BYTES);
  const base = (): void => {
    raw.buf.fill(0);
    v.setInt32(CTL_FD, -1, true);
    v.setUint32(CTL_BLKSIZE, 512, true);
    v.setUint32(CTL_RCAP, 65536, true);
    v.setUint32(CTL_TOTAL, 10, true);
    v.setUint32(CTL_CUR, 1, true);
  };
  base();
  v.setUint32(CTL_BLKSIZE, 0, true);
  assert.equal(native!.lockstep(raw.addr), LS_BAD);
  base();
  v.setUint32(CTL_RCAP, 2, true);
  assert.equal(native!.lockstep(raw.addr), LS_BAD);
  base();
  v.setUint32(CTL_CUR, 11, true);
  assert.equal(native!.lockstep(raw.addr), LS_BAD);
  // A many() control block without slots or events.
  const mp = fast!.alloc(MP_CTL_BYTES);
  assert.equal(native!.many(mp.addr), MP_BAD);
});

test('the descriptor of a bound dgram socket is found (the many-transfer loop watches the listening sockets through it)', async () => {
  const { default: dgram } = await import('node:dgram');
  const { fstatSync } = await import('node:fs');
  const { dgramFd } = await import('../../../src/tftp/udp-fast.ts');
  const s = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', () => resolve()));
  try {
    const fd = dgramFd(s);
    assert.ok(fd >= 0, 'Node\'s dgram handle no longer exposes its descriptor: listening sockets are then not watched by the loop');
    assert.ok(fstatSync(fd).isSocket());
  } finally {
    s.close();
  }
});

test('a bound dgram socket can be taken out of the event loop\'s watch and back (the hot path does so while it keeps the thread busy)', async () => {
  const { default: dgram } = await import('node:dgram');
  const { dgramWatch } = await import('../../../src/tftp/udp-fast.ts');
  const bind = async (): Promise<{ s: Socket; port: number; got: Buffer[] }> => {
    const s = dgram.createSocket('udp4');
    const got: Buffer[] = [];
    s.on('message', (m) => got.push(m));
    await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', () => resolve()));
    return { s, port: s.address().port, got };
  };
  const stopped = await bind();
  const control = await bind();
  const last = await bind();
  const sender = dgram.createSocket('udp4');
  const send = (port: number, text: string): Promise<void> => new Promise((resolve, reject) => sender.send(text, port, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
  try {
    const w = dgramWatch(stopped.s);
    assert.ok(w !== undefined, 'Node\'s dgram handle no longer has recvStop/recvStart: libuv then always reads the hot sockets too');
    w.stop();
    await send(stopped.port, 'held');
    await send(control.port, 'control');
    await send(last.port, 'last');
    // Once `last` has its datagram, the event loop has polled every watched socket since the
    // first send, and finished that poll one turn later.
    while (last.got.length === 0) await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(control.got.map(String), ['control'], 'a watched socket was read');
    assert.deepEqual(stopped.got, [], 'the unwatched socket was not read');
    w.start();
    while (stopped.got.length === 0) await new Promise((r) => setImmediate(r));
    assert.deepEqual(stopped.got.map(String), ['held'], 'watched again, it delivers what waited in the socket');
    w.stop();
    w.stop();
    w.start();
    w.start();
    await send(stopped.port, 'again');
    while (stopped.got.length === 1) await new Promise((r) => setImmediate(r));
    assert.equal(String(stopped.got[1]), 'again', 'stop and start are idempotent');
  } finally {
    for (const x of [stopped.s, control.s, last.s, sender]) x.close();
  }
});
