// Argument checks of openInterfaceSocket that need no network: bad names and ports are refused
// with coded errors before any socket exists.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createInterfaceSocketFd, validInterfaceName } from '../../../src/net/socket.ts';
import { NetError } from '../../../src/net/errors.ts';

test('interface names follow the Linux rules', () => {
  for (const ok of ['eth0', 'enp1s0', 'br-pxe', 'a', 'x'.repeat(15)]) assert.equal(validInterfaceName(ok), true, ok);
  for (const bad of ['', 'x'.repeat(16), 'a/b', 'eth 0', '..', '.', 'eth0:1']) assert.equal(validInterfaceName(bad), false, bad);
});

test('an invalid interface name is BH_NET_NO_INTERFACE, an invalid port BH_NET_SOCKET', () => {
  assert.throws(() => createInterfaceSocketFd({ interface: 'a/b', port: 67 }), (e: unknown) => e instanceof NetError && e.code === 'BH_NET_NO_INTERFACE');
  for (const port of [-1, 65536, 1.5, Number.NaN]) {
    assert.throws(() => createInterfaceSocketFd({ interface: 'lo', port }), (e: unknown) => e instanceof NetError && e.code === 'BH_NET_SOCKET' && /port/.test(e.message));
  }
});

test('a NetError carries its code, hint and the hint in its message', () => {
  const e = new NetError('BH_NET_PERMISSION', 'not allowed', 'run as root or grant CAP_NET_BIND_SERVICE and CAP_NET_RAW', 'EACCES');
  assert.equal(e.code, 'BH_NET_PERMISSION');
  assert.equal(e.errno, 'EACCES');
  assert.match(e.message, /^BH_NET_PERMISSION: not allowed \(hint: run as root/);
});
