// URLs bootherd hands out: the UEFI HTTP Boot URL (DHCP option 67 for HTTPClient) and the per-host
// iPXE script URL, whose `${…}` variables iPXE expands on the client.
import { RenderError, checkPath } from './text.ts';

/** The HTTP Boot URL of a boot-root file (or the URL itself), e.g. http://198.18.0.1:8080/ipxe.efi. */
export function httpBootUrl(httpBase: string, file: string): string {
  if (!/^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/i.test(httpBase)) throw new RenderError('http base', `the HTTP base ${JSON.stringify(httpBase.slice(0, 80))} is not an http(s) URL without query: fix dhcp.boot.http_base`);
  checkPath('boot file', file);
  if (/^https?:\/\//i.test(file)) return file;
  const path = file.replace(/^\/+/, '').split('/').map(encodeURIComponent).join('/');
  return `${httpBase.replace(/\/+$/, '')}/${path}`;
}

/**
 * The per-host script URL template (relative to the HTTP base) iPXE fetches, e.g. when a pending
 * host polls again. The MAC is expanded as `aa-bb-cc-…` (`:hexhyp`): in a relative URL, iPXE takes
 * everything before the first ':' as a URI scheme, so `boot.ipxe?mac=52:54:…` fails with
 * "Operation not supported" (seen with Debian's iPXE in the end-to-end suite).
 */
export const IPXE_SCRIPT_TEMPLATE = 'boot.ipxe?mac=${net0/mac:hexhyp}&uuid=${uuid}&arch=${buildarch}&platform=${platform}';
