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

export class GeneratedFiles {
  private readonly files = new Map<string, GeneratedFile>();
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

  /** Looks up an already normalised path. */
  get(normalizedPath: string): GeneratedFile | undefined {
    return this.files.get(normalizedPath);
  }

  get size(): number {
    return this.files.size;
  }
}
