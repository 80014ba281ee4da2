// `bootherd tls init`: a lab CA and a server certificate signed by it, for HTTPS boot (iPXE built
// with TRUST=ca.crt, UEFI HTTP Boot with the CA enrolled). Uses the `openssl` command (Debian
// package openssl); see docs/decisions/0007-http-serving-and-lab-tls.md for why.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { hostname as osHostname } from 'node:os';
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { configFileFromEnv, loadServerConfig } from './config.ts';
import { BhError } from '../errors.ts';

export interface LabTlsOptions {
  dir: string;
  /** DNS names for the server certificate (subjectAltName DNS). */
  hostnames: string[];
  /** Addresses for the server certificate (subjectAltName IP). */
  ips: string[];
  /** Server certificate lifetime (default 825 days; the CA gets 10 years). */
  days?: number;
  /** Replace existing files. */
  force?: boolean;
  /** The openssl binary (default `openssl` on PATH). */
  openssl?: string;
}

export interface LabTls {
  dir: string;
  caCert: string;
  caKey: string;
  serverCert: string;
  serverKey: string;
  names: string[];
}

const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** Generates ca.crt/ca.key and server.crt/server.key (keys 0600) in `dir`. */
export function generateLabTls(opts: LabTlsOptions): LabTls {
  const dir = resolve(opts.dir);
  for (const h of opts.hostnames) {
    if (!HOSTNAME.test(h)) throw new BhError('BH_TLS_BAD_NAME', `"${h}" is not a valid host name`, 'use letters, digits, "-" and "." only, e.g. --hostname boot.lab.example');
  }
  for (const ip of opts.ips) {
    if (isIP(ip) === 0) throw new BhError('BH_TLS_BAD_IP', `"${ip}" is not an IP address`, 'give an IPv4 or IPv6 address, e.g. --ip 198.18.0.1');
  }
  if (opts.hostnames.length === 0 && opts.ips.length === 0) {
    throw new BhError('BH_TLS_NO_NAME', 'the certificate would name no host', 'give --hostname NAME and/or --ip ADDR: the names clients use in https:// URLs');
  }
  const out: LabTls = {
    dir,
    caCert: join(dir, 'ca.crt'),
    caKey: join(dir, 'ca.key'),
    serverCert: join(dir, 'server.crt'),
    serverKey: join(dir, 'server.key'),
    names: [...opts.hostnames, ...opts.ips],
  };
  const existing = [out.caCert, out.caKey, out.serverCert, out.serverKey].filter((f) => existsSync(f));
  if (existing.length > 0 && opts.force !== true) {
    throw new BhError('BH_TLS_EXISTS', `${existing.join(', ')} already exist${existing.length === 1 ? 's' : ''}`, 'use --force to replace them (clients that trust the old CA must then be rebuilt), or choose another --dir');
  }
  try {
    mkdirSync(dir, { recursive: true, mode: 0o755 });
  } catch (err) {
    throw new BhError('BH_TLS_DIR', `cannot create ${dir} (${(err as NodeJS.ErrnoException).code ?? 'EIO'})`, 'choose a --dir you may write to');
  }
  const work = mkdtempSync(join(dir, '.tls-init-'));
  const openssl = opts.openssl ?? 'openssl';
  const run = (args: string[]): void => {
    const r = spawnSync(openssl, args, { encoding: 'utf8', timeout: 60_000 });
    if (r.error !== undefined) {
      const code = (r.error as NodeJS.ErrnoException).code;
      throw new BhError('BH_TLS_OPENSSL', `cannot run ${openssl} (${code ?? r.error.message})`, code === 'ENOENT' ? 'install it: apt-get install openssl' : 'check that openssl runs');
    }
    if (r.status !== 0) throw new BhError('BH_TLS_OPENSSL', `openssl ${args[0]} failed: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' ')}`, 'check the openssl version (3.x expected) and the names given');
  };
  const old = process.umask(0o077);
  try {
    const days = opts.days ?? 825;
    const san = [...opts.hostnames.map((h) => `DNS:${h}`), ...opts.ips.map((ip) => `IP:${ip}`)].join(',');
    const caKey = join(work, 'ca.key');
    const caCert = join(work, 'ca.crt');
    const key = join(work, 'server.key');
    const csr = join(work, 'server.csr');
    const cert = join(work, 'server.crt');
    const ext = join(work, 'server.ext');
    // RSA 2048 + SHA-256: what iPXE's TLS stack verifies.
    run(['req', '-x509', '-new', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '3650', '-keyout', caKey, '-out', caCert,
      '-subj', `/CN=bootherd lab CA ${randomBytes(4).toString('hex')}`,
      '-addext', 'basicConstraints=critical,CA:TRUE,pathlen:0', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
    run(['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-keyout', key, '-out', csr, '-subj', `/CN=${out.names[0] ?? 'bootherd'}`]);
    writeFileSync(ext, `basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=${san}\n`);
    run(['x509', '-req', '-in', csr, '-CA', caCert, '-CAkey', caKey, '-set_serial', `0x${randomBytes(16).toString('hex').replace(/^[89a-f]/, '1')}`, '-days', String(days), '-sha256', '-extfile', ext, '-out', cert]);
    // Everything was made in a scratch directory; only a complete set replaces the old files.
    for (const [from, to, mode] of [[caKey, out.caKey, 0o600], [key, out.serverKey, 0o600], [caCert, out.caCert, 0o644], [cert, out.serverCert, 0o644]] as const) {
      chmodSync(from, mode);
      renameSync(from, to);
    }
  } finally {
    process.umask(old);
    rmSync(work, { recursive: true, force: true });
  }
  return out;
}

/** The text `tls init` prints: where the files are, the config lines and the iPXE build line. */
export function describeLabTls(t: LabTls, httpsPort: number): string {
  const url = `https://${t.names[0] ?? 'HOST'}${httpsPort === 443 ? '' : `:${httpsPort}`}/healthz`;
  return [
    `lab CA certificate:  ${t.caCert}`,
    `lab CA key:          ${t.caKey} (0600; keep it offline once you have issued what you need)`,
    `server certificate:  ${t.serverCert} (for ${t.names.join(', ')})`,
    `server key:          ${t.serverKey} (0600)`,
    '',
    'Serve HTTPS with it (bootherd.yaml):',
    '  http:',
    `    tls_cert: ${t.serverCert}`,
    `    tls_key: ${t.serverKey}`,
    '',
    'Build iPXE that trusts only this CA (in an iPXE source tree, ipxe/src):',
    `  make bin/undionly.kpxe TRUST=${t.caCert}`,
    `  make bin-x86_64-efi/ipxe.efi bin-x86_64-efi/snponly.efi TRUST=${t.caCert}`,
    '',
    `Check: curl --cacert ${t.caCert} ${url}`,
    '',
  ].join('\n');
}

export function registerTls(program: Command): void {
  const tls = program.command('tls').description('TLS certificates for HTTPS boot');
  tls
    .command('init')
    .description('make a lab CA and a server certificate signed by it (keys 0600), and print how to use them')
    .option('-c, --config <file>', 'YAML configuration file (for the default directory and HTTPS port)')
    .option('-d, --dir <dir>', 'where to write ca.crt, ca.key, server.crt, server.key (default: STATE_DIR/tls)')
    .option('-n, --hostname <name>', 'DNS name clients use for this server; repeatable (default: this machine\'s host name)', collect, [])
    .option('--ip <addr>', 'IP address clients use for this server; repeatable', collect, [])
    .option('--days <n>', 'server certificate lifetime in days', '825')
    .option('-f, --force', 'replace existing files')
    .action((opts: { config?: string; dir?: string; hostname: string[]; ip: string[]; days: string; force?: boolean }) => {
      const days = Number(opts.days);
      if (!Number.isInteger(days) || days < 1 || days > 3650) throw new BhError('BH_USAGE', `--days ${opts.days} is not a number of days from 1 to 3650`, 'e.g. --days 825');
      let dir = opts.dir;
      let httpsPort = 8443;
      if (dir === undefined || opts.config !== undefined) {
        const config = loadServerConfig({ file: opts.config ?? configFileFromEnv() });
        dir ??= join(config.state_dir, 'tls');
        httpsPort = config.http.https_port;
      }
      const hostnames = opts.hostname.length === 0 && opts.ip.length === 0 ? [osHostname()] : opts.hostname;
      const t = generateLabTls({ dir, hostnames, ips: opts.ip, days, force: opts.force === true });
      process.stdout.write(describeLabTls(t, httpsPort));
    });
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
