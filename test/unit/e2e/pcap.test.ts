// The capture reader the e2e tests judge TFTP windows and DHCP answers with: a synthetic pcap of a
// windowed TFTP transfer, a lock-step one, and DHCP replies, built byte by byte here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dhcpMessages, tftpTransfers, udpDatagrams } from '../../e2e/lib/pcap.ts';

function ip(s: string): number[] {
  return s.split('.').map(Number);
}

function frame(src: string, sport: number, dst: string, dport: number, payload: Buffer): Buffer {
  const udp = Buffer.alloc(8);
  udp.writeUInt16BE(sport, 0);
  udp.writeUInt16BE(dport, 2);
  udp.writeUInt16BE(8 + payload.length, 4);
  const ipv4 = Buffer.alloc(20);
  ipv4[0] = 0x45;
  ipv4.writeUInt16BE(20 + 8 + payload.length, 2);
  ipv4[8] = 64;
  ipv4[9] = 17;
  Buffer.from(ip(src)).copy(ipv4, 12);
  Buffer.from(ip(dst)).copy(ipv4, 16);
  const eth = Buffer.alloc(14);
  eth.writeUInt16BE(0x0800, 12);
  return Buffer.concat([eth, ipv4, udp, payload]);
}

function pcap(frames: Buffer[]): Buffer {
  const head = Buffer.alloc(24);
  head.writeUInt32LE(0xa1b2c3d4, 0);
  head.writeUInt16LE(2, 4);
  head.writeUInt16LE(4, 6);
  head.writeUInt32LE(65535, 16);
  head.writeUInt32LE(1, 20);
  const recs = frames.map((f, i) => {
    const r = Buffer.alloc(16);
    r.writeUInt32LE(1000 + i, 0);
    r.writeUInt32LE(f.length, 8);
    r.writeUInt32LE(f.length, 12);
    return Buffer.concat([r, f]);
  });
  return Buffer.concat([head, ...recs]);
}

const tftp = {
  rrq: (file: string, opts: string[]) => Buffer.concat([Buffer.from([0, 1]), Buffer.from([file, 'octet', ...opts].join('\0') + '\0')]),
  oack: (opts: string[]) => Buffer.concat([Buffer.from([0, 6]), Buffer.from(opts.join('\0') + '\0')]),
  data: (block: number) => Buffer.from([0, 3, block >> 8, block & 0xff, 1, 2, 3]),
  ack: (block: number) => Buffer.from([0, 4, block >> 8, block & 0xff]),
  error: (code: number) => Buffer.from([0, 5, 0, code, 0x78, 0]),
};

const S = '198.18.40.1';
const C = '198.18.40.100';

test('a windowed transfer: options asked and acknowledged, and 4 blocks per ACK', () => {
  const frames = [
    frame(C, 1077, S, 69, tftp.rrq('grubx64.efi', ['blksize', '1468', 'windowsize', '4'])),
    frame(S, 40000, C, 1077, tftp.oack(['blksize', '1468', 'windowsize', '4'])),
    frame(C, 1077, S, 40000, tftp.ack(0)),
    ...[1, 2, 3, 4].map((b) => frame(S, 40000, C, 1077, tftp.data(b))),
    frame(C, 1077, S, 40000, tftp.ack(4)),
    ...[5, 6].map((b) => frame(S, 40000, C, 1077, tftp.data(b))),
    frame(C, 1077, S, 40000, tftp.ack(6)),
    // A lock-step transfer and a missing file from another client port.
    frame(C, 1078, S, 69, tftp.rrq('vmlinuz', ['blksize', '1024'])),
    frame(S, 40001, C, 1078, tftp.data(1)),
    frame(C, 1078, S, 40001, tftp.ack(1)),
    frame(S, 40001, C, 1078, tftp.data(2)),
    frame(C, 1078, S, 40001, tftp.ack(2)),
    frame(C, 1079, S, 69, tftp.rrq('command.lst', [])),
    frame(S, 40002, C, 1079, tftp.error(1)),
  ];
  const t = tftpTransfers(udpDatagrams(pcap(frames)), S);
  assert.deepEqual(
    t.map((x) => ({ file: x.file, requested: x.requested, acknowledged: x.acknowledged, dataBlocks: x.dataBlocks, maxBurst: x.maxBurst, error: x.error, seconds: x.end - x.start })),
    [
      { file: 'grubx64.efi', requested: { blksize: '1468', windowsize: '4' }, acknowledged: { blksize: '1468', windowsize: '4' }, dataBlocks: 6, maxBurst: 4, error: undefined, seconds: 10 },
      { file: 'vmlinuz', requested: { blksize: '1024' }, acknowledged: undefined, dataBlocks: 2, maxBurst: 1, error: undefined, seconds: 4 },
      { file: 'command.lst', requested: {}, acknowledged: undefined, dataBlocks: 0, maxBurst: 0, error: 1, seconds: 1 },
    ],
  );
});

test('another server\'s TFTP is not counted as the lab server\'s', () => {
  const other = '198.18.40.2';
  const frames = [frame(C, 1077, other, 69, tftp.rrq('x', [])), frame(other, 40000, C, 1077, tftp.data(1))];
  assert.deepEqual(tftpTransfers(udpDatagrams(pcap(frames)), S), []);
});

test('DHCP messages: who answered which MAC, with which address and boot file', () => {
  const dhcp = (op: number, mac: string, yiaddr: string, type: number, file?: string): Buffer => {
    const b = Buffer.alloc(240);
    b[0] = op;
    b[1] = 1;
    b[2] = 6;
    Buffer.from(mac.split(':').map((h) => parseInt(h, 16))).copy(b, 28);
    Buffer.from(ip(yiaddr)).copy(b, 16);
    b.writeUInt32BE(0x63825363, 236);
    const opts = [53, 1, type, ...(file ? [67, file.length, ...Buffer.from(file)] : []), 255];
    return Buffer.concat([b, Buffer.from(opts)]);
  };
  const m = '52:54:00:e2:74:01';
  const frames = [
    frame('0.0.0.0', 68, '255.255.255.255', 67, dhcp(1, m, '0.0.0.0', 1)),
    frame('198.18.40.2', 67, '255.255.255.255', 68, dhcp(2, m, '198.18.40.149', 2)),
    frame(S, 67, '255.255.255.255', 68, dhcp(2, m, '0.0.0.0', 2, 'snponly.efi')),
    frame(C, 5353, S, 69, Buffer.from('not dhcp')),
  ];
  const seen = dhcpMessages(udpDatagrams(pcap(frames)));
  assert.deepEqual(
    seen.map((x) => [x.op, x.src, x.mac, x.yiaddr, x.type, x.bootfile]),
    [
      [1, '0.0.0.0', m, '0.0.0.0', 1, undefined],
      [2, '198.18.40.2', m, '198.18.40.149', 2, undefined],
      [2, S, m, '0.0.0.0', 2, 'snponly.efi'],
    ],
  );
});

test('a file that is not a pcap is refused', () => {
  assert.throws(() => udpDatagrams(Buffer.alloc(64, 1)), /not a pcap/);
});

test('a window sent with UDP GSO, captured before segmentation as one datagram, counts as its blocks', () => {
  const seg = (block: number, size: number) => Buffer.concat([Buffer.from([0, 3, block >> 8, block & 0xff]), Buffer.alloc(size, block)]);
  const frames = [
    frame(C, 1077, S, 69, tftp.rrq('grubx64.efi', ['blksize', '1468', 'windowsize', '4'])),
    frame(S, 40000, C, 1077, tftp.oack(['blksize', '1468', 'windowsize', '4'])),
    frame(C, 1077, S, 40000, tftp.ack(0)),
    frame(S, 40000, C, 1077, Buffer.concat([1, 2, 3, 4].map((b) => seg(b, 1468)))),
    frame(C, 1077, S, 40000, tftp.ack(4)),
    // The last window: two full segments and a short last block.
    frame(S, 40000, C, 1077, Buffer.concat([seg(5, 1468), seg(6, 1468), seg(7, 100)])),
    frame(C, 1077, S, 40000, tftp.ack(7)),
  ];
  const [t] = tftpTransfers(udpDatagrams(pcap(frames)), S);
  assert.equal(t?.dataBlocks, 7);
  assert.equal(t?.maxBurst, 4);
});
