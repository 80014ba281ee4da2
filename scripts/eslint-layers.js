// The layer rule: a folder of src/ imports only the folders its row of the layer table allows
// (docs/architecture.md, "Layers and what each may touch"; test/unit/docs/layers.test.ts checks
// that the document and this table agree). `npm run lint` fails on any other import.
import { dirname, relative, resolve, sep } from 'node:path';

/** Folder (or top-level file, without .ts) → what it may import. `types` may be imported with `import type` only. */
export const LAYERS = {
  errors: { may: [] },
  util: { may: [] },
  protocol: { may: ['errors', 'util'] },
  log: { may: ['errors', 'util'] },
  events: { may: ['errors', 'util', 'log'] },
  net: { may: ['protocol', 'errors', 'util', 'log'] },
  store: { may: ['errors', 'util', 'log', 'events'] },
  files: { may: ['errors', 'util', 'log'] },
  config: { may: ['errors', 'util'] },
  inventory: { may: ['store', 'errors', 'util', 'log'], types: ['config'] },
  boot: { may: ['inventory', 'store', 'files', 'events', 'errors', 'util', 'log'], types: ['config'] },
  dhcp: { may: ['protocol', 'net', 'boot', 'files', 'store', 'events', 'errors', 'util', 'log'], types: ['config'] },
  tftp: { may: ['protocol', 'net', 'boot', 'files', 'store', 'events', 'errors', 'util', 'log'], types: ['config'] },
  http: { may: ['protocol', 'net', 'boot', 'files', 'store', 'events', 'errors', 'util', 'log'], types: ['config'] },
  daemon: { may: ['protocol', 'net', 'store', 'inventory', 'boot', 'files', 'dhcp', 'tftp', 'http', 'config', 'events', 'errors', 'util', 'log'] },
  cli: { may: ['protocol', 'net', 'store', 'inventory', 'boot', 'files', 'dhcp', 'tftp', 'http', 'config', 'daemon', 'events', 'errors', 'util', 'log'] },
};

const SRC = resolve(dirname(new URL(import.meta.url).pathname), '..', 'src');

/** The layer of a path inside src/ (`boot` for src/boot/x.ts, `errors` for src/errors.ts), or undefined outside src/. */
function layerOf(file) {
  const rel = relative(SRC, file);
  if (rel.startsWith('..') || rel === '') return undefined;
  const first = rel.split(sep)[0];
  return first.endsWith('.ts') ? first.slice(0, -3) : first;
}

function typeOnly(node) {
  if (node.importKind === 'type' || node.exportKind === 'type') return true;
  const specs = node.specifiers ?? [];
  return specs.length > 0 && specs.every((s) => s.importKind === 'type' || s.exportKind === 'type');
}

const rule = {
  meta: { type: 'problem', schema: [], messages: { layer: "src/{{from}} may not import src/{{to}}: the layer table (docs/architecture.md) allows {{allowed}}" } },
  create(context) {
    const file = context.filename;
    const from = layerOf(file);
    if (from === undefined) return {};
    const check = (node) => {
      const spec = node.source?.value;
      if (typeof spec !== 'string' || !spec.startsWith('.')) return;
      const to = layerOf(resolve(dirname(file), spec));
      if (to === from) return;
      const row = LAYERS[from];
      const ok = row !== undefined && to !== undefined && (row.may.includes(to) || (typeOnly(node) && (row.types ?? []).includes(to)));
      if (ok) return;
      const allowed = row === undefined ? 'nothing (this folder has no row: add one)' : [...row.may, ...(row.types ?? []).map((t) => `${t} (types only)`)].join(', ') || 'nothing';
      context.report({ node: node.source, messageId: 'layer', data: { from, to: to ?? spec, allowed } });
    };
    return { ImportDeclaration: check, ExportNamedDeclaration: check, ExportAllDeclaration: check, ImportExpression: (n) => check({ source: n.source }) };
  },
};

export default { rules: { layers: rule } };
