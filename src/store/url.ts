// Store URLs: which backend, where, and a form safe to print (no password).
//   sqlite:/abs/path.db, sqlite:///abs/path.db, /abs/path.db or ./rel.db  -> SQLite file
//   postgres://user:pw@host:5432/db, postgresql://..., postgres:///db?host=/run/postgresql -> PostgreSQL
import path from 'node:path';
import { StoreError } from './errors.ts';

export type StoreLocation =
  | { backend: 'sqlite'; file: string; display: string }
  | { backend: 'postgres'; connectionString: string; display: string };

const HINT = 'Use sqlite:/path/to/bootherd.db (or a plain file path) or postgres://user@host/dbname';

export function parseStoreUrl(url: string): StoreLocation {
  const u = url.trim();
  if (u === '') throw new StoreError('BH_STORE_URL', 'the store URL is empty', HINT);
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(u)?.[1]?.toLowerCase();
  if (scheme === undefined || /^[a-zA-Z]:[\\/]/.test(u)) {
    const file = path.resolve(u);
    return { backend: 'sqlite', file, display: `sqlite:${file}` };
  }
  if (scheme === 'sqlite' || scheme === 'file') {
    let rest = u.slice(scheme.length + 1);
    if (rest.startsWith('//')) {
      rest = rest.slice(2);
      // sqlite://host/path: only an empty host (or localhost) makes sense for a local file.
      const slash = rest.indexOf('/');
      const host = slash < 0 ? rest : rest.slice(0, slash);
      if (host !== '' && host !== 'localhost') {
        throw new StoreError('BH_STORE_URL', `SQLite URL "${u}" names a host (${host})`, 'An SQLite store is a local file: write sqlite:///abs/path.db (three slashes)');
      }
      rest = slash < 0 ? '' : rest.slice(slash);
    }
    rest = rest.split('?')[0] ?? '';
    if (rest === '') throw new StoreError('BH_STORE_URL', `SQLite URL "${u}" names no file`, HINT);
    const file = path.resolve(decodeURIComponent(rest));
    return { backend: 'sqlite', file, display: `sqlite:${file}` };
  }
  if (scheme === 'postgres' || scheme === 'postgresql') {
    let display: string;
    try {
      const parsed = new URL(u);
      if (parsed.password !== '') parsed.password = '';
      for (const key of ['password', 'sslpassword']) if (parsed.searchParams.has(key)) parsed.searchParams.set(key, '***');
      display = parsed.toString().replace(/^postgresql:/, 'postgres:');
    } catch (err) {
      throw new StoreError('BH_STORE_URL', `cannot parse the PostgreSQL URL (${(err as Error).message})`, 'Check the URL for unescaped characters: a password with @, / or : must be percent-encoded', { cause: err });
    }
    return { backend: 'postgres', connectionString: u, display };
  }
  throw new StoreError('BH_STORE_URL', `unknown store URL scheme "${scheme}:"`, HINT);
}
