// `bootherd tls init`, then HTTPS with the generated certificate: curl trusting the lab CA gets
// the file, curl without it fails verification, and old TLS versions are refused (H21).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import type { FastifyInstance } from 'fastify';
import { registerTls } from '../../../src/cli/tls.ts';
import { createHttpApp } from '../../../src/http/server.ts';
import { FileResolver } from '../../../src/files/resolver.ts';
import { EventBus } from '../../../src/events/bus.ts';
import { silentLogger } from '../../../src/log/logger.ts';
import { curl, requireTool, sha256 } from './helpers.ts';

let dir = '';
let tlsDir = '';
let app: FastifyInstance;
let port = 0;
let printed = '';
const payload = Buffer.from('#!ipxe\necho over https\n');

/** Runs `bootherd tls ...` through the command's own registration, capturing what it prints. */
async function runTls(args: string[]): Promise<string> {
  const program = new Command('bootherd').exitOverride();
  registerTls(program);
  const write = process.stdout.write.bind(process.stdout);
  let out = '';
  process.stdout.write = ((chunk: string | Uint8Array) => {
    out += chunk.toString();
    return true;
  }) as typeof process.stdout.write;
  try {
    await program.parseAsync(args, { from: 'user' });
  } finally {
    process.stdout.write = write;
  }
  return out;
}

function openssl(args: string[]): Promise<{ status: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn('openssl', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.stdin.end('Q\n');
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, out });
    });
  });
}

before(async () => {
  requireTool('openssl', 'openssl');
  requireTool('curl', 'curl');
  dir = mkdtempSync(join(tmpdir(), 'bh-http-tls-'));
  tlsDir = join(dir, 'tls');
  writeFileSync(join(dir, 'boot.ipxe'), payload);
  printed = await runTls(['tls', 'init', '--dir', tlsDir, '--hostname', 'boot.lab.test', '--ip', '127.0.0.1']);
  app = createHttpApp({
    logger: silentLogger(),
    events: new EventBus(),
    resolver: new FileResolver({ root: dir }),
    tls: { cert: readFileSync(join(tlsDir, 'server.crt')), key: readFileSync(join(tlsDir, 'server.key')) },
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  port = (app.server.address() as AddressInfo).port;
});
after(async () => {
  await app?.close();
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

test('tls init writes the CA and server certificate with 0600 keys and prints how to use them', async () => {
  for (const f of ['ca.key', 'server.key']) assert.equal(statSync(join(tlsDir, f)).mode & 0o777, 0o600, f);
  for (const f of ['ca.crt', 'server.crt']) assert.match(readFileSync(join(tlsDir, f), 'utf8'), /^-----BEGIN CERTIFICATE-----/);
  assert.ok(printed.includes(join(tlsDir, 'ca.crt')), printed);
  assert.ok(printed.includes(`make bin/undionly.kpxe TRUST=${join(tlsDir, 'ca.crt')}`), printed);
  assert.ok(printed.includes(`tls_cert: ${join(tlsDir, 'server.crt')}`), printed);
  const text = await openssl(['x509', '-in', join(tlsDir, 'server.crt'), '-noout', '-ext', 'subjectAltName']);
  assert.match(text.out, /DNS:boot\.lab\.test, IP Address:127\.0\.0\.1/);
  await assert.rejects(runTls(['tls', 'init', '--dir', tlsDir, '--hostname', 'x']), /already exist/);
  await assert.rejects(runTls(['tls', 'init', '--dir', join(dir, 'bad'), '--hostname', 'a\nsubjectAltName=DNS:evil']), /not a valid host name/);
});

test('curl trusting the lab CA gets the file over HTTPS, by name and by address', async () => {
  const ca = join(tlsDir, 'ca.crt');
  const byIp = await curl(['--cacert', ca, `https://127.0.0.1:${port}/boot.ipxe`]);
  assert.equal(byIp.status, 0, byIp.stderr);
  assert.equal(sha256(byIp.stdout), sha256(payload));
  const byName = await curl(['--cacert', ca, '--resolve', `boot.lab.test:${port}:127.0.0.1`, `https://boot.lab.test:${port}/boot.ipxe`]);
  assert.equal(byName.status, 0, byName.stderr);
  assert.equal(byName.stdout.toString(), payload.toString());
});

test('curl without the CA fails certificate verification', async () => {
  const r = await curl([`https://127.0.0.1:${port}/boot.ipxe`]);
  assert.equal(r.status, 60, r.stderr); // CURLE_PEER_FAILED_VERIFICATION
  assert.equal(r.stdout.length, 0);
});

test('H21: TLS 1.0 and 1.1 handshakes are refused; TLS 1.2 and 1.3 work', async () => {
  for (const v of ['-tls1', '-tls1_1']) {
    // SECLEVEL=0 lets this client offer the old protocol, so the refusal is the server's.
    const r = await openssl(['s_client', '-connect', `127.0.0.1:${port}`, v, '-cipher', 'DEFAULT:@SECLEVEL=0', '-CAfile', join(tlsDir, 'ca.crt')]);
    assert.notEqual(r.status, 0, `${v} handshake should fail: ${r.out.slice(-300)}`);
    assert.match(r.out, /Cipher is \(NONE\)/, r.out.slice(-300));
    assert.match(r.out, /alert protocol version/, 'the server answered with a protocol_version alert');
  }
  for (const v of ['-tls1_2', '-tls1_3']) {
    const r = await openssl(['s_client', '-connect', `127.0.0.1:${port}`, v, '-CAfile', join(tlsDir, 'ca.crt')]);
    assert.match(r.out, /Cipher is (TLS_AES|TLS_CHACHA|ECDHE-[A-Z0-9-]*(GCM|CHACHA))/, `${v}: ${r.out.slice(-300)}`);
    assert.match(r.out, /Verify return code: 0 \(ok\)/, `${v}: ${r.out.slice(-300)}`);
  }
  const weak = await openssl(['s_client', '-connect', `127.0.0.1:${port}`, '-tls1_2', '-cipher', 'AES128-SHA:RC4-SHA:NULL-SHA:@SECLEVEL=0']);
  assert.doesNotMatch(weak.out, /Cipher is (AES128-SHA|RC4|NULL)/, 'non-AEAD suites are not negotiated');
});
