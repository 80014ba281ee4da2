// Profiles: what to boot. The TypeBox schema of a ProfileSpec, and validate() which turns any
// input (CLI flags, fleet.yaml, API bodies) into a checked ProfileSpec or a list of problems that
// each name the field and a fix. Pure: no I/O.
import { Type } from '@sinclair/typebox';
import type { TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { FIRMWARE_ARCHES } from './types.ts';
import type { BootSpec, FirmwareArch, ProfileSpec } from './types.ts';
import { InventoryError, formatFieldProblem } from './errors.ts';
import { suggest } from '../util/suggest.ts';
import type { FieldProblem } from './errors.ts';

/** Profile, group and host names: what the store accepts, starting with a letter or digit. */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

const Location = Type.String({ minLength: 1, maxLength: 1024, description: 'A URL (http, https, tftp) or a path relative to the boot root.', examples: ['debian/vmlinuz'] });

export const BootSpecSchema = Type.Object(
  {
    kind: Type.Union([Type.Literal('linux'), Type.Literal('chain'), Type.Literal('menu'), Type.Literal('local')], { examples: ['linux'] }),
    kernel: Type.Optional(Location),
    initrd: Type.Optional(Type.Array(Location, { maxItems: 16, examples: [['debian/initrd.gz']] })),
    cmdline: Type.Optional(Type.String({ maxLength: 4096, examples: ['console=ttyS0 quiet'] })),
    chain: Type.Optional(Location),
    menu: Type.Optional(Type.Object(
      {
        title: Type.Optional(Type.String({ maxLength: 128 })),
        default: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
        timeout_s: Type.Optional(Type.Integer({ minimum: 0, maximum: 3600, examples: [10] })),
        items: Type.Array(
          Type.Object({ label: Type.String({ minLength: 1, maxLength: 128 }), profile: Type.String({ minLength: 1, maxLength: 64, examples: ['debian'] }) }, { additionalProperties: false }),
          { minItems: 1, maxItems: 64 },
        ),
      },
      { additionalProperties: false },
    )),
    secure_boot: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const ProfileSpecSchema = Type.Object(
  {
    ...BootSpecSchema.properties,
    description: Type.Optional(Type.String({ maxLength: 256 })),
    arch: Type.Optional(Type.Object(Object.fromEntries(FIRMWARE_ARCHES.map((a) => [a, Type.Optional(BootSpecSchema)])), { additionalProperties: false })),
  },
  { additionalProperties: false },
);

const CONTROL = /[\p{Cc}\u2028\u2029]/u;
const URL_SCHEMES = /^(https?|tftp):\/\/[^/\s]+/i;

/** True for an http(s)/tftp URL; false for a boot-root path. */
export function isUrl(s: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(s);
}

function checkLocation(field: string, v: string, out: FieldProblem[]): void {
  if (CONTROL.test(v)) {
    out.push({ field, message: 'contains control characters', fix: 'remove line breaks and other control characters' });
    return;
  }
  if (isUrl(v)) {
    if (!URL_SCHEMES.test(v)) out.push({ field, message: `${JSON.stringify(v)} is not an http, https or tftp URL`, fix: 'use http://, https:// or tftp:// with a host, or a path relative to the boot root' });
    else if (/\s/.test(v)) out.push({ field, message: 'the URL contains spaces', fix: 'percent-encode spaces (%20)' });
    return;
  }
  if (v.startsWith('/')) {
    out.push({ field, message: `${JSON.stringify(v)} is an absolute path`, fix: `write it relative to the boot root (e.g. ${JSON.stringify(v.replace(/^\/+/, '').split('/').slice(-2).join('/'))}); files outside the boot root are never served` });
    return;
  }
  const parts = v.split('/');
  if (v.includes('\\') || parts.some((p) => p === '' || p === '.' || p === '..')) {
    out.push({ field, message: `${JSON.stringify(v)} is not a clean path under the boot root`, fix: "use '/' between names, with no '.', '..', empty parts or backslashes" });
  }
}

function checkBootSpec(prefix: string, s: BootSpec, out: FieldProblem[]): void {
  const f = (k: string) => (prefix === '' ? k : `${prefix}.${k}`);
  const forbid = (keys: (keyof BootSpec)[], why: string) => {
    for (const k of keys) if (s[k] !== undefined) out.push({ field: f(k), message: `is not used by a ${s.kind} profile`, fix: `remove it${why}` });
  };
  switch (s.kind) {
    case 'linux':
      if (s.kernel === undefined) out.push({ field: f('kernel'), message: 'is required for kind linux', fix: 'add the kernel, e.g. kernel: debian/vmlinuz (a path under the boot root or a URL)' });
      forbid(['chain', 'menu'], ', or change kind');
      break;
    case 'chain':
      if (s.chain === undefined) out.push({ field: f('chain'), message: 'is required for kind chain', fix: 'add the loader to hand over to, e.g. chain: ipxe/custom.efi or an iPXE script URL' });
      forbid(['kernel', 'initrd', 'cmdline', 'menu', 'secure_boot'], ', or change kind to linux');
      break;
    case 'menu':
      if (s.menu === undefined) out.push({ field: f('menu'), message: 'is required for kind menu', fix: 'add menu: { items: [{ label: Debian, profile: debian }] }' });
      forbid(['kernel', 'initrd', 'cmdline', 'chain', 'secure_boot'], ', or change kind');
      break;
    case 'local':
      forbid(['kernel', 'initrd', 'cmdline', 'chain', 'menu', 'secure_boot'], ': a local profile boots from the local disk');
      break;
  }
  if (s.kernel !== undefined) checkLocation(f('kernel'), s.kernel, out);
  s.initrd?.forEach((x, i) => checkLocation(`${f('initrd')}[${i}]`, x, out));
  if (s.chain !== undefined) checkLocation(f('chain'), s.chain, out);
  if (s.cmdline !== undefined && CONTROL.test(s.cmdline)) out.push({ field: f('cmdline'), message: 'contains line breaks or control characters', fix: 'write the command line on one line' });
  if (s.menu !== undefined) {
    const labels = new Set<string>();
    s.menu.items.forEach((it, i) => {
      if (!NAME_PATTERN.test(it.profile)) out.push({ field: `${f('menu.items')}[${i}].profile`, message: `${JSON.stringify(it.profile)} is not a profile name`, fix: 'use a profile name: letters, digits, ".", "_" and "-"' });
      if (CONTROL.test(it.label)) out.push({ field: `${f('menu.items')}[${i}].label`, message: 'contains control characters', fix: 'write the label on one line' });
      if (labels.has(it.label)) out.push({ field: `${f('menu.items')}[${i}].label`, message: `${JSON.stringify(it.label)} appears twice`, fix: 'give each menu item its own label' });
      labels.add(it.label);
    });
    if (s.menu.title !== undefined && CONTROL.test(s.menu.title)) out.push({ field: f('menu.title'), message: 'contains control characters', fix: 'write the title on one line' });
    const d = s.menu.default;
    if (d !== undefined && !s.menu.items.some((it) => it.profile === d || it.label === d)) {
      out.push({ field: f('menu.default'), message: `${JSON.stringify(d)} is not one of the menu's items`, fix: `use one of: ${s.menu.items.map((it) => it.profile).join(', ')}` });
    }
  }
}

function dotted(path: string): string {
  let out = '';
  for (const p of path.split('/').slice(1).map((x) => x.replace(/~1/g, '/').replace(/~0/g, '~'))) out += /^\d+$/.test(p) ? `[${p}]` : out === '' ? p : `.${p}`;
  return out;
}

function explain(schema: TSchema, message: string, value: unknown, field: string): { message: string; fix: string } {
  const example = Array.isArray(schema['examples']) ? JSON.stringify(schema['examples'][0]) : undefined;
  if (message === 'Unexpected property') {
    const key = field.split('.').pop() ?? field;
    if (field.startsWith('arch.') && field.split('.').length === 2) return { message: `unknown firmware ${JSON.stringify(key)}`, fix: `use one of: ${FIRMWARE_ARCHES.join(', ')}` };
    const allowed = field.includes('.') ? Object.keys(BootSpecSchema.properties) : Object.keys(ProfileSpecSchema.properties);
    return { message: 'unknown key', fix: suggest(key, allowed) ?? `remove it; a profile has ${allowed.join(', ')}` };
  }
  if (message.startsWith('Expected required property')) return { message: 'is required', fix: `add it${example !== undefined ? `, for example ${example}` : ''}` };
  if (Array.isArray(schema['anyOf']) && (schema['anyOf'] as TSchema[]).every((s) => s['const'] !== undefined)) {
    return { message: `${JSON.stringify(value)} is not allowed`, fix: `use one of: ${(schema['anyOf'] as TSchema[]).map((s) => String(s['const'])).join(', ')}` };
  }
  if (typeof schema['maxLength'] === 'number' && typeof value === 'string' && value.length > schema['maxLength']) return { message: `is longer than ${schema['maxLength']} characters`, fix: 'shorten it' };
  if (typeof schema['minLength'] === 'number' && typeof value === 'string' && value.length < schema['minLength']) return { message: 'is empty', fix: `give a value${example !== undefined ? `, for example ${example}` : ''}` };
  if (typeof schema['maxItems'] === 'number' && Array.isArray(value) && value.length > schema['maxItems']) return { message: `has more than ${schema['maxItems']} entries`, fix: 'list fewer' };
  if (typeof schema['minItems'] === 'number' && Array.isArray(value) && value.length < schema['minItems']) return { message: 'is empty', fix: 'list at least one entry' };
  if (typeof schema['minimum'] === 'number' && typeof value === 'number' && value < schema['minimum']) return { message: `${value} is too small`, fix: `use a value from ${schema['minimum']}` };
  if (typeof schema['maximum'] === 'number' && typeof value === 'number' && value > schema['maximum']) return { message: `${value} is too large`, fix: `use a value up to ${schema['maximum']}` };
  const type = schema['type'];
  if (typeof type === 'string') {
    const article = /^[aeiou]/.test(type) ? 'an' : 'a';
    const shown = type === 'array' ? 'list' : type;
    return { message: `expected ${article} ${shown}, got ${JSON.stringify(value)}`, fix: `write ${article} ${shown}${example !== undefined ? `, for example ${example}` : ''}` };
  }
  return { message: message.toLowerCase(), fix: 'see docs/inventory.md' };
}

/** Every problem with a would-be ProfileSpec; [] when it is valid. */
export function profileProblems(input: unknown): FieldProblem[] {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return [{ field: '', message: 'a profile must be a mapping of keys', fix: 'write kind: linux (or chain, menu, local) and its keys' }];
  }
  const out: FieldProblem[] = [];
  const seen = new Set<string>();
  for (const e of Value.Errors(ProfileSpecSchema, input)) {
    const field = dotted(e.path);
    if (seen.has(field)) continue;
    // A problem inside a field hides the problems reported for its parents (union branches).
    seen.add(field);
    out.push({ field, ...explain(e.schema, e.message, e.value, field) });
  }
  if (out.length > 0) return out;
  const spec = input as ProfileSpec;
  checkBootSpec('', spec, out);
  if (spec.description !== undefined && CONTROL.test(spec.description)) out.push({ field: 'description', message: 'contains control characters', fix: 'write it on one line' });
  for (const [arch, variant] of Object.entries(spec.arch ?? {})) if (variant !== undefined) checkBootSpec(`arch.${arch}`, variant, out);
  return out;
}

/**
 * Checks a ProfileSpec and returns a clean copy (only known keys, in a stable order). Throws
 * BH_INV_INVALID_PROFILE whose message lists every problem with its field and fix.
 */
export function validateProfileSpec(input: unknown, profileName?: string): ProfileSpec {
  const problems = profileProblems(input);
  if (problems.length > 0) {
    const who = profileName === undefined ? 'the profile' : `profile ${JSON.stringify(profileName)}`;
    throw new InventoryError('BH_INV_INVALID_PROFILE', `${who} is not valid: ${problems.map(formatFieldProblem).join('; ')}`, 'fix the fields named above; docs/inventory.md describes every profile key');
  }
  return canonicalSpec(input as ProfileSpec);
}

function canonicalBoot(s: BootSpec): BootSpec {
  const out: BootSpec = { kind: s.kind };
  if (s.kernel !== undefined) out.kernel = s.kernel;
  if (s.initrd !== undefined && s.initrd.length > 0) out.initrd = [...s.initrd];
  if (s.cmdline !== undefined) out.cmdline = s.cmdline;
  if (s.chain !== undefined) out.chain = s.chain;
  if (s.menu !== undefined) {
    out.menu = {
      ...(s.menu.title !== undefined ? { title: s.menu.title } : {}),
      ...(s.menu.default !== undefined ? { default: s.menu.default } : {}),
      ...(s.menu.timeout_s !== undefined ? { timeout_s: s.menu.timeout_s } : {}),
      items: s.menu.items.map((it) => ({ label: it.label, profile: it.profile })),
    };
  }
  if (s.secure_boot === true) out.secure_boot = true;
  return out;
}

/** A ProfileSpec with only known keys, in a stable order (so equal specs compare equal as JSON). */
export function canonicalSpec(s: ProfileSpec): ProfileSpec {
  const out: ProfileSpec = { ...(s.description !== undefined && s.description !== '' ? { description: s.description } : {}), ...canonicalBoot(s) };
  const arches = FIRMWARE_ARCHES.filter((a) => s.arch?.[a] !== undefined);
  if (arches.length > 0) out.arch = Object.fromEntries(arches.map((a) => [a, canonicalBoot(s.arch![a]!)]));
  return out;
}

/** The boot spec for a firmware: its variant when the profile has one, else the top level. */
export function bootSpecFor(spec: ProfileSpec, arch: FirmwareArch | null | undefined): BootSpec {
  const variant = arch === null || arch === undefined ? undefined : spec.arch?.[arch];
  return variant ?? canonicalBoot(spec);
}

/** Names of the profiles a spec's menus refer to (top level and variants). */
export function referencedProfiles(spec: ProfileSpec): string[] {
  const names = new Set<string>();
  for (const s of [spec, ...Object.values(spec.arch ?? {})]) for (const it of s?.menu?.items ?? []) names.add(it.profile);
  return [...names];
}
