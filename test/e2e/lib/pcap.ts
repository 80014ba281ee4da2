// Reads what a boot run's capture shows: the UDP datagrams of a classic pcap file (Ethernet,
// IPv4), and from them the TFTP transfers (options acknowledged, data blocks sent per ACK) and the
// DHCP replies. Pure over the bytes: the caller reads the file.

export interface UdpDatagram {
  time: number;
  src: string;
  sport: number;
  dst: string;
  dport: number;
  payload: Buffer;
}

function ipv4(b: Buffer, at: number): string {
  return `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;
}

/** The IPv4/UDP datagrams of a pcap (microsecond or nanosecond, either byte order, Ethernet link). */
export function udpDatagrams(file: Buffer): UdpDatagram[] {
  if (file.length < 24) return [];
  const magic = file.readUInt32LE(0);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  if (!le && file.readUInt32BE(0) !== 0xa1b2c3d4 && file.readUInt32BE(0) !== 0xa1b23c4d) throw new Error('not a pcap file');
  const nano = (le ? magic : file.readUInt32BE(0)) === 0xa1b23c4d;
  const u32 = (at: number): number => (le ? file.readUInt32LE(at) : file.readUInt32BE(at));
  if (u32(20) !== 1) throw new Error(`pcap link type ${u32(20)} is not Ethernet`);
  const out: UdpDatagram[] = [];
  let at = 24;
  while (at + 16 <= file.length) {
    const time = u32(at) + u32(at + 4) / (nano ? 1e9 : 1e6);
    const caplen = u32(at + 8);
    const frame = file.subarray(at + 16, at + 16 + caplen);
    at += 16 + caplen;
    if (frame.length < 14 + 20 + 8) continue;
    let eth = 14;
    let type = frame.readUInt16BE(12);
    if (type === 0x8100) {
      type = frame.readUInt16BE(16);
      eth = 18;
    }
    if (type !== 0x0800) continue;
    const ihl = (frame[eth]! & 0x0f) * 4;
    if (frame[eth + 9] !== 17) continue;
    const fragment = frame.readUInt16BE(eth + 6) & 0x1fff;
    if (fragment !== 0) continue;
    const udp = eth + ihl;
    if (udp + 8 > frame.length) continue;
    const len = frame.readUInt16BE(udp + 4);
    out.push({
      time,
      src: ipv4(frame, eth + 12),
      dst: ipv4(frame, eth + 16),
      sport: frame.readUInt16BE(udp),
      dport: frame.readUInt16BE(udp + 2),
      payload: frame.subarray(udp + 8, Math.min(frame.length, udp + len)),
    });
  }
  return out;
}

export interface TftpTransfer {
  file: string;
  client: string;
  /** Options the client asked for in its RRQ. */
  requested: Record<string, string>;
  /** Options the server acknowledged (OACK), if any. */
  acknowledged: Record<string, string> | undefined;
  dataBlocks: number;
  /** The largest number of DATA packets the server sent between two ACKs from the client. */
  maxBurst: number;
  /** ERROR code the server sent, if any. */
  error: number | undefined;
  /** Capture time of the RRQ and of the last packet of the session, in seconds. */
  start: number;
  end: number;
}

function cstrings(b: Buffer): string[] {
  return b.toString('latin1').split('\0');
}

function options(parts: string[]): Record<string, string> {
  const o: Record<string, string> = {};
  for (let i = 0; i + 1 < parts.length; i += 2) if (parts[i] !== '') o[parts[i]!.toLowerCase()] = parts[i + 1]!;
  return o;
}

/** The TFTP read transfers in the capture: RRQs to `serverIp`:69 and the session that answered each. */
export function tftpTransfers(datagrams: readonly UdpDatagram[], serverIp: string): TftpTransfer[] {
  const transfers: TftpTransfer[] = [];
  const byClient = new Map<string, TftpTransfer>(); // client ip:port → transfer
  const burst = new Map<TftpTransfer, number>();
  for (const d of datagrams) {
    if (d.payload.length < 2) continue;
    const op = d.payload.readUInt16BE(0);
    if (d.dst === serverIp && d.dport === 69 && op === 1) {
      const parts = cstrings(d.payload.subarray(2));
      const t: TftpTransfer = { file: parts[0] ?? '', client: `${d.src}:${d.sport}`, requested: options(parts.slice(2)), acknowledged: undefined, dataBlocks: 0, maxBurst: 0, error: undefined, start: d.time, end: d.time };
      transfers.push(t);
      byClient.set(t.client, t);
      continue;
    }
    if (d.src === serverIp && d.sport !== 69) {
      const t = byClient.get(`${d.dst}:${d.dport}`);
      if (t === undefined) continue;
      t.end = d.time;
      if (op === 6) t.acknowledged = options(cstrings(d.payload.subarray(2)));
      else if (op === 3) {
        // bootherd sends a window with UDP GSO: captured on the bridge (before the segmentation
        // that happens on the way to the client), the window is one datagram of back-to-back
        // [DATA header | blksize octets] segments. Count the segments, not the datagram.
        const seg = 4 + Number(t.acknowledged?.['blksize'] ?? 512);
        const blocks = Math.max(1, Math.ceil(d.payload.length / seg));
        t.dataBlocks += blocks;
        const n = (burst.get(t) ?? 0) + blocks;
        burst.set(t, n);
        t.maxBurst = Math.max(t.maxBurst, n);
      } else if (op === 5) t.error = d.payload.readUInt16BE(2);
    } else if (d.dst === serverIp) {
      const t = byClient.get(`${d.src}:${d.sport}`);
      if (t === undefined) continue;
      t.end = d.time;
      if (op === 4) burst.set(t, 0);
    }
  }
  return transfers;
}

export interface DhcpSeen {
  time: number;
  /** 1 = from a client (BOOTREQUEST), 2 = from a server (BOOTREPLY). */
  op: number;
  src: string;
  sport: number;
  dport: number;
  /** Client hardware address, lower case with colons. */
  mac: string;
  yiaddr: string;
  /** Option 53 (1 DISCOVER, 2 OFFER, 3 REQUEST, 5 ACK, 6 NAK). */
  type: number | undefined;
  /** The boot file (option 67, else the `file` field), if any. */
  bootfile: string | undefined;
}

/** The DHCP/BOOTP messages (ports 67, 68, 4011) in the capture, for who-answered-whom checks. */
export function dhcpMessages(datagrams: readonly UdpDatagram[]): DhcpSeen[] {
  const out: DhcpSeen[] = [];
  for (const d of datagrams) {
    const ports = [67, 68, 4011];
    if (!ports.includes(d.sport) || !ports.includes(d.dport)) continue;
    const p = d.payload;
    if (p.length < 240 || p.readUInt32BE(236) !== 0x63825363) continue;
    const mac = [...p.subarray(28, 34)].map((b) => b.toString(16).padStart(2, '0')).join(':');
    let type: number | undefined;
    let opt67: string | undefined;
    for (let i = 240; i < p.length; ) {
      const code = p[i]!;
      if (code === 255) break;
      if (code === 0) {
        i++;
        continue;
      }
      const len = p[i + 1] ?? 0;
      const val = p.subarray(i + 2, i + 2 + len);
      if (code === 53) type = val[0];
      if (code === 67) opt67 = val.toString('latin1').replace(/\0+$/, '');
      i += 2 + len;
    }
    const file = p.subarray(108, 236).toString('latin1').replace(/\0.*$/s, '');
    out.push({ time: d.time, op: p[0]!, src: d.src, sport: d.sport, dport: d.dport, mac, yiaddr: ipv4(p, 16), type, bootfile: opt67 ?? (file === '' ? undefined : file) });
  }
  return out;
}
