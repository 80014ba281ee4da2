// The `dhcp` config schema (which generates the configuration reference) and its compilation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Value } from '@sinclair/typebox/value';
import type { TSchema } from '@sinclair/typebox';
import { DhcpConfigSchema } from '../../../src/config/dhcp.ts';
import { compileDhcpConfig, DhcpConfigError } from '../../../src/dhcp/compile.ts';
import { config } from './helpers.ts';

interface Walked { path: string; schema: TSchema & Record<string, unknown> }

/** Every property of every object schema, recursively (through arrays, records and unions). */
function properties(schema: TSchema, path = 'dhcp'): Walked[] {
  const s = schema as TSchema & Record<string, unknown>;
  const out: Walked[] = [];
  if (s.type === 'object' && s.properties !== undefined) {
    for (const [k, v] of Object.entries(s.properties as Record<string, TSchema>)) {
      out.push({ path: `${path}.${k}`, schema: v as Walked['schema'] });
      out.push(...properties(v, `${path}.${k}`));
    }
  }
  if (s.type === 'array' && s.items !== undefined) out.push(...properties(s.items as TSchema, `${path}[]`));
  if (s.patternProperties !== undefined) for (const v of Object.values(s.patternProperties as Record<string, TSchema>)) out.push(...properties(v, `${path}.*`));
  if (Array.isArray(s.anyOf)) for (const v of s.anyOf as TSchema[]) out.push(...properties(v, path));
  return out;
}

test('every key has a description and examples; objects refuse unknown keys; examples validate', () => {
  const all = properties(DhcpConfigSchema);
  assert.ok(all.length > 40, `walked ${all.length} keys`);
  for (const { path, schema } of all) {
    assert.equal(typeof schema.description, 'string', `${path}: description`);
    assert.ok(Array.isArray(schema.examples) && schema.examples.length > 0, `${path}: examples`);
    for (const ex of schema.examples as unknown[]) {
      const filled = Value.Default(schema, structuredClone(ex));
      assert.ok(Value.Check(schema, filled), `${path}: example ${JSON.stringify(ex)} does not validate (with defaults applied)`);
    }
    if (schema.type === 'object') assert.equal(schema.additionalProperties, false, `${path}: additionalProperties false`);
  }
  assert.equal(DhcpConfigSchema.additionalProperties, false);
});

test('an empty dhcp section is valid: proxy mode, no subnets', () => {
  const c = config({});
  assert.equal(c.mode, 'proxy');
  assert.deepEqual(c.subnets, []);
  assert.equal(c.offer_hold, 30);
  assert.equal(c.boot.ipxe_script, 'boot.ipxe?mac=${net0/mac}&uuid=${uuid}&arch=${buildarch}');
  const compiled = compileDhcpConfig(c);
  assert.equal(compiled.mode, 'proxy');
});

test('unknown keys and malformed values are refused by the schema', () => {
  assert.throws(() => config({ mdoe: 'full' }));
  assert.throws(() => config({ mode: 'fulll' }));
  assert.throws(() => config({ subnets: [{ subnet: '198.18.0.0/33' }] }));
  assert.throws(() => config({ subnets: [{ subnet: '198.18.0.0/24', reservations: [{ mac: 'zz', ip: '198.18.0.5' }] }] }));
  assert.throws(() => config({ access: { relays: ['not-an-ip'] } }));
});

test('compile errors are coded and name what to fix', () => {
  const cases: [Record<string, unknown>, string, RegExp][] = [
    [{ subnets: [{ subnet: '198.18.0.0/24', pools: [{ start: '198.18.1.10', end: '198.18.1.20' }] }] }, 'BH_DHCP_CONFIG_POOL', /lies outside 198\.18\.0\.0\/24/],
    [{ subnets: [{ subnet: '198.18.0.0/24', pools: [{ start: '198.18.0.20', end: '198.18.0.10' }] }] }, 'BH_DHCP_CONFIG_POOL', /not above end/],
    [{ subnets: [{ subnet: '198.18.0.0/24', reservations: [{ mac: '52:54:00:00:00:01', ip: '198.18.0.5' }, { mac: '52:54:00:00:00:02', ip: '198.18.0.5' }] }] }, 'BH_DHCP_CONFIG_RESERVATION', /reserved for both/],
    [{ subnets: [{ subnet: '198.18.0.0/24', reservations: [{ mac: '52:54:00:00:00:01', ip: '198.18.0.5' }, { mac: '52-54-00-00-00-01', ip: '198.18.0.6' }] }] }, 'BH_DHCP_CONFIG_RESERVATION', /reserved twice/],
    [{ subnets: [{ subnet: '198.18.0.0/24', reservations: [{ mac: '52:54:00:00:00:01', ip: '198.18.1.5' }] }] }, 'BH_DHCP_CONFIG_RESERVATION', /not a host address/],
    [{ subnets: [{ subnet: '198.18.0.0/24', reservations: [{ mac: '52:54:00:00:00:01', ip: '198.18.0.5', group: 'nope' }] }] }, 'BH_DHCP_CONFIG_GROUP', /group "nope"/],
    [{ subnets: [{ subnet: '198.18.0.0/24' }, { subnet: '198.18.0.128/25' }] }, 'BH_DHCP_CONFIG_SUBNET', /overlap/],
    [{ subnets: [{ subnet: '198.18.0.0/24', options: [{ code: 53, type: 'u8', value: 5 }] }] }, 'BH_DHCP_CONFIG_OPTION', /set by the server itself/],
    [{ subnets: [{ subnet: '198.18.0.0/24', options: [{ code: 26, type: 'u16', value: 70000 }] }] }, 'BH_DHCP_CONFIG_OPTION', /integer 0\.\.65535/],
    [{ subnets: [{ subnet: '198.18.0.0/24', options: [{ code: 150, type: 'ip', value: 'x' }] }] }, 'BH_DHCP_CONFIG_OPTION', /dotted-quad/],
    [{ boot: { bootfiles: { 'amd64-efi': 'x.efi' } } }, 'BH_DHCP_CONFIG_ARCH', /unknown architecture key "amd64-efi"/],
  ];
  for (const [partial, code, msg] of cases) {
    assert.throws(
      () => compileDhcpConfig(config(partial)),
      (err: unknown) => err instanceof DhcpConfigError && err.code === code && msg.test(err.message),
      `${code} ${msg}`,
    );
  }
});
