// DHCPv4 / BOOTP packet: the fixed header, the magic cookie and the option areas (RFC 2131, 2132,
// 3396). decodeDhcp is total (any byte string gives a packet or a typed error); encodeDhcp can only
// produce well-formed packets. Pure: no I/O, no clock, no logging.

export interface DhcpPacket {
  op: number;
  htype: number;
  hlen: number;
  hops: number;
  xid: number;
  secs: number;
  /** bit 15 (0x8000) = broadcast; other bits are reserved and ignored. */
  flags: number;
  ciaddr: string;
  yiaddr: string;
  siaddr: string;
  giaddr: string;
  /** The 16-octet field as received (the MAC is the first hlen octets). */
  chaddr: Uint8Array;
  /** NUL-terminated fields decoded as latin1; '' when the field is overloaded with options. */
  sname: string;
  file: string;
  /**
   * In order of first appearance. RFC 3396: repeated instances are concatenated. Option 52
   * overload is already merged (options → file → sname). Never contains 0, 255 or 52.
   */
  options: Map<number, Uint8Array>;
  /** Codes seen more than once (D13: option 53 twice must be rejectable). */
  duplicateOptions: number[];
}

export type DhcpDecodeErrorCode =
  | 'BH_DHCP_TRUNCATED'
  | 'BH_DHCP_NO_COOKIE'
  | 'BH_DHCP_BAD_COOKIE'
  | 'BH_DHCP_BAD_HLEN'
  | 'BH_DHCP_BAD_OPTION';

export interface DhcpDecodeError {
  code: DhcpDecodeErrorCode;
  message: string;
}

export type DhcpDecodeResult = { ok: true; packet: DhcpPacket } | { ok: false; error: DhcpDecodeError };

export interface DhcpEncodeOptions {
  /** Largest DHCP message (UDP payload) to produce, in octets. Default 576; values below 241 count as 241. */
  maxSize?: number;
}

export function decodeDhcp(_buf: Uint8Array): DhcpDecodeResult {
  throw new Error('not implemented');
}

export function encodeDhcp(_p: DhcpPacket, _opts?: DhcpEncodeOptions): Buffer {
  throw new Error('not implemented');
}

/** A reply skeleton: op 2, same xid/htype/hlen/chaddr/flags/giaddr, addresses 0.0.0.0, empty options. */
export function newReply(_request: DhcpPacket): DhcpPacket {
  throw new Error('not implemented');
}
