// src/errors.ts is the one list of error codes (BH_<AREA>_<WHAT>). This test holds src/ and
// docs/troubleshooting.md to it: every code src/ uses is listed and every listed code is used; no
// code is built from pieces (`BH_${what}_BIND`), which no scan could follow; and the doc has one
// row per listed code whose cells say what the list says, and names no other code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ERRORS } from '../../../src/errors.ts';
import type { ErrorCode, ErrorInfo } from '../../../src/errors.ts';

const ROOT = new URL('../../../', import.meta.url).pathname;
const LIST = 'src/errors.ts';
const DOC = 'docs/troubleshooting.md';
const HEADER = '| code | result | what happened | what to do |';

/** BH_, then words of capitals and digits joined by single underscores. */
const CODE = /^BH_[A-Z0-9]+(?:_[A-Z0-9]+)*$/;
/** Anything that starts like a code; a token ending in `_` (or followed by `${`) is a piece of one. */
const TOKEN = /BH_[A-Z0-9_]*/g;

interface Scan {
  /** Code → where it is used (`path:line`). */
  codes: Map<string, string[]>;
  /** Places that build a code from pieces. */
  built: string[];
}

/** The codes in TypeScript sources: in strings, template text and object keys; not in comments. */
function scan(files: readonly { path: string; text: string }[]): Scan {
  const codes = new Map<string, string[]>();
  const built: string[] = [];
  for (const { path, text } of files) {
    text.split('\n').forEach((line, i) => {
      const t = line.trimStart();
      if (t.startsWith('//') || t.startsWith('*') || t.startsWith('/*')) return;
      for (const m of line.matchAll(TOKEN)) {
        const where = `${path}:${i + 1}`;
        const after = m.index + m[0].length;
        if (CODE.test(m[0]) && !line.startsWith('${', after)) codes.set(m[0], [...(codes.get(m[0]) ?? []), where]);
        // A type that picks an area's codes out of the list (`Extract<ErrorCode, \`BH_NET_${string}\`>`) builds none.
        else if (!(m[0].endsWith('_') && line.startsWith('${string}`', after))) built.push(`${where}: ${line.trim().slice(0, 120)}`);
      }
    });
  }
  return { codes, built };
}

function sources(): { path: string; text: string }[] {
  const out: { path: string; text: string }[] = [];
  for (const entry of readdirSync(join(ROOT, 'src'), { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
    const path = relative(ROOT, join(entry.parentPath, entry.name));
    const text = readFileSync(join(ROOT, path), 'utf8');
    // The list's own entries are not uses; the code after it (ConfigError raising BH_CONFIG_INVALID) is.
    out.push({ path, text: path === LIST ? text.replace(/^export const ERRORS = \{[\s\S]*?^\} as const satisfies[^\n]*\n/m, '') : text });
  }
  return out.sort((a, b) => a.path.localeCompare(b.path));
}

/** A table cell as the doc writes it: `|` escaped. */
const cell = (s: string): string => s.replace(/\|/g, '\\|');
const row = (code: string, e: ErrorInfo): string => `| \`${code}\` | ${e.answer.join(', ')} | ${cell(e.message)} | ${cell(e.hint)} |`;

interface DocRow {
  line: number;
  text: string;
  code: string;
  header: string | undefined;
}

/** The doc's rows whose first cell names a code (with the header of their table), and every code it mentions anywhere. */
function readDoc(text: string): { rows: DocRow[]; mentioned: { code: string; where: string }[] } {
  const rows: DocRow[] = [];
  const mentioned: { code: string; where: string }[] = [];
  let header: string | undefined;
  text.split('\n').forEach((line, i) => {
    for (const m of line.matchAll(TOKEN)) if (CODE.test(m[0])) mentioned.push({ code: m[0], where: `${DOC}:${i + 1}` });
    if (!line.startsWith('|')) {
      header = undefined;
      return;
    }
    const first = /^\|\s*`(BH_[A-Z0-9_]+)`\s*\|/.exec(line);
    if (first !== null) rows.push({ line: i + 1, text: line.trimEnd(), code: first[1]!, header });
    else if (header === undefined) header = line.trim();
  });
  return { rows, mentioned };
}

test('the scan finds codes in strings, templates and object keys, skips comments, and reports codes built from pieces', () => {
  const { codes, built } = scan([
    {
      path: 'a.ts',
      text: [
        '// BH_ONLY_IN_A_COMMENT',
        ' * BH_IN_A_DOC_COMMENT',
        "const reasons = { BH_A_KEY: 'key' };",
        "throw new E('BH_A_LITERAL', `x`);",
        "log.warn({ code: err.code }, 'BH_A_IN_TEXT: something failed');",
        "const prefix = 'BH_A_' + what;",
        'const bind = `BH_${what}_BIND`;',
        'const open = `BH_STORE_${what}`;',
        'const tail = `BH_A${n}`;',
        'type NetCode = Extract<ErrorCode, `BH_NET_${string}`>;',
      ].join('\n'),
    },
  ]);
  assert.deepEqual([...codes.keys()].sort(), ['BH_A_IN_TEXT', 'BH_A_KEY', 'BH_A_LITERAL']);
  assert.deepEqual(codes.get('BH_A_KEY'), ['a.ts:3']);
  assert.equal(built.length, 4, built.join('\n'));
});

test(`every entry of ${LIST} is a well-formed code with what happened, what to do, and one result per kind`, () => {
  const bad: string[] = [];
  for (const [code, e] of Object.entries(ERRORS) as [ErrorCode, ErrorInfo][]) {
    if (!CODE.test(code)) bad.push(`${code}: not BH_<AREA>_<WHAT>`);
    if (e.message.trim() === '' || e.hint.trim() === '') bad.push(`${code}: the message and the hint must both say something`);
    if (e.answer.length === 0) bad.push(`${code}: give at least one result`);
    if (new Set(e.answer).size !== e.answer.length) bad.push(`${code}: a result is listed twice`);
    if (e.answer.filter((a) => a.startsWith('exit ')).length > 1) bad.push(`${code}: one code has one exit status`);
  }
  assert.deepEqual(bad, []);
});

test(`${LIST} imports nothing, so that every layer may import it`, () => {
  assert.doesNotMatch(readFileSync(join(ROOT, LIST), 'utf8'), /^\s*(import|export \S+ from)\b|\bimport\(|\brequire\(/m);
});

test(`src/ uses exactly the codes of ${LIST}, each written out whole`, () => {
  const { codes, built } = scan(sources());
  assert.ok(codes.size > 50, `only ${codes.size} codes found under src/: is the scan broken?`);
  assert.deepEqual(built, [], `these lines build a code from pieces; write each code out (e.g. a map { TFTP: 'BH_TFTP_BIND' }) so that it can be checked:`);
  const listed = new Set(Object.keys(ERRORS));
  const unlisted = [...codes].filter(([c]) => !listed.has(c)).map(([c, where]) => `${c}  (used at ${where.join(', ')})`);
  assert.deepEqual(unlisted, [], `add these codes to ${LIST}, with what happened, what to do and the result, and a row to ${DOC}:`);
  const unused = [...listed].filter((c) => !codes.has(c));
  assert.deepEqual(unused, [], `nothing in src/ uses these codes: remove them from ${LIST} and their rows from ${DOC}`);
});

test(`${DOC} has one row per code of ${LIST}, saying what the list says, and names no other code`, () => {
  const { rows, mentioned } = readDoc(readFileSync(join(ROOT, DOC), 'utf8'));
  const entries = ERRORS as Record<string, ErrorInfo>;

  const stale = mentioned.filter((m) => entries[m.code] === undefined).map((m) => `${m.code}  (${m.where})`);
  assert.deepEqual(stale, [], `${DOC} names codes that ${LIST} does not have: remove them or correct the spelling`);

  const seen = new Map<string, number>();
  const duplicated: string[] = [];
  for (const r of rows) {
    if (seen.has(r.code)) duplicated.push(`${r.code} (${DOC}:${seen.get(r.code)} and :${r.line})`);
    seen.set(r.code, r.line);
  }
  assert.deepEqual(duplicated, [], `${DOC} has more than one row for these codes: keep one`);

  const missing = Object.entries(entries).filter(([code]) => !seen.has(code)).map(([code, e]) => row(code, e));
  assert.deepEqual(missing, [], `add these rows to ${DOC}, each in its area's table:`);

  const badTable = rows.filter((r) => r.header !== HEADER).map((r) => `${DOC}:${r.line} (${r.code}) is in a table whose header is not "${HEADER}"`);
  assert.deepEqual(badTable, []);

  const differ = rows.filter((r) => entries[r.code] !== undefined && r.text !== row(r.code, entries[r.code]!));
  assert.deepEqual(
    differ.map((r) => `${DOC}:${r.line}\n  doc:  ${r.text}\n  list: ${row(r.code, entries[r.code]!)}`),
    [],
    `these rows differ from ${LIST}: change the one that is wrong, so that both read the same`,
  );
});
