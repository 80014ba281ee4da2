// Checks that the Debian packages the integration tests drive are installed
// (scripts/test-packages.txt). As root it installs what is missing (never starting their
// services); otherwise it prints the one apt-get command to run and exits 2. Then it builds the
// compiled TFTP loop if npm ci could not (no compiler then).
import { accessSync, constants, existsSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const list = fileURLToPath(new URL('./test-packages.txt', import.meta.url));
const wanted = readFileSync(list, 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l !== '' && !l.startsWith('#'))
  .map((l) => {
    const [pkg = '', probe = ''] = l.split(/\s+/);
    return { pkg, probe };
  });

function present(probe: string): boolean {
  if (probe.startsWith('/')) return existsSync(probe);
  for (const dir of ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']) {
    try {
      accessSync(`${dir}/${probe}`, constants.X_OK);
      return true;
    } catch {
      /* next */
    }
  }
  return false;
}

/** The compiled TFTP loop: built by npm ci when a compiler was there; build it now if the compiler came later (below). */
function buildNative(): void {
  if (existsSync(fileURLToPath(new URL('../build/tftp-fast.node', import.meta.url)))) return;
  execFileSync('sh', [fileURLToPath(new URL('./build-native.sh', import.meta.url))], { stdio: 'inherit' });
}

const missing = [...new Set(wanted.filter((w) => !present(w.probe)).map((w) => w.pkg))];
if (missing.length === 0) {
  buildNative();
  process.exit(0);
}
const command = `apt-get install -y --no-install-recommends ${missing.join(' ')}`;
if (process.getuid?.() !== 0) {
  console.error(`test-deps: missing Debian packages: ${missing.join(', ')}\nhint: run as root: ${command}`);
  process.exit(2);
}
console.error(`test-deps: installing ${missing.join(', ')}`);
// Package installs must not start servers (dnsmasq, kea, postgresql) in this namespace.
const policy = '/usr/sbin/policy-rc.d';
if (!existsSync(policy)) {
  writeFileSync(policy, '#!/bin/sh\nexit 101\n');
  chmodSync(policy, 0o755);
}
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { stdio: 'inherit', env });
buildNative();
