// The compiled loops and the dgram internals the hot path relies on, on real loopback sockets: a
// control block the loops cannot trust is refused without touching a socket; a bound dgram
// socket's descriptor and libuv watch are found; many() answers one epoll batch as it should.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import type { Socket } from 'node:dgram';
import { CTL_BYTES, CTL_BLKSIZE, CTL_CUR, CTL_FD, CTL_RCAP, CTL_TOTAL, LS_BAD, loadNativeLoop, MANY_MAX_EVENTS, MP_BAD, MP_F_URING, MP_CTL_BYTES, MP_EPFD, MP_ERR, MP_ERROR, MP_EVENTS, MP_FROM, MP_MAX_EVENTS, MP_NSLOTS, MP_RBUF, MP_RCAP, MP_SLOTS } from '../../../src/tftp/native.ts';
import { loadFastUdp } from '../../../src/tftp/udp-fast.ts';

const native = loadNativeLoop();
const fast = loadFastUdp();
const skip = native === undefined || fast === undefined ? 'the compiled loop is not built here' : false;

/** A dgram socket bound to 127.0.0.1 and what it received. */
async function boundSocket(): Promise<{ s: Socket; port: number; got: Buffer[] }> {
  const s = dgram.createSocket('udp4');
  const got: Buffer[] = [];
  s.on('message', (m) => got.push(m));
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', () => resolve()));
  return { s, port: s.address().port, got };
}

/** Sends from `from` to 127.0.0.1:port; resolves once the datagram is in the kernel. */
function sendFrom(from: Socket, buf: Buffer | string, port: number): Promise<void> {
  return new Promise((resolve, reject) => from.send(buf, port, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
}

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
  // More events per wait than the loop has room for (its per-batch list of ACKed slots) is refused;
  // the most it takes gets as far as epoll_wait (on no descriptor: MP_ERROR, EBADF).
  const room = fast!.alloc(65536);
  const mv = new DataView(mp.buf.buffer, mp.buf.byteOffset, MP_CTL_BYTES);
  mv.setInt32(MP_EPFD, -1, true);
  mv.setUint32(MP_NSLOTS, 1, true);
  mv.setBigUint64(MP_SLOTS, BigInt(room.addr), true);
  mv.setBigUint64(MP_EVENTS, BigInt(room.addr + 4096), true);
  mv.setUint32(MP_RCAP, 1024, true);
  mv.setBigUint64(MP_RBUF, BigInt(room.addr + 32768), true);
  mv.setBigUint64(MP_FROM, BigInt(room.addr + 40960), true);
  mv.setUint32(MP_MAX_EVENTS, MANY_MAX_EVENTS + 1, true);
  assert.equal(native!.many(mp.addr), MP_BAD);
  mv.setUint32(MP_MAX_EVENTS, MANY_MAX_EVENTS, true);
  assert.equal(native!.many(mp.addr), MP_ERROR);
  assert.equal(mv.getInt32(MP_ERR, true), 9, 'EBADF');
});

test('the descriptor of a bound dgram socket is found (the many-transfer loop watches the listening sockets through it)', async () => {
  const { fstatSync } = await import('node:fs');
  const { dgramFd } = await import('../../../src/tftp/udp-fast.ts');
  const { s } = await boundSocket();
  try {
    const fd = dgramFd(s);
    assert.ok(fd >= 0, 'Node\'s dgram handle no longer exposes its descriptor: listening sockets are then not watched by the loop');
    assert.ok(fstatSync(fd).isSocket());
  } finally {
    s.close();
  }
});

test('a bound dgram socket can be taken out of the event loop\'s watch and back (the hot path does so while it keeps the thread busy)', async () => {
  const { dgramWatch } = await import('../../../src/tftp/udp-fast.ts');
  const stopped = await boundSocket();
  const control = await boundSocket();
  const last = await boundSocket();
  const sender = dgram.createSocket('udp4');
  const send = (port: number, text: string): Promise<void> => sendFrom(sender, text, port);
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

const ring = native?.batchRing?.() === true;

for (const flags of [0, MP_F_URING]) {
  const how = flags === 0 ? 'one sendmsg each' : 'one io_uring_enter';
  test(`many(), ${how}: every ordinary ACK of one epoll batch is answered, those read before a datagram left to JavaScript too; what comes after stays in its socket; a failed send is a lost datagram`, { skip: skip || (flags !== 0 && !ring ? 'no io_uring on this kernel' : false) }, async () => {
    const { dgramFd, dgramWatch, sockaddrIn, sockaddrWords } = await import('../../../src/tftp/udp-fast.ts');
    const { encodeAck } = await import('../../../src/protocol/tftp/packets.ts');
    const N = await import('../../../src/tftp/native.ts');
    // Five transfers, each with block 3 in flight. 0-3: a 10-block file at blksize 4. 4: blksize
    // 65600, more than a UDP datagram can carry: its send fails (EMSGSIZE). (bootherd never
    // negotiates more than 65464; this stands for any send the kernel refuses.)
    // The server side of each is a dgram socket libuv does not read (the loop reads it).
    const small = Buffer.from('0123456789abcdefghijklmnopqrstuvwxyzABCD');
    const big = Buffer.alloc(5 * 65600, 7);
    const T = 5;
    const servers = await Promise.all(Array.from({ length: T }, () => boundSocket()));
    const clients = await Promise.all(Array.from({ length: T }, () => boundSocket()));
    const stranger = await boundSocket();
    const epfd = fast!.epollCreate();
    // Offsets in `mem`: the slots, the control block, epoll events, receive buffer, source address.
    const ctl = T * N.SLOT_BYTES;
    const events = ctl + N.MP_CTL_BYTES;
    const rbuf = events + 16 * N.MANY_MAX_EVENTS;
    const from = rbuf + 2048;
    const mem = fast!.alloc(from + 16);
    const view = new DataView(mem.buf.buffer, mem.buf.byteOffset, mem.buf.length);
    try {
      servers.forEach((sv, i) => {
        dgramWatch(sv.s)!.stop();
        const fd = dgramFd(sv.s);
        assert.ok(fast!.epollCtl(epfd, true, fd, i));
        const o = i * N.SLOT_BYTES;
        const [p0, p1] = sockaddrWords(sockaddrIn('127.0.0.1', clients[i]!.port)!);
        const file = i === 4 ? big : small;
        view.setInt32(o + N.SLOT_FD, fd, true);
        view.setUint32(o + N.SLOT_PEER0, p0, true);
        view.setUint32(o + N.SLOT_PEER1, p1, true);
        view.setUint32(o + N.SLOT_BLKSIZE, i === 4 ? 65600 : 4, true);
        view.setBigUint64(o + N.SLOT_BASE, BigInt(fast!.addressOf(file)), true);
        view.setBigUint64(o + N.SLOT_END, BigInt(file.length), true);
        view.setUint32(o + N.SLOT_BASE_BLOCK, 1, true);
        view.setUint32(o + N.SLOT_AVAIL_LAST, i === 4 ? 6 : 10, true);
        view.setUint32(o + N.SLOT_TOTAL, i === 4 ? 6 : 10, true);
        view.setUint32(o + N.SLOT_CUR, 3, true);
        view.setUint32(o + N.SLOT_ARMED, 1, true);
      });
      view.setInt32(ctl + N.MP_EPFD, epfd, true);
      view.setUint32(ctl + N.MP_NSLOTS, T, true);
      view.setBigUint64(ctl + N.MP_SLOTS, BigInt(mem.addr), true);
      view.setBigUint64(ctl + N.MP_EVENTS, BigInt(mem.addr + events), true);
      view.setUint32(ctl + N.MP_MAX_EVENTS, N.MANY_MAX_EVENTS, true);
      view.setUint32(ctl + N.MP_RCAP, 2048, true);
      view.setBigUint64(ctl + N.MP_RBUF, BigInt(mem.addr + rbuf), true);
      view.setBigUint64(ctl + N.MP_FROM, BigInt(mem.addr + from), true);
      view.setBigInt64(ctl + N.MP_WAIT_NS, 0n, true);
      view.setBigInt64(ctl + N.MP_SLICE_NS, 10_000_000_000n, true);
      view.setUint32(ctl + N.MP_FLAGS, flags, true);
      // Queued before the call, in this order (epoll reports them in the order they became ready):
      // ACK 3 of transfers 0 and 2, a stranger's ACK 3 on transfer 1, ACK 3 of transfers 3 and 4.
      await sendFrom(clients[0]!.s, encodeAck(3), servers[0]!.port);
      await sendFrom(clients[2]!.s, encodeAck(3), servers[2]!.port);
      await sendFrom(stranger.s, encodeAck(3), servers[1]!.port);
      await sendFrom(clients[3]!.s, encodeAck(3), servers[3]!.port);
      await sendFrom(clients[4]!.s, encodeAck(3), servers[4]!.port);
      const rounds = (): number[] => servers.map((_, i) => view.getUint32(i * N.SLOT_BYTES + N.SLOT_ROUNDS, true));
      const cur = (): number[] => servers.map((_, i) => view.getUint32(i * N.SLOT_BYTES + N.SLOT_CUR, true));

      assert.equal(native!.many(mem.addr + ctl), N.MP_PACKET);
      assert.equal(view.getInt32(ctl + N.MP_SLOT, true), 1, 'the stranger\'s datagram is left for JavaScript, with its slot');
      assert.deepEqual(mem.buf.subarray(rbuf, rbuf + view.getInt32(ctl + N.MP_LEN, true)), encodeAck(3));
      assert.equal(view.getInt32(ctl + N.MP_ERR, true), 0, 'the error field belongs to the datagram left (none)');
      assert.deepEqual(rounds(), [1, 0, 1, 0, 0], 'the ACKs read before it were answered; those after it were not read');
      assert.deepEqual(cur(), [4, 3, 4, 3, 3]);
      assert.equal(view.getUint32(ctl + N.MP_ROUNDS, true), 2);

      assert.equal(native!.many(mem.addr + ctl), N.MP_IDLE, 'then the ACKs of transfers 3 and 4, and nothing more to wait for');
      assert.deepEqual(rounds(), [1, 0, 1, 1, 1]);
      assert.deepEqual(cur(), [4, 3, 4, 4, 4], 'a failed send still makes its block the one in flight (lost: the timer resends it)');
      assert.equal(view.getInt32(ctl + N.MP_ERR, true), 90, 'the failed send\'s errno (EMSGSIZE)');

      // Clients 0, 2 and 3 got exactly block 4 ("cdef"), from their transfer's socket; 4 (whose
      // send failed), 1 and the stranger nothing.
      while (clients[0]!.got.length + clients[2]!.got.length + clients[3]!.got.length < 3) await new Promise((r) => setImmediate(r));
      for (const i of [0, 2, 3]) assert.deepEqual(clients[i]!.got, [Buffer.from([0, 3, 0, 4, ...Buffer.from('cdef')])], `client ${i}`);
      await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual([clients[1]!.got.length, clients[4]!.got.length, stranger.got.length], [0, 0, 0]);
    } finally {
      fast!.close(epfd);
      for (const x of [...servers, ...clients, stranger]) x.s.close();
    }
  });
}
