// A lean TFTP client for tests and the benchmark: RRQ with options, lock-step or RFC 7440 windows,
// with retries. It is a test tool, not product code.
import dgram from 'node:dgram';
import { decodePacket, encodeAck, encodeError, encodeRequest } from '../../src/protocol/tftp/packets.ts';
import type { RequestOption } from '../../src/protocol/tftp/packets.ts';
import { xorshift } from './xorshift.ts';

export interface GetOptions {
  host: string;
  port: number;
  file: string;
  options?: RequestOption[];
  /** Per-packet timeout before the client re-ACKs / re-sends the RRQ (default 1000 ms). */
  timeoutMs?: number;
  /** Retries without progress before giving up (default 10). */
  retries?: number;
  /** Local address to send from. */
  localAddress?: string;
  /** Network faults injected in the client, for tests on kernels without tc netem. */
  faults?: Faults;
  /** Holds the ACK of this block back for `ms` milliseconds (a client that stalls once, then goes on). */
  pause?: { afterBlock: number; ms: number };
  /** Called once with the server's transfer address (its TID), when the first answer comes. */
  onPeer?: (peer: { address: string; port: number }) => void;
}

export interface Faults {
  /** Probability that a packet (either direction) is lost. */
  loss: number;
  /** Probability that a sent packet is sent twice. */
  duplicate: number;
  /** Probability that a packet (either direction) is delayed by delayMs, so later ones overtake it. */
  reorder: number;
  delayMs: number;
  /** Seed for the fault generator (default 1). */
  seed?: number;
}

export interface GetResult {
  data: Buffer;
  oack: RequestOption[] | undefined;
}

export class TftpClientError extends Error {
  readonly code: number;
  constructor(code: number, message: string) {
    super(`TFTP ERROR ${code}: ${message}`);
    this.code = code;
  }
}

export function tftpGet(o: GetOptions): Promise<GetResult> {
  const sock = dgram.createSocket('udp4');
  const options = o.options ?? [];
  const rrq = encodeRequest('rrq', o.file, 'octet', options);
  const timeoutMs = o.timeoutMs ?? 1000;
  const maxRetries = o.retries ?? 10;
  const blksizeOpt = options.find((x) => x.name === 'blksize');
  const windowOpt = options.find((x) => x.name === 'windowsize');
  let blksize = 512;
  let windowsize = 1;
  const chunks: Buffer[] = [];
  let expected = 1; // absolute block expected next
  let peer: { address: string; port: number } | undefined;
  let oack: RequestOption[] | undefined;
  let inWindow = 0;
  let retries = 0;
  let lastAck: Buffer = rrq;
  const f = o.faults;
  const rand = xorshift(f?.seed ?? 1);
  let closed = false;
  const rawSend = (buf: Buffer, port: number, address: string): void => {
    if (closed) return;
    if (f === undefined) return void sock.send(buf, port, address);
    if (rand() < f.loss) return;
    const copies = rand() < f.duplicate ? 2 : 1;
    const go = (): void => {
      if (!closed) for (let i = 0; i < copies; i++) sock.send(buf, port, address);
    };
    if (rand() < f.reorder) setTimeout(go, f.delayMs);
    else go();
  };
  return new Promise<GetResult>((resolve, reject) => {
    let timer: NodeJS.Timeout;
    const finish = (err?: Error): void => {
      if (closed) return;
      closed = true;
      clearTimeout(timer);
      setTimeout(() => sock.close(), f === undefined ? 0 : f.delayMs + 5);
      if (err) reject(err);
      else resolve({ data: Buffer.concat(chunks), oack });
    };
    const arm = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        if (++retries > maxRetries) return finish(new Error(`timeout fetching ${o.file}`));
        if (peer === undefined) rawSend(rrq, o.port, o.host);
        else rawSend(lastAck, peer.port, peer.address);
        arm();
      }, timeoutMs);
    };
    const ack = (block: number): void => {
      lastAck = encodeAck(block & 0xffff);
      rawSend(lastAck, peer!.port, peer!.address);
    };
    const onMessage = (msg: Buffer, rinfo: dgram.RemoteInfo): void => {
      if (closed) return;
      if (peer !== undefined && (rinfo.port !== peer.port || rinfo.address !== peer.address)) return;
      const d = decodePacket(msg);
      if (!d.ok) return;
      const p = d.packet;
      if (p.op === 'error') return finish(new TftpClientError(p.code, p.message));
      if (peer === undefined) {
        peer = { address: rinfo.address, port: rinfo.port };
        o.onPeer?.(peer);
      }
      if (p.op === 'oack') {
        if (oack !== undefined) return;
        oack = p.options;
        blksize = Number(p.options.find((x) => x.name === 'blksize')?.value ?? 512);
        windowsize = Number(p.options.find((x) => x.name === 'windowsize')?.value ?? 1);
        retries = 0;
        ack(0);
        arm();
        return;
      }
      if (p.op !== 'data') return;
      if (oack === undefined && (blksizeOpt !== undefined || windowOpt !== undefined) && expected === 1) oack = [];
      if (p.block === (expected & 0xffff)) {
        chunks.push(Buffer.from(p.data));
        retries = 0;
        inWindow++;
        const last = p.data.length < blksize;
        if (last || inWindow >= windowsize) {
          inWindow = 0;
          if (o.pause !== undefined && expected === o.pause.afterBlock && !last) {
            const block = expected;
            clearTimeout(timer);
            setTimeout(() => {
              if (closed) return;
              ack(block);
              arm();
            }, o.pause.ms);
            expected++;
            return;
          }
          ack(expected);
        }
        expected++;
        if (last) return finish();
        arm();
      } else if (windowsize === 1 && p.block === ((expected - 1) & 0xffff)) {
        // A repeated block: our ACK was probably lost; ACK it again, as most clients do.
        rawSend(lastAck, peer.port, peer.address);
      } else if (windowsize > 1) {
        // Out of order within a window: acknowledge the last block received in order (RFC 7440).
        const ahead = (p.block - (expected & 0xffff)) & 0xffff;
        if (ahead > 0 && ahead < 0x8000 && inWindow !== -1) {
          inWindow = 0;
          ack(expected - 1);
        }
      }
    };
    sock.on('message', (msg, rinfo) => {
      if (f === undefined) return onMessage(msg, rinfo);
      if (rand() < f.loss) return;
      if (rand() < f.reorder) setTimeout(() => onMessage(msg, rinfo), f.delayMs);
      else onMessage(msg, rinfo);
    });
    sock.on('error', (err) => finish(err));
    const start = (): void => {
      rawSend(rrq, o.port, o.host);
      arm();
    };
    if (o.localAddress !== undefined) sock.bind({ address: o.localAddress, port: 0 }, start);
    else start();
  });
}

/** Sends ERROR 0 to a peer, to end a transfer a test opened. */
export function errorPacket(): Buffer {
  return encodeError(0, 'test done');
}
