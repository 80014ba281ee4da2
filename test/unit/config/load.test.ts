import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { envKeys, loadConfig } from '../../../src/config/load.ts';
import { ConfigError } from '../../../src/errors.ts';
import { loadServerConfig } from '../../../src/cli/config.ts';

const dir = mkdtempSync(join(tmpdir(), 'bh-config-'));
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}
function problems(fn: () => unknown): ConfigError['problems'] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  assert.fail('expected a ConfigError');
}

test('no file at all: defaults as root', () => {
  const c = loadConfig({ env: {}, uid: 0 });
  assert.equal(c.state_dir, '/var/lib/bootherd');
  assert.equal(c.boot_root, '/var/lib/bootherd/boot');
  assert.equal(c.database.url, 'sqlite:/var/lib/bootherd/bootherd.db');
  assert.equal(c.tftp.port, 69);
  assert.equal(c.http.port, 8080);
  assert.deepEqual(c.interfaces, []);
  assert.equal(c.source, 'built-in defaults');
});

test('defaults as an ordinary user live under XDG_STATE_HOME', () => {
  const c = loadConfig({ env: { XDG_STATE_HOME: '/home/u/.local/state' }, uid: 1000 });
  assert.equal(c.state_dir, '/home/u/.local/state/bootherd');
  assert.equal(c.database.url, 'sqlite:/home/u/.local/state/bootherd/bootherd.db');
});

test('--interface needs no file and defaults to proxy mode', () => {
  const c = loadConfig({ env: {}, interfaces: ['eth0', 'eth1:full'] });
  assert.deepEqual(c.interfaces, [
    { name: 'eth0', mode: 'proxy' },
    { name: 'eth1', mode: 'full' },
  ]);
});

test('a valid file is read, and computed defaults follow state_dir', () => {
  const p = file('ok.yaml', 'state_dir: /srv/bh\ntftp:\n  port: 6969\ninterfaces:\n  - name: eth0\n    mode: full\n');
  const c = loadConfig({ file: p, env: {} });
  assert.equal(c.tftp.port, 6969);
  assert.equal(c.tftp.enabled, true);
  assert.equal(c.boot_root, '/srv/bh/boot');
  assert.equal(c.database.url, 'sqlite:/srv/bh/bootherd.db');
  assert.equal(c.interfaces[0]?.mode, 'full');
});

test('an unknown key names its line and suggests the right key', () => {
  const p = file('typo.yaml', 'log:\n  level: info\ntftp:\n  enabled: true\n  prot: 69\n');
  const [only, ...rest] = problems(() => loadConfig({ file: p, env: {} }));
  assert.equal(rest.length, 0);
  assert.equal(only?.source, p);
  assert.equal(only?.line, 5);
  assert.equal(only?.key, 'tftp.prot');
  assert.match(only?.fix ?? '', /did you mean 'port'/);
});

test('wrong types, out-of-range numbers and bad choices each get a line and a fix', () => {
  const p = file('bad.yaml', 'tftp:\n  port: 70000\nhttp:\n  port: eighty\ninterfaces:\n  - name: eth0\n    mode: fulll\n');
  const ps = problems(() => loadConfig({ file: p, env: {} }));
  const byKey = new Map(ps.map((x) => [x.key, x]));
  assert.equal(byKey.get('tftp.port')?.line, 2);
  assert.match(byKey.get('tftp.port')?.fix ?? '', /65535/);
  assert.equal(byKey.get('http.port')?.line, 4);
  assert.match(byKey.get('http.port')?.message ?? '', /integer/);
  assert.equal(byKey.get('interfaces[0].mode')?.line, 7);
  assert.match(byKey.get('interfaces[0].mode')?.fix ?? '', /proxy, full/);
});

test('a missing required key in a list item is reported at the item', () => {
  const p = file('noname.yaml', 'interfaces:\n  - mode: full\n');
  const [pr] = problems(() => loadConfig({ file: p, env: {} }));
  assert.equal(pr?.key, 'interfaces[0].name');
  assert.equal(pr?.line, 2);
  assert.match(pr?.fix ?? '', /add it/);
});

test('YAML syntax errors and duplicate keys name the line', () => {
  const p = file('dup.yaml', 'tftp:\n  port: 69\n  port: 70\n');
  const [pr] = problems(() => loadConfig({ file: p, env: {} }));
  assert.equal(pr?.line, 3);
  assert.match(pr?.message ?? '', /YAML/);
});

test('a missing file is one problem with a fix', () => {
  const [pr] = problems(() => loadConfig({ file: join(dir, 'nope.yaml'), env: {} }));
  assert.match(pr?.message ?? '', /not found/);
});

test('environment variables override the file, with types coerced and errors attributed', () => {
  const p = file('env.yaml', 'tftp:\n  port: 69\n');
  const c = loadConfig({ file: p, env: { BOOTHERD_TFTP_PORT: '6969', BOOTHERD_HTTP_ENABLED: 'no', BOOTHERD_INTERFACES: 'eth0,eth1:full', BOOTHERD_LOG_LEVEL: 'debug' } });
  assert.equal(c.tftp.port, 6969);
  assert.equal(c.http.enabled, false);
  assert.equal(c.log.level, 'debug');
  assert.deepEqual(c.interfaces.map((i) => `${i.name}:${i.mode}`), ['eth0:proxy', 'eth1:full']);
  const ps = problems(() => loadConfig({ file: p, env: { BOOTHERD_TFTP_PORT: 'sixty-nine', BOOTHERD_TFPT_PORT: '1' } }));
  assert.ok(ps.some((x) => x.source === 'env BOOTHERD_TFTP_PORT' && x.key === 'tftp.port'));
  assert.ok(ps.some((x) => x.source === 'env BOOTHERD_TFPT_PORT' && /BOOTHERD_TFTP_PORT/.test(x.fix)));
});

test('command-line overrides win over the environment', () => {
  const c = loadConfig({ env: { BOOTHERD_LOG_LEVEL: 'debug' }, overrides: { 'log.level': 'warn' } });
  assert.equal(c.log.level, 'warn');
});

test('an interface listed twice is a problem', () => {
  const p = file('twice.yaml', 'interfaces:\n  - name: eth0\n  - name: eth0\n');
  const [pr] = problems(() => loadConfig({ file: p, env: {} }));
  assert.equal(pr?.key, 'interfaces[1].name');
});

test('every scalar key has a distinct environment variable', () => {
  const names = envKeys().map((k) => k.name);
  assert.equal(new Set(names).size, names.length);
  assert.ok(names.includes('BOOTHERD_DATABASE_URL'));
});

test('dhcp rules the schema cannot express are checked too, at the right line', () => {
  const p = file('pool.yaml', 'dhcp:\n  subnets:\n    - subnet: 198.18.0.0/24\n      pools:\n        - start: 198.18.1.10\n          end: 198.18.1.20\n');
  const [pr, ...rest] = problems(() => loadServerConfig({ file: p, env: {} }));
  assert.equal(rest.length, 0);
  assert.equal(pr?.key, 'dhcp.subnets[0].pools[0]');
  assert.equal(pr?.line, 5);
  assert.match(pr?.message ?? '', /outside 198\.18\.0\.0\/24/);
  assert.match(pr?.fix ?? '', /move the pool into the subnet/);
});
