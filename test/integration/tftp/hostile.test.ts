// Every TFTP case of SECURITY.md §2.4 (T01–T36; T37 needs a broadcast domain and lives in
// namespaces.test.ts) against bootherd on loopback, each followed by a canary transfer.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import type { RemoteInfo } from 'node:dgram';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EventBus } from '../../../src/events/bus.ts';
import type { BootEvent } from '../../../src/events/bus.ts';
import { FileResolver } from '../../../src/files/resolver.ts';
import { silentLogger } from '../../../src/log/logger.ts';
import { decodePacket, encodeAck, encodeError, encodeRequest } from '../../../src/protocol/tftp/packets.ts';
import type { TftpPacket } from '../../../src/protocol/tftp/packets.ts';
import { TftpServer } from '../../../src/tftp/server.ts';
import { tftpGet } from '../../helpers/tftp-client.ts';
import { makeRoot, sha256 } from './fixtures.ts';
import type { Fixture } from './fixtures.ts';

const HOST = '127.0.0.1';
const SENTINEL = 'HOSTILE-PROBE-SENTINEL-' + Math.random().toString(36).slice(2);
const raw = (s: string): Buffer => Buffer.from(s, 'latin1');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Got {
  msg: Buffer;
  rinfo: RemoteInfo;
  p: TftpPacket | undefined;
}

/** A probe socket that records everything it receives. */
class Probe {
  readonly sock = dgram.createSocket('udp4');
  readonly got: Got[] = [];
  private waiters: (() => void)[] = [];
  async open(address = HOST): Promise<this> {
    this.sock.on('message', (msg, rinfo) => {
      const d = decodePacket(msg);
      this.got.push({ msg, rinfo, p: d.ok ? d.packet : undefined });
      for (const w of this.waiters.splice(0)) w();
    });
    await new Promise<void>((r) => this.sock.bind({ address, port: 0 }, r));
    return this;
  }
  send(buf: Buffer, port: number, address = HOST): void {
    this.sock.send(buf, port, address);
  }
  /** Waits until `n` packets arrived or `ms` passed. */
  async waitFor(n: number, ms = 3000): Promise<Got[]> {
    const end = Date.now() + ms;
    while (this.got.length < n && Date.now() < end) {
      await Promise.race([new Promise<void>((r) => this.waiters.push(r)), sleep(Math.max(1, end - Date.now()))]);
    }
    return this.got;
  }
  /** Closes after a short grace, so sends queued just before still leave. */
  close(): void {
    setTimeout(() => this.sock.close(), 20);
  }
}

describe('hostile TFTP input (SECURITY.md §2.4)', () => {
  let fx: Fixture;
  let server: TftpServer;
  let port: number;
  const events: BootEvent[] = [];
  before(async () => {
    fx = makeRoot({ extra: { 'canary.bin': 200_000, 'large.bin': 3_000_000 } });
    mkdirSync(join(fx.root, 'subdir'));
    mkdirSync(join(fx.dir, 'outside'));
    writeFileSync(join(fx.dir, 'outside', 'SENTINEL.txt'), SENTINEL);
    symlinkSync('../outside/SENTINEL.txt', join(fx.root, 'escape-link'));
    symlinkSync('../outside', join(fx.root, 'dirlink'));
    symlinkSync('/dev/zero', join(fx.root, 'devzero'));
    execFileSync('mkfifo', [join(fx.root, 'fifo')]);
    writeFileSync(join(fx.root, 'secret0600.txt'), SENTINEL, { mode: 0o600 });
    chmodSync(join(fx.root, 'secret0600.txt'), 0o600);
    const bus = new EventBus();
    bus.subscribe((e) => events.push(e));
    server = new TftpServer({ logger: silentLogger(), events: bus, resolver: new FileResolver({ root: fx.root }), limits: { timeoutMs: 200, maxRetries: 5, maxSessionsPerIp: 8 } });
    await server.start({ address: HOST, port: 0 });
    port = server.port;
  });
  after(async () => {
    await server?.stop();
    if (fx) rmSync(fx.dir, { recursive: true, force: true });
  });

  const canary = async (): Promise<void> => {
    const r = await tftpGet({ host: HOST, port, file: 'canary.bin', options: [{ name: 'blksize', value: '1468' }], timeoutMs: 500 });
    assert.equal(sha256(r.data), fx.files.get('canary.bin'), 'canary transfer intact');
  };
  /** Sends one datagram from a fresh socket and returns what came back within the window. */
  const probeOnce = async (buf: Buffer, waitMs = 400): Promise<Got[]> => {
    const p = await new Probe().open();
    p.send(buf, port);
    const got = await p.waitFor(1, waitMs);
    await sleep(50);
    p.close();
    return got;
  };
  const expectSilence = async (title: string, buf: Buffer): Promise<void> => {
    const got = await probeOnce(buf, 500);
    assert.equal(got.length, 0, `${title}: no reply`);
  };
  const expectError = async (title: string, buf: Buffer, codes: number[]): Promise<string> => {
    const got = await probeOnce(buf, 3000);
    assert.ok(got.length >= 1, `${title}: a reply`);
    const p = got[0]!.p;
    assert.equal(p?.op, 'error', `${title}: an ERROR, not ${p?.op}`);
    if (p?.op !== 'error') return '';
    assert.ok(codes.includes(p.code), `${title}: ERROR ${p.code} is one of ${codes}`);
    for (const g of got) assert.ok(!g.msg.includes(SENTINEL), `${title}: no sentinel`);
    return p.message;
  };
  /** Starts an RRQ and returns the probe plus the first reply (OACK or DATA 1). */
  const startRrq = async (file: string, options: { name: string; value: string }[] = []): Promise<{ probe: Probe; first: Got }> => {
    const probe = await new Probe().open();
    probe.send(encodeRequest('rrq', file, 'octet', options), port);
    const got = await probe.waitFor(1);
    assert.ok(got[0] !== undefined, `${file}: a reply`);
    return { probe, first: got[0]! };
  };
  const waitIdle = async (): Promise<void> => {
    for (let i = 0; i < 400 && server.activeSessions > 0; i++) await sleep(50);
    assert.equal(server.activeSessions, 0, 'every session freed');
  };

  test('T01–T05: empty, short, unknown-opcode, DATA/ACK and ERROR datagrams to port 69 get no reply', async () => {
    await expectSilence('T01 empty', Buffer.alloc(0));
    await expectSilence('T02 one octet', Buffer.from([1]));
    for (const op of [0, 7, 9, 0xffff]) await expectSilence(`T03 opcode ${op}`, Buffer.from([op >> 8, op & 0xff, 0x61, 0, 0x6f, 0]));
    await expectSilence('T04 ACK', encodeAck(1));
    await expectSilence('T04 DATA', raw('\x00\x03\x00\x01data'));
    await expectSilence('T04 2-octet ACK', raw('\x00\x04'));
    await expectSilence('T05 ERROR', encodeError(0, 'x'));
    await expectSilence('T05 3-octet ERROR', raw('\x00\x05\x00'));
    await canary();
  });

  test('T06–T10, T15: malformed requests get ERROR 4; mode is case-insensitive', async () => {
    await expectError('T06 no NUL', raw('\x00\x01canary.bin'), [4]);
    await expectError('T07 empty filename', raw('\x00\x01\x00octet\x00'), [4]);
    await expectError('T08 no mode', raw('\x00\x01canary.bin\x00'), [4]);
    for (const m of ['binary', 'mail', '\xff', 'o'.repeat(600)]) await expectError(`T09 mode ${m.slice(0, 8)}`, raw(`\x00\x01canary.bin\x00${m}\x00`), [4]);
    await expectError('T15 NUL splits fields', raw('\x00\x01canary.bin\x00../../etc/passwd\x00octet\x00'), [4]);
    const { probe, first } = await startRrq('s513.bin');
    assert.equal(first.p?.op, 'data');
    probe.close();
    const mixed = await probeOnce(raw('\x00\x01s511.bin\x00OcTeT\x00'));
    assert.equal(mixed[0]?.p?.op, 'data', 'T10 OcTeT accepted');
    await waitIdle();
    await canary();
  });

  test('T11: a WRQ gets ERROR 2 and creates nothing', async () => {
    await expectError('T11 WRQ', encodeRequest('wrq', 'new-file.bin', 'octet'), [2]);
    assert.equal(existsSync(join(fx.root, 'new-file.bin')), false);
  });

  test('T12: 18 traversal variants never leave the root', async () => {
    const variants = ['../x', '/etc/passwd', '/../etc/passwd', '//etc//passwd', 'foo/../../', '..\\..\\etc\\passwd', '....//', '%2e%2e%2f', '\xc0\xae\xc0\xae/', '．．／etc/passwd', 'a/'.repeat(60) + '../'.repeat(61) + 'etc/passwd', 'C:\\Windows\\win.ini', '/proc/self/environ', '/dev/zero', '../outside/SENTINEL.txt', 'subdir/../../outside/SENTINEL.txt', '/../../../../etc/shadow', '..'];
    for (const v of variants) {
      const buf = Buffer.concat([raw('\x00\x01'), Buffer.from(v, [...v].some((c) => c.charCodeAt(0) > 0xff) ? 'utf8' : 'latin1'), raw('\x00octet\x00')]);
      await expectError(`T12 ${v.slice(0, 30)}`, buf, [1, 2]);
    }
    await canary();
  });

  test('T13, T14: symlinks out, FIFOs, devices, private files and directories: ERROR 1/2, no hang, no server path', async () => {
    for (const f of ['escape-link', 'dirlink/SENTINEL.txt', 'fifo', 'devzero', 'secret0600.txt', '/', '.', 'subdir/', 'subdir']) {
      const msg = await expectError(`T13/T14 ${f}`, encodeRequest('rrq', f, 'octet'), [1, 2]);
      assert.ok(!msg.includes(fx.dir), `${f}: no server path in "${msg}"`);
    }
    await canary();
  });

  test('T16, T17: control and non-ASCII bytes, long names and oversized requests', async () => {
    for (const b of ['\x01', '\n', '\x7f', '\xff\xfe']) await expectError(`T16 ${JSON.stringify(b)}`, raw(`\x00\x01a${b}b\x00octet\x00`), [1, 2]);
    await expectError('T17 500-octet name', encodeRequest('rrq', 'a'.repeat(500), 'octet'), [1, 2]);
    await expectError('T17 1,400-octet request', encodeRequest('rrq', 'b'.repeat(1380), 'octet'), [1, 2, 4]);
    const huge = await probeOnce(Buffer.concat([raw('\x00\x01'), Buffer.alloc(65000, 0x61), raw('\x00octet\x00')]), 1000);
    assert.ok(huge.length === 0 || (huge[0]!.p?.op === 'error' && huge[0]!.p.code === 4), 'T17 65,000 octets: ERROR 4 or silence');
    await canary();
  });

  test('T18–T27: option values outside the grammar never reach the OACK', async () => {
    const cases: [string, [string, string][], Record<string, string>][] = [
      ['T18 blksize 0', [['blksize', '0'], ['tsize', '0']], { tsize: '200000' }],
      ['T18 blksize 7', [['blksize', '7'], ['tsize', '0']], { tsize: '200000' }],
      ['T19 blksize 65465', [['blksize', '65465'], ['tsize', '0']], { tsize: '200000' }],
      ['T19 blksize 20 digits', [['blksize', '99999999999999999999'], ['tsize', '0']], { tsize: '200000' }],
      ['T20 blksize -1', [['blksize', '-1'], ['tsize', '0']], { tsize: '200000' }],
      ['T20 blksize 0x200', [['blksize', '0x200'], ['tsize', '0']], { tsize: '200000' }],
      ['T20 blksize "512 "', [['blksize', '512 '], ['tsize', '0']], { tsize: '200000' }],
      ['T21 blksize twice: the last counts', [['blksize', '1024'], ['blksize', '512']], { blksize: '512' }],
      ['T22 windowsize 0', [['windowsize', '0'], ['tsize', '0']], { tsize: '200000' }],
      ['T22 windowsize 65536', [['windowsize', '65536'], ['tsize', '0']], { tsize: '200000' }],
      ['T23 timeout 0', [['timeout', '0'], ['tsize', '0']], { tsize: '200000' }],
      ['T23 timeout 256', [['timeout', '256'], ['tsize', '0']], { tsize: '200000' }],
      ['T24 tsize 12345', [['tsize', '12345']], { tsize: '200000' }],
      ['T25 unknown option', [['foo', 'bar'], ['blksize', '1024']], { blksize: '1024' }],
    ];
    for (const [title, opts, expected] of cases) {
      const { probe, first } = await startRrq('canary.bin', opts.map(([name, value]) => ({ name, value })));
      assert.equal(first.p?.op, 'oack', `${title}: ${first.p?.op === 'error' ? first.p.message : ''}`);
      if (first.p?.op === 'oack') assert.deepEqual(Object.fromEntries(first.p.options.map((o) => [o.name, o.value])), expected, title);
      probe.send(encodeError(8, 'probe done'), first.rinfo.port);
      probe.close();
    }
    // T26: 300 options; T27: a trailing name without a value.
    let many = '\x00\x01canary.bin\x00octet\x00';
    for (let i = 0; i < 300; i++) many += `x${i}\x00${i}\x00`;
    const r26 = await probeOnce(raw(many), 1000);
    assert.equal(r26[0]?.p?.op, 'data', 'T26: 300 unknown options are ignored: plain DATA 1');
    if (r26[0]?.p?.op === 'data') assert.equal(r26[0].p.block, 1);
    const r26k = await probeOnce(raw(many.replace('octet\x00', 'octet\x00blksize\x001024\x00')), 1000);
    assert.equal(r26k[0]?.p?.op, 'oack', 'T26: the known option among them is answered');
    if (r26k[0]?.p?.op === 'oack') assert.deepEqual(r26k[0].p.options, [{ name: 'blksize', value: '1024' }]);
    const r27 = await probeOnce(raw('\x00\x01canary.bin\x00octet\x00blksize\x001024\x00tsize'), 1000);
    const p27 = r27[0]?.p;
    assert.equal(p27?.op, 'oack', 'T27 answered');
    if (p27?.op === 'oack') assert.deepEqual(p27.options, [{ name: 'blksize', value: '1024' }], 'T27: only bytes from the request');
    await waitIdle();
    await canary();
  });

  /** A lock-step download driven by hand; `onData` decides what to send for each DATA. */
  const manual = async (file: string, onData: (block: number, probe: Probe, from: RemoteInfo, count: number) => void, options: { name: string; value: string }[] = []): Promise<{ data: Buffer; dataPackets: number }> => {
    const probe = await new Probe().open();
    const chunks: Buffer[] = [];
    let expected = 1;
    let dataPackets = 0;
    const done = new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`${file}: transfer did not finish`)), 60_000);
      probe.sock.on('message', (msg, rinfo) => {
        const d = decodePacket(msg);
        if (!d.ok) return;
        if (d.packet.op === 'error') return reject(new Error(`${file}: ERROR ${d.packet.code} ${d.packet.message}`));
        if (d.packet.op === 'oack') return void probe.send(encodeAck(0), rinfo.port);
        if (d.packet.op !== 'data') return;
        dataPackets++;
        if (d.packet.block === (expected & 0xffff)) {
          chunks.push(Buffer.from(d.packet.data));
          expected++;
        }
        onData(d.packet.block, probe, rinfo, dataPackets);
        if (d.packet.block === ((expected - 1) & 0xffff) && d.packet.data.length < 512) {
          clearTimeout(t);
          resolve();
        }
      });
    });
    probe.send(encodeRequest('rrq', file, 'octet', options), port);
    try {
      await done;
    } finally {
      probe.close();
    }
    return { data: Buffer.concat(chunks), dataPackets };
  };

  test('T28: an ACK for a future block is ignored and the data stays correct', async () => {
    const r = await manual('canary.bin', (block, probe, from) => {
      if (block === 3) probe.send(encodeAck(50), from.port);
      probe.send(encodeAck(block), from.port);
    });
    assert.equal(sha256(r.data), fx.files.get('canary.bin'));
    await waitIdle();
  });

  test('T29: with every ACK doubled (and duplicate DATA re-ACKed) no DATA is sent twice (SAS)', async () => {
    const blocks = Math.floor(200_000 / 512) + 1;
    const r = await manual('canary.bin', (block, probe, from) => {
      probe.send(encodeAck(block), from.port);
      probe.send(encodeAck(block), from.port);
    });
    assert.equal(sha256(r.data), fx.files.get('canary.bin'));
    // Only timeouts may add packets on a loaded machine; duplicates never do.
    assert.ok(r.dataPackets <= blocks * 1.05, `${r.dataPackets} DATA for ${blocks} blocks`);
    await waitIdle();
  });

  test('T30: a stranger TID gets ERROR 5 and the transfer continues', async () => {
    const stranger = await new Probe().open();
    const r = await manual('canary.bin', (block, probe, from) => {
      if (block === 5) stranger.send(encodeAck(5), from.port);
      probe.send(encodeAck(block), from.port);
    });
    assert.equal(sha256(r.data), fx.files.get('canary.bin'));
    const got = await stranger.waitFor(1);
    stranger.close();
    assert.equal(got[0]?.p?.op, 'error');
    if (got[0]?.p?.op === 'error') assert.equal(got[0].p.code, 5);
    await waitIdle();
  });

  test('T31: a client silent after block 1 gets a bounded number of retransmissions, then the session is freed', async () => {
    const { probe, first } = await startRrq('canary.bin', [{ name: 'blksize', value: '1024' }]);
    probe.send(encodeAck(0), first.rinfo.port);
    await probe.waitFor(2);
    probe.send(encodeAck(1), first.rinfo.port);
    await waitIdle();
    const data = probe.got.filter((g) => g.p?.op === 'data');
    probe.close();
    const block2 = data.filter((g) => g.p?.op === 'data' && g.p.block === 2).length;
    assert.ok(block2 >= 2 && block2 <= 1 + server.limits.maxRetries, `block 2 sent ${block2} times`);
    assert.ok(events.some((e) => e.kind === 'transfer-fail' && e.detail.reason === 'timeout'));
  });

  test('T32, T33: a client ERROR ends the transfer and gets no answer; ERROR 8 after an OACK ends it quietly', async () => {
    const { probe, first } = await startRrq('large.bin');
    probe.send(encodeAck(1), first.rinfo.port);
    await probe.waitFor(2);
    probe.send(encodeError(0, 'client aborts'), first.rinfo.port);
    await waitIdle();
    const n = probe.got.length;
    await sleep(300);
    assert.equal(probe.got.length, n, 'nothing after the ERROR');
    assert.ok(probe.got.every((g) => g.p?.op !== 'error'), 'never an ERROR in reply to an ERROR');
    probe.close();

    const failsBefore = events.filter((e) => e.kind === 'transfer-fail').length;
    const edk2 = await startRrq('large.bin', [{ name: 'tsize', value: '0' }, { name: 'blksize', value: '1468' }, { name: 'windowsize', value: '4' }]);
    assert.equal(edk2.first.p?.op, 'oack');
    edk2.probe.send(encodeError(8, 'size probe'), edk2.first.rinfo.port);
    await waitIdle();
    await sleep(200);
    assert.equal(edk2.probe.got.length, 1, 'only the OACK');
    edk2.probe.close();
    assert.equal(events.filter((e) => e.kind === 'transfer-fail').length, failsBefore, 'ERROR 8 is not a failure');
  });

  test('T34: the same RRQ three times from one TID makes one transfer', async () => {
    const probe = await new Probe().open();
    const rrq = encodeRequest('rrq', 'canary.bin', 'octet', [{ name: 'blksize', value: '1024' }]);
    for (let i = 0; i < 3; i++) probe.send(rrq, port);
    await probe.waitFor(1);
    await sleep(300);
    const ports = new Set(probe.got.map((g) => g.rinfo.port));
    assert.equal(ports.size, 1, 'one transfer socket answered');
    probe.send(encodeError(0, 'done'), [...ports][0]!);
    probe.close();
    await waitIdle();
  });

  test('T35, T36: block numbers roll over; windowsize 4 with one ACK per window', async () => {
    const r = await tftpGet({ host: HOST, port, file: 'large.bin', options: [{ name: 'blksize', value: '16' }, { name: 'windowsize', value: '4' }], timeoutMs: 1000 });
    assert.equal(sha256(r.data), fx.files.get('large.bin'), '3 MB at blksize 16 is 187,500 blocks: two rollovers');
    assert.deepEqual(r.oack, [{ name: 'blksize', value: '16' }, { name: 'windowsize', value: '4' }]);
  });

  test('amplification: a client that never ACKs gets ≤ 30× the bytes it sent and a bounded number of packets', async () => {
    for (const opts of [[], [{ name: 'blksize', value: '1468' }, { name: 'tsize', value: '0' }]]) {
      const probe = await new Probe().open();
      const rrq = encodeRequest('rrq', 'canary.bin', 'octet', opts);
      probe.send(rrq, port);
      await probe.waitFor(1);
      await waitIdle();
      probe.close();
      const out = probe.got.reduce((n, g) => n + g.msg.length, 0);
      assert.ok(probe.got.length >= 1 && probe.got.length <= 1 + server.limits.maxRetries, `${probe.got.length} packets`);
      assert.ok(out <= 30 * rrq.length, `${out} octets out for ${rrq.length} in`);
    }
  });

  test('per-IP cap: stalled sessions from one address do not block another address', async () => {
    const probes: Probe[] = [];
    for (let i = 0; i < server.limits.maxSessionsPerIp; i++) {
      const p = await new Probe().open();
      p.send(encodeRequest('rrq', 'canary.bin', 'octet', [{ name: 'blksize', value: '1024' }]), port);
      probes.push(p);
    }
    for (const p of probes) await p.waitFor(1);
    const over = await expectError('one too many from 127.0.0.1', encodeRequest('rrq', 'canary.bin', 'octet'), [0, 3]);
    assert.match(over, /try again/i);
    const other = await tftpGet({ host: HOST, port, file: 'canary.bin', localAddress: '127.0.0.2', timeoutMs: 500 });
    assert.equal(sha256(other.data), fx.files.get('canary.bin'));
    for (const p of probes) p.close();
    await waitIdle();
    await canary();
  });
});
