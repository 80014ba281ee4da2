// Generated files: other parts of bootherd publish content under a root-relative path (a per-host
// pxelinux.cfg/01-<mac>, grub/grub.cfg, ...). The resolver serves them exactly like files, before
// looking on disk.
import { FileError, quoteName } from './errors.ts';
import { normalizeRequestPath } from './paths.ts';

export interface GeneratedFile {
  path: string;
  data: Buffer;
  mtime: Date;
}

/**
 * Renders a generated file on request (a per-host pxelinux.cfg/01-<mac>, grub/hosts/<mac>.cfg):
 * given the normalised path under its prefix, returns the content or undefined (then the next
 * provider, and finally the disk, is tried). Must be synchronous, cheap and must not throw.
 */
export type GeneratedFileProvider = (normalizedPath: string) => { data: Buffer; mtime?: Date } | undefined;

export class GeneratedFiles {
  private readonly files = new Map<string, GeneratedFile>();
  private readonly providers: { prefix: string; provider: GeneratedFileProvider }[] = [];
  private readonly now: () => Date;
  constructor(now: () => Date = () => new Date()) {
    this.now = now;
  }

  /** Publishes (or replaces) content under `path`. Throws BH_FILES_BAD_GENERATED_PATH for a path no client could request. */
  publish(path: string, content: string | Uint8Array): GeneratedFile {
    const n = normalizeRequestPath(path);
    if (!n.ok) throw new FileError('BH_FILES_BAD_GENERATED_PATH', 'denied', `cannot publish ${quoteName(path)}: use a relative path without '.', '..', backslashes or control bytes`);
    const data = typeof content === 'string' ? Buffer.from(content, 'utf8') : Buffer.from(content);
    const file = { path: n.path, data, mtime: this.now() };
    this.files.set(n.path, file);
    return file;
  }

  /** Removes a published file; true if it existed. */
  unpublish(path: string): boolean {
    const n = normalizeRequestPath(path);
    return n.ok && this.files.delete(n.path);
  }

  /**
   * Registers an on-request provider for paths that start with `prefix` (e.g. `pxelinux.cfg/`).
   * Published files win over providers. Returns a function that removes the provider.
   */
  provide(prefix: string, provider: GeneratedFileProvider): () => void {
    const entry = { prefix, provider };
    this.providers.push(entry);
    return () => {
      const i = this.providers.indexOf(entry);
      if (i >= 0) this.providers.splice(i, 1);
    };
  }

  /** Looks up an already normalised path: published files first, then providers in order. */
  get(normalizedPath: string): GeneratedFile | undefined {
    const f = this.files.get(normalizedPath);
    if (f !== undefined || this.providers.length === 0) return f;
    for (const { prefix, provider } of this.providers) {
      if (!normalizedPath.startsWith(prefix)) continue;
      let r: ReturnType<GeneratedFileProvider>;
      try {
        r = provider(normalizedPath);
      } catch {
        r = undefined; // a provider bug must not break file serving; the provider logs its own errors
      }
      if (r !== undefined) return { path: normalizedPath, data: r.data, mtime: r.mtime ?? this.now() };
    }
    return undefined;
  }

  get size(): number {
    return this.files.size;
  }
}
