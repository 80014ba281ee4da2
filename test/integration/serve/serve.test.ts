// `bootherd serve` as an operator runs it: started as root inside a network namespace with
// `user: nobody`, it gets ready, runs as nobody (checked in /proc), and stops cleanly on SIGTERM.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NetLab, canUseNetns } from '../../helpers/netns.ts';
import { Daemon } from '../../helpers/daemon.ts';
import { loadNativeLoop, NATIVE_MODULE_PATH } from '../../../src/tftp/native.ts';

const root = canUseNetns();
let lab: NetLab;
let ns = '';
let client = '';
let dir = '';

before(() => {
  if (!root) return;
  lab = new NetLab();
  ns = lab.ns('srv');
  client = lab.ns('cli');
  lab.veth({ ns, ifname: 'lan0', addr: '198.18.10.1/24' }, { ns: client, ifname: 'eth0', addr: '198.18.10.2/24' });
  dir = mkdtempSync(join(tmpdir(), 'bh-serve-'));
  chmodSync(dir, 0o755); // nobody must be able to reach its state dir inside
});
after(() => lab?.destroySync());

function ids(pid: number, field: 'Uid' | 'Gid' | 'Groups'): number[] {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = new RegExp(`^${field}:\\s*(.*)$`, 'm').exec(status);
  return (m?.[1] ?? '').trim().split(/\s+/).filter(Boolean).map(Number);
}

test('started as root with user: nobody, bootherd gets ready, runs as nobody, and stops cleanly on SIGTERM', { skip: root ? false : 'needs root for network namespaces' }, async (t) => {
  const [, , uid, gid] = execFileSync('getent', ['passwd', 'nobody'], { encoding: 'utf8' }).trim().split(':').map((x) => x);
  const state = join(dir, 'state');
  const boot = join(dir, 'boot');
  mkdirSync(boot);
  writeFileSync(join(boot, 'hello.txt'), 'served after the drop\n');
  const cfg = join(dir, 'bootherd.yaml');
  writeFileSync(cfg, `state_dir: ${state}\nboot_root: ${boot}\nuser: nobody\nshutdown_grace: 5\ntftp:\n  address: 198.18.10.1\nhttp:\n  address: 198.18.10.1\n`);
  const d = new Daemon(['serve', '--config', cfg], { lab, ns });
  t.after(() => d.stop('SIGKILL'));
  const ready = await d.ready();
  assert.equal(ready.msg, 'bootherd ready');
  assert.equal(ready['uid'], Number(uid));

  // The kernel's view, not the log's.
  assert.deepEqual(ids(d.pid, 'Uid'), [Number(uid), Number(uid), Number(uid), Number(uid)]);
  assert.deepEqual(ids(d.pid, 'Gid'), [Number(gid), Number(gid), Number(gid), Number(gid)]);
  assert.ok(!ids(d.pid, 'Groups').includes(0), 'no supplementary group root');
  const capEff = /^CapEff:\s*(\w+)$/m.exec(readFileSync(`/proc/${d.pid}/status`, 'utf8'))?.[1];
  assert.equal(BigInt(`0x${capEff ?? 'f'}`), 0n, 'no capabilities left');

  // Port 69 was bound as root and is served as nobody: a client on the link fetches a file.
  // The ready line also says which path runs lock-step rounds: the compiled loop wherever npm ci could build it.
  assert.deepEqual((ready['services'] as Record<string, unknown>)['tftp'], { address: '198.18.10.1', port: 69, root: boot, lockstep: existsSync(NATIVE_MODULE_PATH) ? 'compiled' : 'javascript', batchSend: loadNativeLoop()?.batchRing?.() === true ? 'io_uring' : 'sendmsg' });
  assert.equal(lab.exec(client, 'curl', ['-sS', '--max-time', '20', 'tftp://198.18.10.1/hello.txt']), 'served after the drop\n');

  // The state it created belongs to nobody.
  assert.equal(statSync(state).uid, Number(uid));
  assert.ok(existsSync(join(state, 'bootherd.db')));
  assert.equal(statSync(join(state, 'bootherd.db')).uid, Number(uid));

  const exit = await d.stop('SIGTERM');
  assert.deepEqual(exit, { code: 0, signal: null });
  const msgs = d.lines.map((l) => l.msg);
  assert.ok(msgs.includes('stopping'), msgs.join(' | '));
  assert.equal(msgs[msgs.length - 1], 'stopped');
  assert.equal(d.stderr.join(''), '');
});

test('SIGINT stops it cleanly too, and a restart finds the database already migrated', { skip: root ? false : 'needs root for network namespaces' }, async (t) => {
  const state = join(dir, 'state2');
  const cfg = join(dir, 'b2.yaml');
  writeFileSync(cfg, `state_dir: ${state}\nuser: nobody\ntftp:\n  address: 198.18.10.1\nhttp:\n  address: 198.18.10.1\n`);
  const first = new Daemon(['serve', '--config', cfg], { lab, ns });
  t.after(() => first.stop('SIGKILL'));
  await first.ready();
  assert.ok(first.lines.some((l) => l.msg === 'database migrated'));
  assert.deepEqual(await first.stop('SIGINT'), { code: 0, signal: null });
  const second = new Daemon(['serve', '--config', cfg], { lab, ns });
  t.after(() => second.stop('SIGKILL'));
  await second.ready();
  assert.ok(!second.lines.some((l) => l.msg === 'database migrated'), 'nothing left to migrate');
  assert.deepEqual(await second.stop('SIGTERM'), { code: 0, signal: null });
});

test('a bad config stops serve before it binds anything: exit 2 and one line per problem', { skip: root ? false : 'needs root for network namespaces' }, async (t) => {
  const cfg = join(dir, 'bad.yaml');
  writeFileSync(cfg, 'user: nobody\ntftp:\n  port: 0\n');
  const d = new Daemon(['serve', '--config', cfg], { lab, ns });
  t.after(() => d.stop('SIGKILL'));
  const exit = await d.exited;
  assert.equal(exit.code, 2);
  assert.equal(d.stderr.join('').trim(), `bootherd: ${cfg}:3: tftp.port: 0 is too small (fix: use a value from 1 to 65535)`);
});

test('as root with no user: configured it still drops root (to nobody here), taking over a database a root run created', { skip: root ? false : 'needs root for network namespaces' }, async (t) => {
  const nobody = Number(execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).trim());
  const state = join(dir, 'state3');
  const base = `state_dir: ${state}\ntftp:\n  address: 198.18.10.1\nhttp:\n  address: 198.18.10.1\n`;
  const asRoot = join(dir, 'b3-root.yaml');
  writeFileSync(asRoot, `${base}user: root\n`);
  const first = new Daemon(['serve', '--config', asRoot], { lab, ns });
  t.after(() => first.stop('SIGKILL'));
  assert.equal((await first.ready())['uid'], 0);
  assert.ok(first.lines.some((l) => /user: root/.test(l.msg)), 'staying root is warned about');
  await first.stop();
  assert.equal(statSync(join(state, 'bootherd.db')).uid, 0);

  const plain = join(dir, 'b3.yaml');
  writeFileSync(plain, base);
  const second = new Daemon(['serve', '--config', plain], { lab, ns });
  t.after(() => second.stop('SIGKILL'));
  await second.ready();
  assert.deepEqual(ids(second.pid, 'Uid'), [nobody, nobody, nobody, nobody]);
  assert.equal(statSync(join(state, 'bootherd.db')).uid, nobody);
  assert.deepEqual(await second.stop(), { code: 0, signal: null });
});
