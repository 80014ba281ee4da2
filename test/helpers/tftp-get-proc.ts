// Runs tftpGet (tftp-client.ts) in its own process, so that a server in the test's process can
// block in its receive (the hot path's blocking wait and compiled loop) and still be answered.
// argv[2]: JSON { get: GetOptions without callbacks, strangers?: number }. With `strangers`, a
// second socket sends that many ACKs to the transfer's address, one per millisecond, while the
// transfer runs, and counts the ERROR 5 answers. Prints one JSON line: { sha256, length,
// strangerErrors } or { error }.
import { createHash } from 'node:crypto';
import dgram from 'node:dgram';
import { decodePacket, encodeAck } from '../../src/protocol/tftp/packets.ts';
import { tftpGet } from './tftp-client.ts';
import type { GetOptions } from './tftp-client.ts';

const { get, strangers = 0 } = JSON.parse(process.argv[2] ?? '{}') as { get: GetOptions; strangers?: number };
let strangerErrors = 0;
const stranger = strangers > 0 ? dgram.createSocket('udp4') : undefined;
stranger?.on('message', (msg) => {
  const d = decodePacket(msg);
  if (d.ok && d.packet.op === 'error' && d.packet.code === 5) strangerErrors++;
});
const onPeer = (peer: { address: string; port: number }): void => {
  if (stranger === undefined) return;
  let sent = 0;
  const timer = setInterval(() => {
    if (sent++ >= strangers) return clearInterval(timer);
    stranger.send(encodeAck(1), peer.port, peer.address);
  }, 1);
};
try {
  const r = await tftpGet({ ...get, onPeer });
  // Let the last stranger answers arrive.
  if (stranger !== undefined) await new Promise((res) => setTimeout(res, 100));
  process.stdout.write(JSON.stringify({ sha256: createHash('sha256').update(r.data).digest('hex'), length: r.data.length, strangerErrors }) + '\n');
} catch (err) {
  process.stdout.write(JSON.stringify({ error: (err as Error).message }) + '\n');
} finally {
  stranger?.close();
}
