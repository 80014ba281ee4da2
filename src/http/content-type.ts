// Content-Type by file name. Pure. EDK2 HTTP Boot recognises an EFI image by
// `application/efi` (FIELD-NOTES.md); scripts and configs are text; everything else (kernels,
// initrds, images, unknown) is an opaque octet stream, never HTML, so nothing a boot server
// serves can run as a page in a browser.

const TEXT = 'text/plain; charset=utf-8';
export const OCTET_STREAM = 'application/octet-stream';

const BY_EXTENSION: ReadonlyMap<string, string> = new Map(Object.entries({
  efi: 'application/efi',
  ipxe: TEXT,
  cfg: TEXT,
  conf: TEXT,
  txt: TEXT,
  lst: TEXT,
  menu: TEXT,
  ks: TEXT,
  seed: TEXT,
  preseed: TEXT,
  yaml: TEXT,
  yml: TEXT,
  sig: OCTET_STREAM,
  json: 'application/json',
  iso: 'application/x-iso9660-image',
  img: OCTET_STREAM,
  gz: OCTET_STREAM,
  xz: OCTET_STREAM,
  zst: OCTET_STREAM,
  squashfs: OCTET_STREAM,
}));

/** The Content-Type for a root-relative path. */
export function contentTypeFor(path: string): string {
  const slash = path.lastIndexOf('/');
  const base = path.slice(slash + 1);
  const dot = base.lastIndexOf('.');
  if (dot <= 0) return OCTET_STREAM;
  return BY_EXTENSION.get(base.slice(dot + 1).toLowerCase()) ?? OCTET_STREAM;
}
