// The one root-jailed file resolver for TFTP and HTTP (SECURITY.md §0 item 4, TM-05/06/07).
//
// open(name): normalise (paths.ts) → generated files first → realpath of root/name must lie inside
// the root (symlinks inside the root are fine, any that leave it are refused before anything is
// opened) → lstat must be a regular, world-readable file (no directories, FIFOs or devices are
// ever opened) → hot files come from the cache when (dev, ino, size, mtime, ctime) still match →
// otherwise open(O_RDONLY|O_NOFOLLOW|O_NONBLOCK), fstat must be the same regular file, and the
// realpath of /proc/self/fd/N must still be inside the root (closes the check-then-open race).
// Every refusal is a FileError whose publicMessage is fixed and names no server path.
//
// Verified paths (optional, `verifyTtlMs` > 0; HTTP turns it on): a name that passed all of the
// above is trusted for `verifyTtlMs` without asking the filesystem again. Within that window:
// - a hot file is answered from memory with the content that was read through the verified
//   descriptor, so a symlink swapped to point outside the root is never followed: the worst case
//   is the old (inside) content, or a file deleted or changed on disk, for up to the window;
// - any other file is still opened with O_NOFOLLOW, and its descriptor is re-verified (fstat: the
//   same regular file; /proc/self/fd/N: inside the root) on every open.
// Only successes are remembered (a 404 flood of distinct names adds nothing), and at most
// `verifyMaxEntries` names (the oldest go first).
import { constants, promises as fsp, createReadStream, realpathSync } from 'node:fs';
import type { Stats } from 'node:fs';
import { Readable } from 'node:stream';
import { FileError, quoteName } from './errors.ts';
import { FileCache } from './cache.ts';
import { normalizeRequestPath } from './paths.ts';
import type { GeneratedFiles } from './registry.ts';

export interface OpenFile {
  /** Normalised root-relative path. */
  readonly path: string;
  readonly size: number;
  readonly mtime: Date;
  /** True for content from the generated-file registry. */
  readonly generated: boolean;
  /** The whole content when it is held in memory (cache or registry): share it, never modify it. */
  readonly data: Buffer | undefined;
  /** Reads up to `length` octets at `position` (fewer at the end of the file). */
  read(position: number, length: number, target?: Buffer): Promise<Buffer>;
  /** A stream of octets start..end inclusive (like fs.createReadStream). */
  stream(start?: number, end?: number): Readable;
  /** Releases the descriptor, if one is held. Idempotent. */
  close(): Promise<void>;
}

export interface ResolverOptions {
  root: string;
  registry?: GeneratedFiles;
  /** Total octets of hot files kept in memory (default 256 MiB; 0 disables the cache). */
  cacheBytes?: number;
  /** Files larger than this are never cached (default 64 MiB). */
  cacheMaxFileBytes?: number;
  /** Refuse files that are not world-readable, like tftp-hpa (default true). */
  requireWorldReadable?: boolean;
  /**
   * How long (ms) a name that passed every check is trusted without touching the filesystem
   * (realpath + lstat); see the window this opens at the top of this file. Default 0: every open
   * checks the path again.
   */
  verifyTtlMs?: number;
  /** Names remembered as verified at most (default 4096). */
  verifyMaxEntries?: number;
  /** Clock for the verified-path window (tests). */
  now?: () => number;
}

interface Verified {
  /** The resolved path inside the root. */
  readonly real: string;
  /** The verified file's identity (dev, ino, size, mtime, ctime) as the hot-file cache keys it. */
  st: Stats;
  readonly expires: number;
}

const OPEN_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

export class FileResolver {
  readonly root: string;
  readonly cache: FileCache;
  private readonly registry: GeneratedFiles | undefined;
  private readonly requireWorldReadable: boolean;
  private readonly cacheMaxFileBytes: number;
  private readonly verifyTtlMs: number;
  private readonly verifyMax: number;
  private readonly now: () => number;
  private readonly verified = new Map<string, Verified>();

  constructor(opts: ResolverOptions) {
    let root: string;
    try {
      root = realpathSync(opts.root);
    } catch {
      throw new FileError('BH_FILES_BAD_ROOT', 'denied', `the file root ${quoteName(opts.root)} does not exist or cannot be read: create it or fix the configured root`);
    }
    this.root = root === '/' ? '' : root;
    this.registry = opts.registry;
    this.requireWorldReadable = opts.requireWorldReadable ?? true;
    this.cacheMaxFileBytes = opts.cacheMaxFileBytes ?? 64 * 1024 * 1024;
    this.cache = new FileCache(opts.cacheBytes ?? 256 * 1024 * 1024);
    this.verifyTtlMs = Math.max(0, opts.verifyTtlMs ?? 0);
    this.verifyMax = Math.max(1, opts.verifyMaxEntries ?? 4096);
    this.now = opts.now ?? Date.now;
  }

  /** Forgets every verified name: the next open of each checks the filesystem again. */
  forgetVerified(): void {
    this.verified.clear();
  }

  /** Opens a requested name. Rejects with a FileError (never another error type). */
  async open(name: string): Promise<OpenFile> {
    const n = normalizeRequestPath(name);
    if (!n.ok) throw n.error;
    const rel = n.path;
    const gen = this.registry?.get(rel);
    if (gen !== undefined) return memoryFile(rel, gen.data, gen.mtime, true);

    if (this.verifyTtlMs > 0) {
      const v = this.verified.get(rel);
      if (v !== undefined) {
        if (this.now() < v.expires) {
          const hit = this.cache.get(v.st);
          if (hit !== undefined) return memoryFile(rel, hit, v.st.mtime, false);
          try {
            return await this.openVerified(rel, v.real, v.st, v);
          } catch {
            // Replaced, removed or refused since it was verified: check it from scratch below.
          }
        }
        this.verified.delete(rel);
      }
    }

    let real: string;
    try {
      real = await fsp.realpath(`${this.root}/${rel}`);
    } catch (err) {
      throw this.fsError(err, rel);
    }
    if (!this.inside(real)) throw denied(rel, 'it resolves outside the root (a symlink leaves it): place the file itself inside the root');
    let st: Stats;
    try {
      st = await fsp.lstat(real);
    } catch (err) {
      throw this.fsError(err, rel);
    }
    this.checkStats(st, rel);
    const hit = this.cache.get(st);
    if (hit !== undefined) {
      this.remember(rel, real, st);
      return memoryFile(rel, hit, st.mtime, false);
    }
    return this.openVerified(rel, real, st, 'remember');
  }

  /**
   * Opens `real` (already checked by path) without following a final symlink, and verifies the
   * descriptor: the same regular file as `st`, and inside the root. `verified`: 'remember' records
   * the name as verified once that holds; an entry gets the descriptor's stats (its window is not
   * extended: the name is checked by path again when it ends).
   */
  private async openVerified(rel: string, real: string, st: Stats, verified: 'remember' | Verified): Promise<OpenFile> {
    let fh: fsp.FileHandle;
    try {
      fh = await fsp.open(real, OPEN_FLAGS);
    } catch (err) {
      throw this.fsError(err, rel);
    }
    try {
      const fst = await fh.stat();
      this.checkStats(fst, rel);
      if (fst.ino !== st.ino || fst.dev !== st.dev) throw denied(rel, 'the file was replaced while it was opened; try again');
      const viaFd = await fsp.readlink(`/proc/self/fd/${fh.fd}`);
      if (!this.inside(viaFd)) throw denied(rel, 'it resolves outside the root: place the file itself inside the root');
      if (verified === 'remember') this.remember(rel, real, fst);
      else verified.st = fst;
      if (fst.size <= this.cacheMaxFileBytes && this.cache.capacity > 0) {
        const data = await this.cache.load(fst, async () => readAll(fh, fst.size));
        await fh.close();
        return memoryFile(rel, data, fst.mtime, false);
      }
      return diskFile(rel, fh, fst);
    } catch (err) {
      await fh.close().catch(() => {});
      throw err instanceof FileError ? err : this.fsError(err, rel);
    }
  }

  private remember(rel: string, real: string, st: Stats): void {
    if (this.verifyTtlMs <= 0) return;
    this.verified.delete(rel);
    if (this.verified.size >= this.verifyMax) this.verified.delete(this.verified.keys().next().value!);
    this.verified.set(rel, { real, st, expires: this.now() + this.verifyTtlMs });
  }

  private inside(p: string): boolean {
    return p.startsWith(this.root + '/') && p.length > this.root.length + 1;
  }

  private checkStats(st: Stats, rel: string): void {
    if (!st.isFile()) throw denied(rel, 'not a regular file (directory, FIFO, device or socket)');
    if (this.requireWorldReadable && (st.mode & 0o004) === 0) throw denied(rel, 'the file is not world-readable: chmod o+r it if it is meant to be served');
  }

  private fsError(err: unknown, rel: string): FileError {
    const code = (err as { code?: string }).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return new FileError('BH_FILES_NOT_FOUND', 'not-found', `${quoteName(rel)} does not exist under the root`);
    if (code === 'ELOOP') return denied(rel, 'symlink loop or a symlink where none is allowed');
    if (code === 'EACCES' || code === 'EPERM') return denied(rel, 'permission denied: check the ownership and mode of the file and its directories');
    if (code === 'ENAMETOOLONG') return new FileError('BH_FILES_BAD_NAME', 'denied', `${quoteName(rel)} is too long`);
    return new FileError('BH_FILES_IO', 'denied', `reading ${quoteName(rel)} failed (${code ?? 'unknown error'}): check the disk and the file`);
  }
}

function denied(rel: string, why: string): FileError {
  return new FileError('BH_FILES_DENIED', 'denied', `${quoteName(rel)} refused: ${why}`);
}

async function readAll(fh: fsp.FileHandle, size: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(size);
  let off = 0;
  while (off < size) {
    const { bytesRead } = await fh.read(buf, off, size - off, off);
    if (bytesRead === 0) break;
    off += bytesRead;
  }
  // A file that shrank while read is served as read; the cache key (size) then misses next time.
  return off === size ? buf : buf.subarray(0, off);
}

function memoryFile(path: string, data: Buffer, mtime: Date, generated: boolean): OpenFile {
  return {
    path,
    size: data.length,
    mtime,
    generated,
    data,
    async read(position, length, target) {
      const end = Math.min(data.length, position + length);
      if (position >= end) return Buffer.alloc(0);
      if (target === undefined) return data.subarray(position, end);
      data.copy(target, 0, position, end);
      return target.subarray(0, end - position);
    },
    stream(start = 0, end = data.length - 1) {
      return Readable.from([data.subarray(start, end + 1)], { objectMode: false });
    },
    async close() {},
  };
}

function diskFile(path: string, fh: fsp.FileHandle, st: Stats): OpenFile {
  let closed = false;
  return {
    path,
    size: st.size,
    mtime: st.mtime,
    generated: false,
    data: undefined,
    async read(position, length, target) {
      const buf = target ?? Buffer.allocUnsafe(length);
      let off = 0;
      while (off < length) {
        const { bytesRead } = await fh.read(buf, off, length - off, position + off);
        if (bytesRead === 0) break;
        off += bytesRead;
      }
      return buf.subarray(0, off);
    },
    stream(start = 0, end = st.size - 1) {
      // A stream on the already-checked descriptor, never reopening the path.
      return createReadStream('', { fd: fh, start, end, autoClose: false });
    },
    async close() {
      if (closed) return;
      closed = true;
      await fh.close().catch(() => {});
    },
  };
}
