// Loads bootherd's configuration: YAML file (optional) → environment overrides → command-line
// overrides → defaults → one schema check. Every problem names where it came from (file:line or
// the environment variable), the key, and a fix.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { LineCounter, parseDocument, isMap, isSeq } from 'yaml';
import type { Document } from 'yaml';
import { Value } from '@sinclair/typebox/value';
import type { TSchema } from '@sinclair/typebox';
import { ConfigSchema } from './schema.ts';
import { dhcpUnknownClients } from './boot.ts';
import { suggest } from '../util/suggest.ts';
import type { Config } from './schema.ts';
import { ConfigError } from '../errors.ts';
import type { ConfigProblem } from '../errors.ts';

/** Config with every computed default filled in. */
export interface ResolvedConfig extends Config {
  state_dir: string;
  boot_root: string;
  database: Config['database'] & { url: string };
  /** Every interface with its mode (`dhcp.mode` when the entry gives none). */
  interfaces: { name: string; mode: 'proxy' | 'full' }[];
  dhcp: Config['dhcp'] & { unknown_clients: 'answer' | 'ignore' | 'register' };
  /** Where the config came from, for the readiness line and `config check`. */
  source: string;
}

export interface LoadOptions {
  file?: string | undefined;
  env?: Record<string, string | undefined>;
  /** Dotted key → value, from command-line flags (e.g. `log.level`). Applied after the environment. */
  overrides?: Record<string, unknown>;
  /** Extra interfaces from `--interface NAME[:mode]`. */
  interfaces?: string[];
  uid?: number;
  /** Checks the schema cannot express, by the layers that own the settings (the CLI passes configChecks from src/cli/config.ts). */
  checks?: readonly ConfigCheck[];
}

type Json = Record<string, unknown>;

interface Located {
  doc?: Document.Parsed;
  lines?: LineCounter;
  file?: string;
  origins: Map<string, string>; // dotted key → env var or flag that set it
}

export function loadConfig(opts: LoadOptions = {}): ResolvedConfig {
  const env = opts.env ?? process.env;
  const problems: ConfigProblem[] = [];
  const loc: Located = { origins: new Map() };
  let raw: Json = {};

  if (opts.file !== undefined) {
    let text: string;
    try {
      text = readFileSync(opts.file, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
      throw new ConfigError([
        {
          source: opts.file,
          key: '',
          message: code === 'ENOENT' ? 'file not found' : `cannot read the file (${code})`,
          fix: code === 'ENOENT' ? 'check the path, or leave out --config to run on the built-in defaults' : 'make the file readable by the user bootherd starts as',
        },
      ]);
    }
    const lines = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
    loc.doc = doc;
    loc.lines = lines;
    loc.file = opts.file;
    for (const e of doc.errors) {
      problems.push({
        source: opts.file,
        line: lines.linePos(e.pos[0]).line,
        key: '',
        message: `YAML syntax: ${e.message.split('\n')[0] ?? e.code}`,
        fix: e.code === 'DUPLICATE_KEY' ? 'keep one of the two keys' : 'correct the YAML at that line (indentation with spaces, "key: value")',
      });
    }
    if (problems.length > 0) throw new ConfigError(problems);
    const js: unknown = doc.toJS();
    if (js !== null && js !== undefined) {
      if (typeof js !== 'object' || Array.isArray(js)) {
        throw new ConfigError([{ source: opts.file, line: 1, key: '', message: 'the file is not a mapping of keys', fix: 'start with top-level keys such as "tftp:" or "interfaces:"' }]);
      }
      raw = js as Json;
    }
  }

  applyEnv(raw, env, loc, problems);
  for (const [key, value] of Object.entries(opts.overrides ?? {})) {
    if (value === undefined) continue;
    setPath(raw, key.split('.'), value);
    loc.origins.set(key, `--${key.split('.').pop()?.replace(/_/g, '-') ?? key}`);
  }
  for (const spec of opts.interfaces ?? []) {
    const list = Array.isArray(raw['interfaces']) ? (raw['interfaces'] as unknown[]) : [];
    list.push(interfaceSpec(spec));
    raw['interfaces'] = list;
    loc.origins.set(`interfaces[${list.length - 1}]`, '--interface');
  }

  applyDefaults(ConfigSchema, raw);
  validate(raw, loc, problems);
  if (problems.length === 0) runChecks(opts.checks ?? [], raw, loc, problems);
  if (problems.length > 0) throw new ConfigError(problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0)));

  const config = raw as unknown as Config;
  const uid = opts.uid ?? process.getuid?.() ?? 0;
  const stateDir = config.state_dir ?? defaultStateDir(uid, env);
  return {
    ...config,
    state_dir: stateDir,
    boot_root: config.boot_root ?? join(stateDir, 'boot'),
    database: { ...config.database, url: config.database.url ?? `sqlite:${join(stateDir, 'bootherd.db')}` },
    interfaces: config.interfaces.map((i) => ({ name: i.name, mode: i.mode ?? config.dhcp.mode })),
    dhcp: { ...config.dhcp, unknown_clients: config.dhcp.unknown_clients ?? dhcpUnknownClients(config.boot.unknown_hosts) },
    source: opts.file ?? 'built-in defaults',
  };
}

export function defaultStateDir(uid: number, env: Record<string, string | undefined>): string {
  if (uid === 0) return '/var/lib/bootherd';
  const base = env['XDG_STATE_HOME'] ?? join(env['HOME'] ?? homedir(), '.local', 'state');
  return join(base, 'bootherd');
}

// ---- environment -----------------------------------------------------------------------------

export interface EnvKey {
  name: string;
  path: string[];
  schema: TSchema;
}

/** Every scalar (or list-of-scalars) key of the schema, with the environment variable that sets it. */
export function envKeys(schema: TSchema = ConfigSchema, path: string[] = []): EnvKey[] {
  const out: EnvKey[] = [];
  if (schema['type'] === 'object' && schema['properties'] !== undefined) {
    for (const [k, sub] of Object.entries(schema['properties'] as Record<string, TSchema>)) {
      out.push(...envKeys(sub, [...path, k]));
    }
    return out;
  }
  if (schema['type'] === 'array' && (schema['items'] as TSchema)['type'] === 'object') {
    if (path.join('.') === 'interfaces') out.push({ name: 'BOOTHERD_INTERFACES', path, schema });
    return out;
  }
  out.push({ name: `BOOTHERD_${path.join('_').toUpperCase()}`, path, schema });
  return out;
}

function applyEnv(raw: Json, env: Record<string, string | undefined>, loc: Located, problems: ConfigProblem[]): void {
  const known = new Set<string>();
  for (const key of envKeys()) {
    known.add(key.name);
    const text = env[key.name];
    if (text === undefined || text === '') continue;
    const dotted = key.path.join('.');
    loc.origins.set(dotted, `env ${key.name}`);
    if (key.name === 'BOOTHERD_INTERFACES') {
      raw['interfaces'] = text.split(',').filter(Boolean).map((spec) => interfaceSpec(spec.trim()));
      continue;
    }
    setPath(raw, key.path, coerce(text, key.schema));
  }
  for (const name of Object.keys(env)) {
    if (name.startsWith('BOOTHERD_') && !known.has(name) && !NON_CONFIG_ENV.has(name)) {
      problems.push({ source: `env ${name}`, key: '', message: 'unknown setting', fix: suggest(name, [...known]) ?? 'unset it; docs/configuration.md lists the variables' });
    }
  }
}

/** `eth0` or `eth0:full` (from --interface or BOOTHERD_INTERFACES); without a mode, dhcp.mode applies. */
function interfaceSpec(spec: string): { name: string; mode?: string } {
  const [name = '', mode] = spec.split(':');
  return mode === undefined ? { name } : { name, mode };
}

/** BOOTHERD_* variables that are not configuration keys. */
const NON_CONFIG_ENV = new Set(['BOOTHERD_CONFIG', 'BOOTHERD_NODE']);

function coerce(text: string, schema: TSchema): unknown {
  const t = schema['type'] ?? (Array.isArray(schema['anyOf']) ? (schema['anyOf'] as TSchema[])[0]?.['type'] : undefined);
  if (t === 'integer' || t === 'number') {
    return /^-?\d+(\.\d+)?$/.test(text.trim()) ? Number(text) : text;
  }
  if (t === 'boolean') {
    const v = text.trim().toLowerCase();
    if (['1', 'true', 'yes', 'on'].includes(v)) return true;
    if (['0', 'false', 'no', 'off'].includes(v)) return false;
    return text;
  }
  if (t === 'array') return text.split(',').map((s) => s.trim()).filter(Boolean);
  return text;
}

function setPath(obj: Json, path: string[], value: unknown): void {
  let cur: Json = obj;
  for (const [i, k] of path.entries()) {
    if (i === path.length - 1) {
      cur[k] = value;
      return;
    }
    const next = cur[k];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) cur[k] = {};
    cur = cur[k] as Json;
  }
}

// ---- defaults --------------------------------------------------------------------------------

/** Fills in schema defaults (skipping computed ones, which depend on other keys). */
export function applyDefaults(schema: TSchema, value: unknown): void {
  if (schema['type'] === 'object' && typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const obj = value as Json;
    for (const [k, sub] of Object.entries((schema['properties'] ?? {}) as Record<string, TSchema>)) {
      if (obj[k] === undefined && sub['default'] !== undefined && sub['x-computed'] !== true) {
        obj[k] = structuredClone(sub['default']);
      }
      if (obj[k] !== undefined) applyDefaults(sub, obj[k]);
    }
  } else if (schema['type'] === 'array' && Array.isArray(value)) {
    for (const item of value) applyDefaults(schema['items'] as TSchema, item);
  }
}

// ---- validation ------------------------------------------------------------------------------

function validate(raw: Json, loc: Located, problems: ConfigProblem[]): void {
  const seen = new Set<string>();
  for (const e of Value.Errors(ConfigSchema, raw)) {
    const parts = e.path.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
    const key = dotted(parts);
    // A union failure reports once per branch; one line per key is enough.
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push({ ...where(parts, loc), key, ...explain(e.schema, e.message, e.value, parts) });
  }
  const ifaces = (raw['interfaces'] as { name?: unknown }[] | undefined) ?? [];
  const names = new Set<unknown>();
  ifaces.forEach((iface, i) => {
    if (names.has(iface.name)) {
      problems.push({ ...where(['interfaces', String(i), 'name'], loc), key: `interfaces[${i}].name`, message: `interface ${String(iface.name)} is listed twice`, fix: 'list each interface once' });
    }
    names.add(iface.name);
  });
}

/**
 * A problem a later layer finds in a config the schema accepted (src/dhcp/check.ts: pools inside
 * their subnet, reservations not shared, ...), placed at its file:line here. `key` is the dotted
 * path with [n] indexes, e.g. `dhcp.subnets[0].pools[1]`.
 */
export interface SemanticProblem {
  key: string;
  message: string;
  fix: string;
}

/** A check of the validated config, run after the schema passes (src/cli passes the servers' own checks). */
export type ConfigCheck = (config: Config) => SemanticProblem | undefined;

function runChecks(checks: readonly ConfigCheck[], raw: Json, loc: Located, problems: ConfigProblem[]): void {
  for (const check of checks) {
    const p = check(raw as unknown as Config);
    if (p === undefined) continue;
    const parts = p.key.replace(/\[(\d+)\]/g, '.$1').split('.').filter(Boolean);
    problems.push({ ...where(parts, loc), key: p.key, message: p.message, fix: p.fix });
  }
}

function dotted(parts: string[]): string {
  let out = '';
  for (const p of parts) out += /^\d+$/.test(p) ? `[${p}]` : out === '' ? p : `.${p}`;
  return out;
}

function where(parts: string[], loc: Located): { source: string; line?: number } {
  for (let n = parts.length; n >= 0; n--) {
    const origin = loc.origins.get(dotted(parts.slice(0, n)));
    if (origin !== undefined) return { source: origin };
  }
  if (loc.doc === undefined || loc.lines === undefined || loc.file === undefined) return { source: 'built-in defaults' };
  // The deepest node that exists in the file: for an unknown key, its key node; else the value.
  for (let n = parts.length; n > 0; n--) {
    const parentPath = parts.slice(0, n - 1).map((p) => (/^\d+$/.test(p) ? Number(p) : p));
    const parent = parentPath.length === 0 ? loc.doc.contents : loc.doc.getIn(parentPath, true);
    const last = parts[n - 1] ?? '';
    if (isMap(parent)) {
      const pair = parent.items.find((it) => (it.key as { value?: unknown } | null)?.value === last);
      const node = (pair?.key ?? undefined) as { range?: [number, number, number] } | undefined;
      if (node?.range !== undefined) return { source: loc.file, line: loc.lines.linePos(node.range[0]).line };
    } else if (isSeq(parent)) {
      const item = parent.items[Number(last)] as { range?: [number, number, number] } | undefined;
      if (item?.range !== undefined) return { source: loc.file, line: loc.lines.linePos(item.range[0]).line };
    }
  }
  return { source: loc.file, line: 1 };
}

function explain(schema: TSchema, message: string, value: unknown, parts: string[]): { message: string; fix: string } {
  const example = Array.isArray(schema['examples']) ? JSON.stringify(schema['examples'][0]) : undefined;
  if (message === 'Unexpected property') {
    const parent = schemaAt(ConfigSchema, parts.slice(0, -1));
    const allowed = Object.keys((parent?.['properties'] ?? {}) as Record<string, unknown>);
    const guess = suggest(parts[parts.length - 1] ?? '', allowed);
    return { message: 'unknown key', fix: guess ?? `remove it; allowed here: ${allowed.join(', ')}` };
  }
  if (message.startsWith('Expected required property')) {
    return { message: 'is required', fix: `add it${example !== undefined ? `, for example ${example}` : ''}` };
  }
  if (Array.isArray(schema['anyOf']) && (schema['anyOf'] as TSchema[]).every((s) => s['const'] !== undefined)) {
    const options = (schema['anyOf'] as TSchema[]).map((s) => String(s['const']));
    return { message: `${JSON.stringify(value)} is not allowed`, fix: `use one of: ${options.join(', ')}` };
  }
  if (typeof schema['minimum'] === 'number' && typeof value === 'number' && value < schema['minimum']) {
    return { message: `${value} is too small`, fix: `use a value from ${schema['minimum']}${typeof schema['maximum'] === 'number' ? ` to ${schema['maximum']}` : ' up'}` };
  }
  if (typeof schema['maximum'] === 'number' && typeof value === 'number' && value > schema['maximum']) {
    return { message: `${value} is too large`, fix: `use a value up to ${schema['maximum']}` };
  }
  const type = schema['type'];
  if (typeof type === 'string' && message.startsWith('Expected')) {
    const article = /^[aeiou]/.test(type) ? 'an' : 'a';
    return { message: `expected ${article} ${type}, got ${JSON.stringify(value)}`, fix: `write ${article} ${type}${example !== undefined ? `, for example ${example}` : ''}` };
  }
  return { message: message.toLowerCase(), fix: example !== undefined ? `for example ${example}` : 'see docs/configuration.md' };
}

function schemaAt(schema: TSchema, parts: string[]): TSchema | undefined {
  let cur: TSchema | undefined = schema;
  for (const p of parts) {
    if (cur === undefined) return undefined;
    cur = /^\d+$/.test(p) ? (cur['items'] as TSchema | undefined) : ((cur['properties'] as Record<string, TSchema> | undefined)?.[p]);
  }
  return cur;
}
