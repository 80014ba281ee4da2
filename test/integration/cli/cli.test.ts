import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBootherd } from '../../helpers/bootherd.ts';

const dir = mkdtempSync(join(tmpdir(), 'bh-cli-'));
const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };

test('--version prints the package version', () => {
  const r = runBootherd(['--version']);
  assert.equal(r.status, 0);
  assert.equal(r.stdout.trim(), pkg.version);
});

test('--help lists the commands', () => {
  const r = runBootherd(['--help']);
  assert.equal(r.status, 0);
  for (const cmd of ['serve', 'config', 'db']) assert.match(r.stdout, new RegExp(`\\b${cmd}\\b`));
});

test('bad usage: one line, a hint, exit code 2', () => {
  const r = runBootherd(['serv']);
  assert.equal(r.status, 2);
  const lines = r.stderr.trim().split('\n');
  assert.match(lines[0] ?? '', /^bootherd: unknown command 'serv'/);
  assert.match(lines[0] ?? '', /serve/);
  assert.match(lines[1] ?? '', /^hint: /);
});

test('config check on a bad file: one line per problem naming the file:line, the key and the fix; exit 2', () => {
  const p = join(dir, 'bad.yaml');
  writeFileSync(p, '# bootherd\ntftp:\n  prot: 69\n');
  const r = runBootherd(['config', 'check', p]);
  assert.equal(r.status, 2);
  assert.equal(r.stdout, '');
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1);
  assert.equal(lines[0], `bootherd: ${p}:3: tftp.prot: unknown key (fix: did you mean 'port'?)`);
});

test('config check on a good file says OK; --print shows the defaults filled in', () => {
  const p = join(dir, 'good.yaml');
  writeFileSync(p, 'interfaces:\n  - name: eth0\n');
  const r = runBootherd(['config', 'check', p]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), `${p}: OK`);
  const printed = runBootherd(['config', 'check', '--print', p]);
  const cfg = JSON.parse(printed.stdout) as { interfaces: { mode: string }[]; tftp: { port: number } };
  assert.equal(cfg.interfaces[0]?.mode, 'proxy');
  assert.equal(cfg.tftp.port, 69);
});

test('an environment override with a bad value is named and exits 2', () => {
  const p = join(dir, 'env.yaml');
  writeFileSync(p, 'tftp:\n  port: 69\n');
  const r = runBootherd(['config', 'check', p], { env: { BOOTHERD_TFTP_PORT: 'abc' } });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /env BOOTHERD_TFTP_PORT: tftp\.port: expected an integer/);
});

test('db migrate then db status on a fresh SQLite database; quiet when piped', () => {
  const state = join(dir, 'state');
  const env = { BOOTHERD_STATE_DIR: state };
  const before = runBootherd(['db', 'status'], { env });
  assert.equal(before.status, 0, before.stderr);
  assert.match(before.stdout, /pending: +\S/);
  const m = runBootherd(['db', 'migrate'], { env });
  assert.equal(m.status, 0, m.stderr);
  assert.match(m.stdout, /^applied \d+ migration/);
  assert.doesNotMatch(m.stderr, /\r|\[#/, 'no progress bar when stderr is not a terminal');
  const again = runBootherd(['db', 'migrate'], { env });
  assert.match(again.stdout, /up to date/);
  const after = runBootherd(['db', 'status', '--json'], { env });
  const s = JSON.parse(after.stdout) as { backend: string; current: number; latest: number; pending: string[] };
  assert.equal(s.backend, 'sqlite');
  assert.equal(s.current, s.latest);
  assert.deepEqual(s.pending, []);
});

test('an unreachable database is one line with a hint, exit 1', () => {
  const r = runBootherd(['db', 'status'], { env: { BOOTHERD_STATE_DIR: join(dir, 's2'), BOOTHERD_DATABASE_URL: 'mysql://x/y' } });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^bootherd: .*\[BH_STORE_URL\]\nhint: /);
});
