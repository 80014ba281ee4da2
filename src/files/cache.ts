// The hot-file cache: whole files read once and shared by every transfer, keyed by the file's
// identity and invalidated when it changes (dev, ino, size, mtime or ctime differ). Bounded in
// octets; least recently used files go first. Concurrent loads of one file share one read.
import type { Stats } from 'node:fs';

interface Entry {
  key: string;
  stamp: string;
  data: Buffer;
}

export interface CacheStats {
  hits: number;
  misses: number;
  evictions: number;
  bytes: number;
  files: number;
}

function identity(st: Stats): { key: string; stamp: string } {
  return { key: `${st.dev}:${st.ino}`, stamp: `${st.size}:${st.mtimeMs}:${st.ctimeMs}` };
}

export class FileCache {
  readonly capacity: number;
  private readonly entries = new Map<string, Entry>();
  private readonly loading = new Map<string, Promise<Buffer>>();
  private bytes = 0;
  private hits = 0;
  private misses = 0;
  private evictions = 0;

  constructor(capacityBytes: number) {
    this.capacity = Math.max(0, capacityBytes);
  }

  /** The cached content if the file is unchanged since it was read. */
  get(st: Stats): Buffer | undefined {
    const { key, stamp } = identity(st);
    const e = this.entries.get(key);
    if (e === undefined) return undefined;
    if (e.stamp !== stamp) {
      this.drop(e);
      return undefined;
    }
    this.entries.delete(key);
    this.entries.set(key, e);
    this.hits++;
    return e.data;
  }

  /** Returns the cached content, or runs `read` once (shared by concurrent callers) and keeps the result if it fits. */
  async load(st: Stats, read: () => Promise<Buffer>): Promise<Buffer> {
    const cached = this.get(st);
    if (cached !== undefined) return cached;
    const { key, stamp } = identity(st);
    const lk = `${key}@${stamp}`;
    const pending = this.loading.get(lk);
    if (pending !== undefined) return pending;
    this.misses++;
    const p = read().then(
      (data) => {
        this.loading.delete(lk);
        if (data.length === st.size) this.put({ key, stamp, data });
        return data;
      },
      (err: unknown) => {
        this.loading.delete(lk);
        throw err;
      },
    );
    this.loading.set(lk, p);
    return p;
  }

  private put(e: Entry): void {
    if (e.data.length > this.capacity) return;
    const old = this.entries.get(e.key);
    if (old !== undefined) this.drop(old);
    while (this.bytes + e.data.length > this.capacity) {
      const oldest = this.entries.values().next().value;
      if (oldest === undefined) break;
      this.drop(oldest);
      this.evictions++;
    }
    this.entries.set(e.key, e);
    this.bytes += e.data.length;
  }

  private drop(e: Entry): void {
    if (this.entries.get(e.key) === e) {
      this.entries.delete(e.key);
      this.bytes -= e.data.length;
    }
  }

  clear(): void {
    this.entries.clear();
    this.bytes = 0;
  }

  stats(): CacheStats {
    return { hits: this.hits, misses: this.misses, evictions: this.evictions, bytes: this.bytes, files: this.entries.size };
  }
}
