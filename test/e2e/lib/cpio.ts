// A minimal writer for the cpio "newc" format, the one the Linux kernel unpacks as an initramfs.
// Pure: entries in, bytes out (no I/O), so the initramfs is byte-for-byte reproducible.

export interface CpioEntry {
  /** Path inside the archive, without a leading slash (e.g. "bin/busybox"). */
  name: string;
  /** "dir", "file", "symlink" or "chardev" (a device node, e.g. dev/console 5:1). */
  kind: 'dir' | 'file' | 'symlink' | 'chardev';
  /** Permission bits (e.g. 0o755). */
  mode: number;
  /** File contents, or the link target for a symlink. */
  data?: Buffer | string;
  /** Device major/minor for chardev. */
  rdev?: [number, number];
}

const TYPE_BITS = { dir: 0o040000, file: 0o100000, symlink: 0o120000, chardev: 0o020000 } as const;

function hex8(n: number): string {
  return n.toString(16).padStart(8, '0');
}

function pad4(len: number): Buffer {
  return Buffer.alloc((4 - (len % 4)) % 4);
}

function header(ino: number, mode: number, nlink: number, size: number, rdev: [number, number], nameSize: number): string {
  // magic, ino, mode, uid, gid, nlink, mtime, filesize, devmajor, devminor, rdevmajor, rdevminor, namesize, check
  return ['070701', hex8(ino), hex8(mode), hex8(0), hex8(0), hex8(nlink), hex8(0), hex8(size), hex8(0), hex8(0), hex8(rdev[0]), hex8(rdev[1]), hex8(nameSize), hex8(0)].join('');
}

/** Encodes entries (parents before children) as a newc archive ending with the TRAILER!!! record. */
export function writeCpio(entries: readonly CpioEntry[]): Buffer {
  const parts: Buffer[] = [];
  let ino = 1;
  const push = (name: string, mode: number, nlink: number, data: Buffer, rdev: [number, number]): void => {
    const nameBuf = Buffer.from(`${name}\0`);
    const head = Buffer.from(header(ino++, mode, nlink, data.length, rdev, nameBuf.length), 'ascii');
    parts.push(head, nameBuf, pad4(head.length + nameBuf.length), data, pad4(data.length));
  };
  for (const e of entries) {
    if (e.name.startsWith('/') || e.name === '') throw new Error(`cpio entry name must be relative: "${e.name}"`);
    const data = e.kind === 'dir' || e.kind === 'chardev' ? Buffer.alloc(0) : Buffer.isBuffer(e.data) ? e.data : Buffer.from(e.data ?? '');
    push(e.name, TYPE_BITS[e.kind] | (e.mode & 0o7777), e.kind === 'dir' ? 2 : 1, data, e.kind === 'chardev' ? (e.rdev ?? [0, 0]) : [0, 0]);
  }
  push('TRAILER!!!', 0, 1, Buffer.alloc(0), [0, 0]);
  return Buffer.concat(parts);
}
