// Real clients (tftp-hpa, atftp with windowsize, curl --tftp-blksize, busybox) against bootherd on
// loopback: edge sizes, block-number rollover and a 32 MiB file; every SHA-256 must match.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { EventBus } from '../../../src/events/bus.ts';
import type { BootEvent } from '../../../src/events/bus.ts';
import { FileResolver } from '../../../src/files/resolver.ts';
import { silentLogger } from '../../../src/log/logger.ts';
import { TftpServer } from '../../../src/tftp/server.ts';
import { CLIENT_PACKAGES, clientCommand, fileSha, makeRoot, requireTool, run } from './fixtures.ts';
import type { ClientName, Fixture } from './fixtures.ts';

const root = process.getuid?.() === 0;

describe('real TFTP clients on loopback', { skip: root ? false : 'needs root (CI runs as root)' }, () => {
  let fx: Fixture;
  let server: TftpServer;
  const events: BootEvent[] = [];
  before(async () => {
    for (const [bin, pkg] of Object.values(CLIENT_PACKAGES)) requireTool(bin, pkg);
    fx = makeRoot({ large: true });
    const bus = new EventBus();
    bus.subscribe((e) => events.push(e));
    server = new TftpServer({ logger: silentLogger(), events: bus, resolver: new FileResolver({ root: fx.root }) });
    await server.start({ address: '127.0.0.1', port: 0 });
  });
  after(async () => {
    await server?.stop();
    if (fx) rmSync(fx.dir, { recursive: true, force: true });
  });

  const get = async (client: ClientName, file: string, opt: { blksize?: number; windowsize?: number } = {}): Promise<void> => {
    const out = join(fx.dir, `${client}-${file}-${opt.blksize ?? 0}-${opt.windowsize ?? 0}.out`);
    const [cmd, args] = clientCommand(client, '127.0.0.1', server.port, file, out, opt);
    await run(cmd, args, { timeout: 180_000 });
    assert.equal(fileSha(out), fx.files.get(file), `${client} ${file} ${JSON.stringify(opt)}: SHA-256`);
    rmSync(out, { force: true });
  };

  for (const client of ['tftp-hpa', 'atftp', 'curl', 'busybox'] as const) {
    test(`${client}: files of 0, 511, 512 and 513 octets`, async () => {
      for (const f of ['empty.bin', 's511.bin', 's512.bin', 's513.bin']) await get(client, f);
    });
    test(`${client}: a file longer than 65535 × 512 octets (block numbers roll over)`, async () => {
      await get(client, 'rollover.bin');
    });
  }

  test('a 32 MiB file with every client and its largest options', async () => {
    await get('tftp-hpa', 'big32.bin');
    await get('atftp', 'big32.bin', { blksize: 1468, windowsize: 16 });
    await get('curl', 'big32.bin', { blksize: 1468 });
    await get('busybox', 'big32.bin', { blksize: 1468 });
  });

  test('atftp with windowsize 4 and small blocks gets edge sizes right', async () => {
    for (const f of ['empty.bin', 's511.bin', 's512.bin', 's513.bin']) await get('atftp', f, { blksize: 512, windowsize: 4 });
  });

  test('each transfer emitted start and finish events with file, size, blksize, windowsize and timing', async () => {
    // The last ACK may still be on its way when a client exits.
    for (let i = 0; i < 100 && server.activeSessions > 0; i++) await new Promise((r) => setTimeout(r, 50));
    const finished = events.filter((e) => e.kind === 'transfer-finish' && e.detail.file === 'big32.bin' && e.detail.windowsize === 16);
    assert.equal(finished.length, 1);
    const d = finished[0]!.detail;
    assert.equal(d.size, 32 * 1024 * 1024);
    assert.equal(d.blksize, 1468);
    assert.equal(typeof d.durationMs, 'number');
    assert.equal(typeof d.retransmits, 'number');
    assert.ok((d.throughputBps as number) > 0);
    const starts = events.filter((e) => e.kind === 'transfer-start').length;
    const ends = events.filter((e) => e.kind === 'transfer-finish' || e.kind === 'transfer-fail').length;
    assert.equal(starts, ends);
  });
});
