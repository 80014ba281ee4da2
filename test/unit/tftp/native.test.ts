// The compiled loops refuse a control block they cannot trust, without touching a socket.
import { test } from 'node:test';
import assert from 'node:assert/strict';
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
