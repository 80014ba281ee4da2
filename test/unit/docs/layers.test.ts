// The layer table in docs/architecture.md is the one the lint rule enforces: a row changed in one
// place and not the other fails here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { LAYERS } from '../../../scripts/eslint-layers.js';

const doc = readFileSync(new URL('../../../docs/architecture.md', import.meta.url), 'utf8');
const section = doc.slice(doc.indexOf('## Layers and what each may touch'), doc.indexOf('## One boot decision'));
const layers = LAYERS as Record<string, { may: string[]; types?: string[] }>;
const ALL_ABOVE = ['protocol', 'net', 'store', 'inventory', 'boot', 'files', 'dhcp', 'tftp', 'http', 'config', 'events', 'errors', 'util', 'log'];

/** folder → [may import, types only], from the document's table. */
function documented(): Map<string, [string[], string[]]> {
  const rows = new Map<string, [string[], string[]]>();
  for (const line of section.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    if (cells.length < 4 || !cells[1]!.startsWith('`src/')) continue;
    const folders = [...cells[1]!.matchAll(/`src\/([a-z]+)(?:\.ts)?`/g)].map((m) => m[1]!);
    const text = cells[3]!;
    let may: string[] = [];
    const types: string[] = [];
    if (text.startsWith('everything above')) may = text.includes('daemon') ? [...ALL_ABOVE, 'daemon'] : ALL_ABOVE;
    else if (text !== 'nothing') {
      for (const part of text.split(/[,;] */)) {
        const m = /^([a-z]+)( \(types only\))?$/.exec(part.trim());
        assert.ok(m, `cannot read "${part}" in the row of ${folders.join(', ')}`);
        (m[2] ? types : may).push(m[1]!);
      }
    }
    for (const f of folders) rows.set(f, [may, types]);
  }
  return rows;
}

test('docs/architecture.md and the lint rule give every folder the same imports', () => {
  const rows = documented();
  assert.deepEqual([...rows.keys()].sort(), Object.keys(layers).sort(), 'the same folders in both');
  for (const [folder, [may, types]] of rows) {
    assert.deepEqual([...may].sort(), [...layers[folder]!.may].sort(), `${folder}: may import`);
    assert.deepEqual([...types].sort(), [...(layers[folder]!.types ?? [])].sort(), `${folder}: types only`);
  }
});

test('every folder of src/ has a row', () => {
  const src = new URL('../../../src/', import.meta.url);
  const names = readdirSync(src, { withFileTypes: true }).filter((d) => d.isDirectory() || d.name.endsWith('.ts')).map((d) => d.name.replace(/\.ts$/, ''));
  for (const n of names) assert.ok(n in layers, `src/${n} has no row in the layer table`);
});
