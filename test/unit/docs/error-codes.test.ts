// Every error code bootherd can print (BH_<AREA>_<WHAT>) has a row in docs/troubleshooting.md, and the doc
// names no code that src no longer has. Codes are read from the sources with the TypeScript parser:
// string literals, template pieces and identifiers (object keys such as `BH_DHCP_TRUNCATED: 'truncated'`),
// never comments. A code built in a template (`BH_${what}_BIND`) is expanded from the values its
// expression can take: a parameter's string-literal union type, the string literals passed at every call
// site of the enclosing function, or a string constant. When that is not possible, the test fails and
// asks for an entry in MANUAL_EXPANSIONS below.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

const ROOT = new URL('../../../', import.meta.url).pathname;
const DOC = 'docs/troubleshooting.md';

/** A code: BH_, then words of capitals and digits joined by single underscores. */
const CODE = /BH_[A-Z0-9]+(?:_[A-Z0-9]+)*/g;

/**
 * Templates whose values the test cannot derive, keyed by `path: template as written`, e.g.
 * `'src/x.ts: BH_${area}_FAILED': ['BH_DHCP_FAILED', 'BH_TFTP_FAILED']`. Fill it in by reading the code.
 */
const MANUAL_EXPANSIONS: Record<string, readonly string[]> = {};

interface SourceFile {
  path: string;
  text: string;
}

interface Found {
  code: string;
  where: string;
}

interface Collected {
  codes: Map<string, string[]>;
  /** Templates that build a code from values the collector could not resolve. */
  unresolved: string[];
}

function codesIn(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(CODE)) {
    // A prefix used to build codes (`BH_DHCP_` + something) is not a code.
    if (text[m.index + m[0].length] === '_') continue;
    out.push(m[0]);
  }
  return out;
}

/** A piece of a built string: literal text, or an expression whose value is spliced in. */
type Part = string | ts.Expression;

function isConcatenation(node: ts.Node): node is ts.BinaryExpression {
  return ts.isBinaryExpression(node) && node.operatorToken.kind === ts.SyntaxKind.PlusToken;
}

function flattenConcatenation(node: ts.Expression): Part[] {
  if (isConcatenation(node)) return [...flattenConcatenation(node.left), ...flattenConcatenation(node.right)];
  const text = stringValue(node);
  return [text ?? node];
}

type FunctionLike = ts.FunctionDeclaration | ts.MethodDeclaration | ts.ArrowFunction | ts.FunctionExpression;

function functionName(fn: FunctionLike): string | undefined {
  if (fn.name !== undefined && (ts.isIdentifier(fn.name) || ts.isPrivateIdentifier(fn.name))) return fn.name.text;
  const parent = fn.parent;
  if (ts.isVariableDeclaration(parent) && ts.isIdentifier(parent.name)) return parent.name.text;
  if (ts.isPropertyAssignment(parent) && ts.isIdentifier(parent.name)) return parent.name.text;
  if (ts.isPropertyDeclaration(parent) && ts.isIdentifier(parent.name)) return parent.name.text;
  return undefined;
}

function stringValue(node: ts.Node | undefined): string | undefined {
  if (node === undefined) return undefined;
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return node.text;
  if (ts.isParenthesizedExpression(node) || ts.isAsExpression(node) || ts.isSatisfiesExpression(node)) return stringValue(node.expression);
  return undefined;
}

function literalUnion(type: ts.TypeNode | undefined): string[] | undefined {
  if (type === undefined) return undefined;
  const parts = ts.isUnionTypeNode(type) ? [...type.types] : [type];
  const values: string[] = [];
  for (const part of parts) {
    if (!ts.isLiteralTypeNode(part)) return undefined;
    const v = stringValue(part.literal);
    if (v === undefined) return undefined;
    values.push(v);
  }
  return values;
}

/** Collects every code in the given TypeScript sources. */
function collectCodes(files: readonly SourceFile[], manual: Record<string, readonly string[]> = {}): Collected {
  const parsed = files.map((f) => ({ path: f.path, sf: ts.createSourceFile(f.path, f.text, ts.ScriptTarget.ES2024, true, ts.ScriptKind.TS) }));
  const codes = new Map<string, string[]>();
  const unresolved: string[] = [];
  const add = (code: string, where: string): void => {
    const list = codes.get(code) ?? [];
    list.push(where);
    codes.set(code, list);
  };

  // Every call, by the name of what is called: `f(...)` and `x.f(...)`.
  const calls = new Map<string, ts.CallExpression[]>();
  for (const { sf } of parsed) {
    const visit = (node: ts.Node): void => {
      if (ts.isCallExpression(node)) {
        const callee = node.expression;
        const name = ts.isIdentifier(callee) ? callee.text : ts.isPropertyAccessExpression(callee) ? callee.name.text : undefined;
        if (name !== undefined) calls.set(name, [...(calls.get(name) ?? []), node]);
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }

  /** The strings an expression inside a template can be, or undefined when the collector cannot tell. */
  const valuesOf = (expr: ts.Expression, sf: ts.SourceFile): string[] | undefined => {
    const direct = stringValue(expr);
    if (direct !== undefined) return [direct];
    if (!ts.isIdentifier(expr)) return undefined;
    // A parameter of the enclosing function?
    for (let n: ts.Node = expr.parent; !ts.isSourceFile(n); n = n.parent) {
      if (ts.isFunctionDeclaration(n) || ts.isMethodDeclaration(n) || ts.isArrowFunction(n) || ts.isFunctionExpression(n)) {
        const index = n.parameters.findIndex((p) => ts.isIdentifier(p.name) && p.name.text === expr.text);
        if (index < 0) continue;
        const fromType = literalUnion(n.parameters[index]?.type);
        if (fromType !== undefined) return fromType;
        const name = functionName(n);
        const sites = name === undefined ? [] : (calls.get(name) ?? []);
        if (sites.length === 0) return undefined;
        const values: string[] = [];
        for (const call of sites) {
          const v = stringValue(call.arguments[index]);
          if (v === undefined) return undefined;
          values.push(v);
        }
        return values;
      }
    }
    // A string constant in the same file?
    let constant: string[] | undefined;
    const find = (node: ts.Node): void => {
      if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && node.name.text === expr.text && ts.isVariableDeclarationList(node.parent) && (node.parent.flags & ts.NodeFlags.Const) !== 0) {
        const v = stringValue(node.initializer);
        constant = v === undefined ? literalUnion(node.type) : [v];
      }
      ts.forEachChild(node, find);
    };
    find(sf);
    return constant;
  };

  for (const { path, sf } of parsed) {
    const where = (node: ts.Node): string => `${path}:${sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1}`;
    /** Codes in literal pieces, and codes built from the expressions between them. */
    const built = (parts: readonly Part[], node: ts.Node, literalsToo = true): void => {
      const exprs: ts.Expression[] = [];
      let rendered = '';
      for (const part of parts) {
        if (typeof part === 'string') {
          // Each literal piece on its own, so that `BH_${x}_BIND` does not yield a code from `_BIND`.
          if (literalsToo) for (const code of codesIn(part)) add(code, where(node));
          rendered += part;
        } else {
          rendered += `\uE000${exprs.length}\uE000`;
          exprs.push(part);
        }
      }
      // Render with placeholders and look for BH_ followed by one.
      for (const m of rendered.matchAll(/BH_(?:[A-Z0-9_]|\uE000\d+\uE000)*/g)) {
        const code = m[0];
        if (!code.includes('\uE000')) continue;
        const asWritten = code.replace(/\uE000(\d+)\uE000/g, (_, i: string) => `\${${exprs[Number(i)]!.getText(sf)}}`);
        const manualValues = manual[`${path}: ${asWritten}`];
        if (manualValues !== undefined) {
          for (const c of manualValues) add(c, `${where(node)} (MANUAL_EXPANSIONS)`);
          continue;
        }
        let expansions = [code];
        let ok = true;
        for (const [i, expr] of exprs.entries()) {
          const slot = `\uE000${i}\uE000`;
          if (!code.includes(slot)) continue;
          const values = valuesOf(expr, sf);
          if (values === undefined) {
            ok = false;
            break;
          }
          expansions = expansions.flatMap((e) => values.map((v) => e.replace(slot, v)));
        }
        if (!ok) {
          unresolved.push(`${where(node)}: ${asWritten}`);
          continue;
        }
        for (const e of expansions) {
          if (/^BH_[A-Z0-9]+(?:_[A-Z0-9]+)*$/.test(e)) add(e, `${where(node)} (${asWritten})`);
          else unresolved.push(`${where(node)}: ${asWritten} gives "${e}", which is not a code`);
        }
      }
    };
    const visit = (node: ts.Node): void => {
      if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node) || ts.isIdentifier(node) || ts.isPrivateIdentifier(node)) {
        for (const code of codesIn(node.text)) add(code, where(node));
      } else if (ts.isTemplateExpression(node)) {
        const parts: Part[] = [node.head.text];
        for (const span of node.templateSpans) parts.push(span.expression, span.literal.text);
        built(parts, node);
      } else if (isConcatenation(node) && !isConcatenation(node.parent)) {
        // 'BH_' + what + '_BIND': the literals are visited as nodes of their own; only the built codes here.
        built(flattenConcatenation(node), node, false);
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  return { codes, unresolved };
}

function sourcesUnder(dir: string): SourceFile[] {
  const out: SourceFile[] = [];
  for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts') || entry.name.endsWith('.d.ts')) continue;
    const full = join(entry.parentPath, entry.name);
    out.push({ path: relative(ROOT, full), text: readFileSync(full, 'utf8') });
  }
  return out.sort((a, b) => a.path.localeCompare(b.path));
}

interface DocRow {
  line: number;
  codes: string[];
  cells: string[];
}

/** Table rows of the doc whose first cell names codes, and every code mentioned anywhere in it. */
function readDoc(text: string): { rows: DocRow[]; mentioned: Found[] } {
  const rows: DocRow[] = [];
  const mentioned: Found[] = [];
  text.split('\n').forEach((line, i) => {
    for (const code of codesIn(line)) mentioned.push({ code, where: `${DOC}:${i + 1}` });
    if (!line.startsWith('|')) return;
    const cells = line
      .slice(1, line.trimEnd().endsWith('|') ? line.trimEnd().length - 1 : undefined)
      .split(/(?<!\\)\|/)
      .map((c) => c.trim());
    const codes = codesIn(cells[0] ?? '');
    if (codes.length > 0) rows.push({ line: i + 1, codes, cells });
  });
  return { rows, mentioned };
}

test('the collector finds literals, object keys and built codes, and skips prefixes and comments', () => {
  const files: SourceFile[] = [
    {
      path: 'a.ts',
      text: [
        "// BH_ONLY_IN_A_COMMENT",
        "const reasons = { BH_A_KEY: 'key' };",
        "throw new E('BH_A_LITERAL', `x`);",
        "const prefix = 'BH_A_';",
        "function store(what: 'OPEN' | 'CLOSED') { return 'BH_DB_' + what; }",
        "export function bind(port: number, what: string) { return `BH_${what}_BIND`; }",
        "function kind(k: 'POOL' | 'SUBNET') { return `BH_CFG_${k}`; }",
        "const AREA = 'STORE';",
        "const c = `BH_${AREA}_OPEN`;",
      ].join('\n'),
    },
    { path: 'b.ts', text: "bind(69, 'TFTP'); server.bind(80, 'HTTP');" },
  ];
  const { codes, unresolved } = collectCodes(files);
  assert.deepEqual([...codes.keys()].sort(), ['BH_A_KEY', 'BH_A_LITERAL', 'BH_CFG_POOL', 'BH_CFG_SUBNET', 'BH_DB_CLOSED', 'BH_DB_OPEN', 'BH_HTTP_BIND', 'BH_STORE_OPEN', 'BH_TFTP_BIND']);
  assert.deepEqual(unresolved, []);

  const opaque: SourceFile[] = [{ path: 'c.ts', text: 'function f(x: string) { return `BH_${x.toUpperCase()}_FAILED`; }' }];
  assert.equal(collectCodes(opaque).unresolved.length, 1, 'a code built from an expression the collector cannot follow is reported');
  assert.deepEqual([...collectCodes(opaque, { 'c.ts: BH_${x.toUpperCase()}_FAILED': ['BH_X_FAILED'] }).codes.keys()], ['BH_X_FAILED']);
  const nonLiteralCaller: SourceFile[] = [{ path: 'd.ts', text: 'function g(w: string) { return `BH_${w}_X`; }\ng(name);' }];
  assert.equal(collectCodes(nonLiteralCaller).unresolved.length, 1, 'a call site that passes a variable is reported');
});

test(`every error code in src/ has a row in ${DOC}, and the doc names no code src no longer has`, () => {
  const { codes, unresolved } = collectCodes(sourcesUnder('src'), MANUAL_EXPANSIONS);
  assert.deepEqual(
    unresolved,
    [],
    `these templates build error codes from values the test cannot follow; read the code and list every value in MANUAL_EXPANSIONS in test/unit/docs/error-codes.test.ts:\n  ${unresolved.join('\n  ')}`,
  );
  assert.ok(codes.size > 0, 'no codes found under src/: is the collector broken?');

  const { rows, mentioned } = readDoc(readFileSync(join(ROOT, DOC), 'utf8'));
  const documented = new Map<string, DocRow>();
  const duplicated: string[] = [];
  for (const row of rows) {
    for (const code of row.codes) {
      if (documented.has(code)) duplicated.push(`${code} (${DOC}:${documented.get(code)!.line} and :${row.line})`);
      documented.set(code, row);
    }
  }

  const missing = [...codes.keys()].filter((c) => !documented.has(c)).sort();
  assert.deepEqual(
    missing.map((c) => `${c}  (raised at ${codes.get(c)!.join(', ')})`),
    [],
    `add a row "| \`CODE\` | what happened | what to do |" to ${DOC} for each of these codes, in its area's table (read the hint where it is raised):`,
  );

  const stale = mentioned.filter((m) => !codes.has(m.code)).map((m) => `${m.code}  (${m.where})`);
  assert.deepEqual(stale, [], `${DOC} names codes that no longer exist in src/: remove them or correct the spelling`);

  assert.deepEqual(duplicated, [], `${DOC} has more than one row for these codes: keep one`);

  const incomplete = rows.filter((r) => r.cells.length < 3 || r.cells.slice(1, 3).some((c) => c === '')).map((r) => `${DOC}:${r.line} (${r.codes.join(', ')})`);
  assert.deepEqual(incomplete, [], `these rows lack "what happened" or "what to do": fill both cells`);
});
