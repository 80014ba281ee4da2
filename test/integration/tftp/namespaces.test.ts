// bootherd's TFTP server inside a network namespace, real clients in another one over a veth:
// plain transfers, a broadcast RRQ (T37), and transfers over a lossy, duplicating, reordering
// link (tc netem). Addresses in 198.18.0.0/15 only; no link to the root namespace.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { canUseNetns, NetLab } from '../../helpers/netns.ts';
import { CLIENT_PACKAGES, clientCommand, fileSha, makeRoot, requireTool } from './fixtures.ts';
import type { ClientName, Fixture } from './fixtures.ts';

const SRV = '198.18.0.1';
const here = import.meta.dirname;

describe('TFTP in network namespaces', { skip: canUseNetns() ? false : 'needs root to create network namespaces' }, () => {
  let lab: NetLab;
  let fx: Fixture;
  let srv: string;
  let cli: string;
  let server: ChildProcess;
  before(async () => {
    for (const [bin, pkg] of [...Object.values(CLIENT_PACKAGES), ['tc', 'iproute2']] as [string, string][]) requireTool(bin, pkg);
    fx = makeRoot({ extra: { 'two-mib.bin': 2 * 1024 * 1024, 'lossy.bin': 300_000 } });
    lab = new NetLab();
    srv = lab.ns('srv');
    cli = lab.ns('cli');
    lab.veth({ ns: srv, ifname: 'srv0', addr: `${SRV}/24` }, { ns: cli, ifname: 'cli0', addr: '198.18.0.10/24' });
    server = lab.spawn(srv, process.execPath, [join(here, '../../helpers/tftp-serve.ts'), fx.root, SRV, '69']);
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('the TFTP server did not start in the namespace')), 30_000);
      server.stdout!.on('data', (d: Buffer) => {
        if (d.toString().includes('ready')) {
          clearTimeout(t);
          resolve();
        }
      });
      server.once('exit', (code) => reject(new Error(`the TFTP server exited (${code})`)));
    });
  });
  after(async () => {
    await lab?.destroy();
    if (fx) rmSync(fx.dir, { recursive: true, force: true });
  });

  const get = (client: ClientName, file: string, opt: { blksize?: number; windowsize?: number } = {}): void => {
    const out = join(fx.dir, `${client}-${file}.out`);
    const [cmd, args] = clientCommand(client, SRV, 69, file, out, opt);
    lab.exec(cli, cmd, args, { timeoutMs: 180_000 });
    assert.equal(fileSha(out), fx.files.get(file), `${client} ${file}: SHA-256`);
    rmSync(out, { force: true });
  };

  test('every real client fetches edge sizes and a 2 MiB file across the veth (blksize clamped to the 1500 MTU)', () => {
    for (const c of ['tftp-hpa', 'atftp', 'curl', 'busybox'] as const) {
      for (const f of ['empty.bin', 's512.bin', 's513.bin']) get(c, f);
      get(c, 'two-mib.bin', c === 'atftp' ? { blksize: 8192, windowsize: 8 } : c === 'tftp-hpa' ? {} : { blksize: 8192 });
    }
  });

  test('T37: an RRQ to the subnet broadcast address gets no answer', () => {
    const script = `
      import dgram from 'node:dgram';
      const s = dgram.createSocket('udp4');
      let n = 0;
      s.on('message', () => n++);
      s.bind(0, () => {
        s.setBroadcast(true);
        s.send(Buffer.from('\\x00\\x01s513.bin\\x00octet\\x00', 'latin1'), 69, '198.18.0.255');
        setTimeout(() => { console.log(n); s.close(); }, 1500);
      });`;
    const out = lab.exec(cli, process.execPath, ['--input-type=module', '-e', script]);
    assert.equal(out.trim(), '0');
  });

  test('over 5 % loss, duplication and reordering every client still gets the right bytes', (t) => {
    try {
      for (const [ns, dev] of [[cli, 'cli0'], [srv, 'srv0']] as const) {
        lab.exec(ns, 'tc', ['qdisc', 'add', 'dev', dev, 'root', 'netem', 'loss', '5%', 'delay', '10ms', 'duplicate', '2%', 'reorder', '10%']);
      }
    } catch (err) {
      // A kernel feature, not a package: some VM kernels are built without sch_netem. The same
      // faults are injected in userspace by impaired.test.ts, which always runs.
      if (/qdisc kind is unknown/.test(String((err as { stderr?: string }).stderr ?? err))) return t.skip('this kernel has no sch_netem (tc netem)');
      throw err;
    }
    get('tftp-hpa', 'lossy.bin');
    get('atftp', 'lossy.bin', { blksize: 1468, windowsize: 8 });
    get('curl', 'lossy.bin', { blksize: 1468 });
    get('busybox', 'lossy.bin', { blksize: 1468 });
  });
});
