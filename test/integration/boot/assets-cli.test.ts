// `bootherd assets` on this machine: Debian's loaders are found, each with its real SHA-256 and
// purpose; a loader missing from the assets dir and the system names its apt package.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const bin = new URL('../../../bin/bootherd', import.meta.url).pathname;
const dir = mkdtempSync(path.join(tmpdir(), 'bh-assets-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Row { name: string; status: string; source: string; path: string | null; sha256: string | null; purpose: string; package: string }

async function assets(config: string): Promise<{ assets: Row[]; install: string | null }> {
  const { stdout } = await run(bin, ['assets', '--json', '-c', config], { timeout: 30_000, env: { ...process.env, BOOTHERD_CONFIG: '' } });
  return JSON.parse(stdout) as { assets: Row[]; install: string | null };
}

test('lists every loader of the default chains with path, SHA-256 and purpose (apt: ipxe shim-signed grub-efi-amd64-signed pxelinux syslinux-common)', async () => {
  const cfg = path.join(dir, 'plain.yaml');
  writeFileSync(cfg, `state_dir: ${dir}/state\n`);
  const out = await assets(cfg);
  const missing = out.assets.filter((a) => a.status === 'missing');
  assert.deepEqual(missing.map((m) => `${m.name} (apt package ${m.package})`), [], `install: ${out.install ?? ''}`);
  for (const a of out.assets) {
    assert.equal(a.sha256, createHash('sha256').update(readFileSync(a.path!)).digest('hex'), a.name);
    assert.ok(a.purpose.length > 0);
  }
  const by = new Map(out.assets.map((a) => [a.name, a]));
  assert.equal(by.get('grubx64.efi')?.path, '/usr/lib/grub/x86_64-efi-signed/grubnetx64.efi.signed');
  assert.equal(by.get('shimx64.efi')?.path, '/usr/lib/shim/shimx64.efi.signed');
});

test('the assets dir comes first', async () => {
  const assetsDir = path.join(dir, 'assets');
  rmSync(assetsDir, { recursive: true, force: true });
  await run('mkdir', ['-p', assetsDir]);
  writeFileSync(path.join(assetsDir, 'undionly.kpxe'), 'custom build');
  const cfg = path.join(dir, 'assets.yaml');
  writeFileSync(cfg, `state_dir: ${dir}/state\nboot:\n  assets_dir: ${assetsDir}\n`);
  const row = (await assets(cfg)).assets.find((a) => a.name === 'undionly.kpxe')!;
  assert.equal(row.source, 'assets_dir');
  assert.equal(row.sha256, createHash('sha256').update('custom build').digest('hex'));
});

test('human output: one line per loader with path, SHA-256 and purpose', async () => {
  const cfg = path.join(dir, 'plain.yaml');
  const { stdout } = await run(bin, ['assets', '-c', cfg], { timeout: 30_000 });
  assert.match(stdout, /^shimx64\.efi {2}\/usr\/lib\/shim\/shimx64\.efi\.signed {2}sha256:[0-9a-f]{64} {2}\(Secure Boot first stage/m);
});
