// Test helpers: build raw DHCP datagrams byte by byte (not through the encoder under test), and load
// the capture fixtures.
import { readFileSync, readdirSync } from 'node:fs';

export interface RawSpec {
  op?: number;
  htype?: number;
  hlen?: number;
  hops?: number;
  xid?: number;
  flags?: number;
  ciaddr?: number[];
  giaddr?: number[];
  chaddr?: number[];
  sname?: number[];
  file?: number[];
  /** null: no cookie at all (236 octets + options) */
  cookie?: number[] | null;
  options?: number[];
}

export function raw(spec: RawSpec = {}): Buffer {
  const head = Buffer.alloc(236);
  head[0] = spec.op ?? 1;
  head[1] = spec.htype ?? 1;
  head[2] = spec.hlen ?? 6;
  head[3] = spec.hops ?? 0;
  head.writeUInt32BE(spec.xid ?? 0x01020304, 4);
  head.writeUInt16BE(spec.flags ?? 0, 10);
  head.set(spec.ciaddr ?? [0, 0, 0, 0], 12);
  head.set(spec.giaddr ?? [0, 0, 0, 0], 24);
  head.set(spec.chaddr ?? [0x52, 0x54, 0, 0xaa, 0xbb, 0xcc], 28);
  if (spec.sname) head.set(spec.sname, 44);
  if (spec.file) head.set(spec.file, 108);
  const cookie = spec.cookie === null ? [] : (spec.cookie ?? [99, 130, 83, 99]);
  return Buffer.concat([head, Buffer.from(cookie), Buffer.from(spec.options ?? [53, 1, 1, 255])]);
}

const DIR = new URL('../../../fixtures/dhcp/', import.meta.url);

export function fixture(name: string): Buffer {
  return Buffer.from(readFileSync(new URL(name, DIR), 'utf8').replace(/\s/g, ''), 'hex');
}

export function fixtureNames(): string[] {
  return readdirSync(DIR).filter((f) => f.endsWith('.hex')).sort();
}
