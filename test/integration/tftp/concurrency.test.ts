// 200 concurrent clients each fetch a 4 MiB file from one bootherd process (in its own process,
// on loopback); every copy must be byte-identical. Clients: the lean test client (200 client
// processes would swamp two cores), 150 with windowsize 16 and 50 in lock-step.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { tftpGet } from '../../helpers/tftp-client.ts';
import { makeRoot, sha256 } from './fixtures.ts';
import type { Fixture } from './fixtures.ts';

const here = import.meta.dirname;

describe('200 concurrent transfers', { skip: process.getuid?.() === 0 ? false : 'needs root (CI runs as root)' }, () => {
  let fx: Fixture;
  let server: ChildProcess;
  let port = 0;
  before(async () => {
    fx = makeRoot({ extra: { 'four-mib.bin': 4 * 1024 * 1024 } });
    server = spawn(process.execPath, [join(here, '../../helpers/tftp-serve.ts'), fx.root, '127.0.0.1', '0', JSON.stringify({ maxSessionsPerIp: 256 })], { stdio: ['ignore', 'pipe', 'inherit'] });
    port = await new Promise<number>((resolve, reject) => {
      server.stdout!.on('data', (d: Buffer) => {
        const m = /ready (\d+)/.exec(d.toString());
        if (m) resolve(Number(m[1]));
      });
      server.once('exit', (code) => reject(new Error(`server exited (${code})`)));
    });
  });
  after(() => {
    if (server?.pid !== undefined && server.exitCode === null) process.kill(server.pid, 'SIGKILL');
    if (fx) rmSync(fx.dir, { recursive: true, force: true });
  });

  test('every client gets the exact file', async () => {
    const want = fx.files.get('four-mib.bin');
    const results = await Promise.allSettled(
      Array.from({ length: 200 }, (_, i) =>
        tftpGet({
          host: '127.0.0.1',
          port,
          file: 'four-mib.bin',
          options: i < 150 ? [{ name: 'blksize', value: '1468' }, { name: 'windowsize', value: '16' }] : [{ name: 'blksize', value: '1468' }],
          timeoutMs: 2000,
          retries: 15,
        }),
      ),
    );
    const failures = results.flatMap((r, i) => (r.status === 'rejected' ? [`client ${i}: ${String(r.reason)}`] : []));
    assert.deepEqual(failures, []);
    for (const r of results) if (r.status === 'fulfilled') assert.equal(sha256(r.value.data), want);
    const metrics = await new Promise<Record<string, unknown>>((resolve) => {
      let out = '';
      server.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const line = out.split('\n').find((l) => l.startsWith('{'));
        if (line !== undefined) resolve(JSON.parse(line));
      });
      server.kill('SIGTERM');
    });
    assert.equal(metrics.finished, 200);
    assert.equal(metrics.failed, 0);
  });
});
