// ProxyDHCP replies (PXE 2.1, and what real firmware accepted in FIELD-NOTES.md): the port-67
// offer that carries boot information but no address, and the port-4011 boot-server ACK. Pure
// builders: they take the decoded request and a boot decision and return the reply packet.
import type { DhcpPacket } from '../protocol/dhcp/packet.ts';
import { newReply } from '../protocol/dhcp/packet.ts';
import {
  MSG,
  OPT,
  PXE_SUB,
  encodeIp,
  encodePxeBootItem,
  encodePxeBootMenu,
  encodePxeBootServers,
  encodePxeMenuPrompt,
  encodePxeVendorOptions,
  encodeString,
  clientUuid,
  pxeBootItem,
  pxeVendorOptions,
} from '../protocol/dhcp/options.ts';
import type { BootDecision } from '../boot/bootfile.ts';

/** The PXE boot-server type bootherd announces (0x8000+ are vendor types; dnsmasq uses the same). */
export const BOOT_SERVER_TYPE = 0x8000;

/** 43.6 bits 0 and 1: no broadcast and no multicast discovery; ask the servers of 43.8 (us) on 4011. */
export const DISCOVERY_USE_SERVER_LIST = 0b0011;
/** 43.6 bit 3 (PXE 2.1): the offer carries the boot file; download it without menu or discovery. */
export const DISCOVERY_BOOT_FILE_IN_OFFER = 0b1000;

/** Echo option 97 only when it is well-formed (D26: never act on a malformed UUID). */
export function echoUuid(req: DhcpPacket, into: Map<number, Uint8Array>): void {
  const raw = req.options.get(OPT.CLIENT_UUID);
  if (raw !== undefined && clientUuid(raw) !== undefined) into.set(OPT.CLIENT_UUID, raw);
}

/**
 * The port-67 proxy offer: yiaddr 0.0.0.0, options 53, 54, 60 (echoed class) and 97, siaddr.
 * - PXE firmware (EDK2) gets option 43 pointing it at our boot server on 4011, and no file.
 * - A client already running iPXE (user class iPXE) gets the boot file in the offer itself (`file`
 *   and 67, normally the HTTP script URL) and discovery control 6 = 3 | 8: bit 3 (PXE 2.1: "a boot
 *   file is in this offer: download it, no menu, no discovery") makes iPXE skip its PXE menu, which
 *   the iPXE EFI build cannot complete (it never reaches 4011: "No more network devices"). No 4011
 *   round trip; a 4011 request from iPXE still gets the same answer.
 * - HTTP Boot clients get `HTTPClient` and the URL (there is no 4011 step for them).
 * Undefined when there is nothing to boot.
 */
export function buildProxyOffer(req: DhcpPacket, decision: BootDecision, serverId: string): DhcpPacket | undefined {
  if (decision.action !== 'boot' || decision.file === undefined) return undefined;
  const r = newReply(req);
  r.siaddr = decision.siaddr;
  const o = r.options;
  o.set(OPT.MESSAGE_TYPE, Uint8Array.of(MSG.OFFER));
  o.set(OPT.SERVER_ID, encodeIp(serverId));
  if (decision.vendorClass === 'HTTPClient') {
    o.set(OPT.VENDOR_CLASS, encodeString('HTTPClient'));
    echoUuid(req, o);
    o.set(OPT.BOOTFILE_NAME, encodeString(decision.file));
    r.file = decision.file;
    return r;
  }
  o.set(OPT.VENDOR_CLASS, encodeString('PXEClient'));
  echoUuid(req, o);
  const fileInOffer = decision.stage === 'ipxe';
  o.set(
    OPT.VENDOR_SPECIFIC,
    encodePxeVendorOptions(
      new Map([
        [PXE_SUB.DISCOVERY_CONTROL, Uint8Array.of(fileInOffer ? DISCOVERY_USE_SERVER_LIST | DISCOVERY_BOOT_FILE_IN_OFFER : DISCOVERY_USE_SERVER_LIST)],
        [PXE_SUB.BOOT_SERVERS, encodePxeBootServers([{ type: BOOT_SERVER_TYPE, ips: [serverId] }])],
        [PXE_SUB.BOOT_MENU, encodePxeBootMenu([{ type: BOOT_SERVER_TYPE, description: 'bootherd' }])],
        [PXE_SUB.MENU_PROMPT, encodePxeMenuPrompt(0, 'bootherd')],
      ]),
    ),
  );
  if (fileInOffer) {
    o.set(OPT.BOOTFILE_NAME, encodeString(decision.file));
    r.file = decision.file;
  }
  return r;
}

/**
 * The boot-server ACK (port 4011, or port 67 when a PXE client requests our proxy offer): `file`,
 * sname, siaddr, 60 PXEClient, 97 and the 43.71 boot item echoed.
 */
export function buildBootServerAck(req: DhcpPacket, decision: BootDecision, serverId: string): DhcpPacket | undefined {
  if (decision.action !== 'boot' || decision.file === undefined) return undefined;
  const r = newReply(req);
  r.ciaddr = req.ciaddr;
  r.siaddr = decision.siaddr;
  r.sname = decision.siaddr;
  r.file = decision.file;
  const o = r.options;
  o.set(OPT.MESSAGE_TYPE, Uint8Array.of(MSG.ACK));
  o.set(OPT.SERVER_ID, encodeIp(serverId));
  o.set(OPT.VENDOR_CLASS, encodeString(decision.vendorClass ?? 'PXEClient'));
  echoUuid(req, o);
  o.set(OPT.BOOTFILE_NAME, encodeString(decision.file));
  const item = pxeBootItem(pxeVendorOptions(req.options.get(OPT.VENDOR_SPECIFIC))?.get(PXE_SUB.BOOT_ITEM));
  if (item !== undefined) o.set(OPT.VENDOR_SPECIFIC, encodePxeVendorOptions(new Map([[PXE_SUB.BOOT_ITEM, encodePxeBootItem(item)]])));
  return r;
}
