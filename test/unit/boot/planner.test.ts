// The planner's decision table: every firmware arch × loader mode × host state (× unknown-host
// policy), checked against the table an operator reads in the docs, plus menu and profile rules.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DEFAULT_PLAN_SETTINGS, firmwareArchFromDhcp, firmwareArchFromIpxe, plan } from '../../../src/boot/planner.ts';
import type { PlanHost, PlanSettings } from '../../../src/boot/planner.ts';
import { FIRMWARE_ARCHES, HOST_STATES } from '../../../src/inventory/types.ts';
import type { FirmwareArch, ProfileSpec, UnknownHostPolicy } from '../../../src/inventory/types.ts';

const debian: ProfileSpec = { kind: 'linux', description: 'Debian installer', kernel: 'debian/linux', initrd: ['debian/initrd.gz'], cmdline: 'auto=true' };
const secure: ProfileSpec = { ...debian, secure_boot: true };
const profiles = new Map<string, ProfileSpec>([
  ['debian', debian],
  ['rescue', { kind: 'chain', chain: 'http://198.18.0.1/rescue.ipxe' }],
]);

function host(state: string, spec?: ProfileSpec): PlanHost {
  return { id: 'h1', hostname: 'node01', state, ...(spec ? { profile: { name: 'debian', spec } } : {}) };
}

type Arch = FirmwareArch | undefined;
const ARCHES: Arch[] = [...FIRMWARE_ARCHES, undefined];
const MODES: { bios: PlanSettings['biosLoader']; uefi: PlanSettings['uefiLoader'] }[] = [
  { bios: 'ipxe', uefi: 'ipxe' },
  { bios: 'pxelinux', uefi: 'grub' },
];

// The chain table (docs/architecture: "a working default chain for each arch").
function expectedChain(arch: Arch, mode: (typeof MODES)[number], secureBoot: boolean): [string, string | undefined] {
  if (arch === 'bios') return mode.bios === 'pxelinux' ? ['pxelinux', 'pxelinux.0'] : ['ipxe', undefined];
  if (arch === 'uefi-x64') {
    if (secureBoot) return ['shim-grub', 'shimx64.efi'];
    return mode.uefi === 'grub' ? ['grub', 'grubx64.efi'] : ['ipxe', undefined];
  }
  if (arch === 'efi-http-x64') return secureBoot ? ['shim-grub', 'shimx64.efi'] : ['http-boot', undefined];
  if (arch === 'efi-http-arm64') return ['http-boot', undefined];
  return ['ipxe', undefined];
}

// The host-state table.
const STATE_TABLE: Record<string, { action: string; answer: boolean; payload: string }> = {
  pending: { action: 'wait', answer: true, payload: 'wait' },
  active: { action: 'boot', answer: true, payload: 'linux' },
  local: { action: 'local', answer: true, payload: 'local' },
  disabled: { action: 'ignore', answer: false, payload: 'none' },
};
const POLICY_TABLE: Record<UnknownHostPolicy, { action: string; answer: boolean; payload: string; register: boolean }> = {
  menu: { action: 'menu', answer: true, payload: 'menu', register: false },
  local: { action: 'local', answer: true, payload: 'local', register: false },
  ignore: { action: 'ignore', answer: false, payload: 'none', register: false },
  register: { action: 'wait', answer: true, payload: 'wait', register: true },
};

describe('planner decision table', () => {
  for (const arch of ARCHES) {
    for (const mode of MODES) {
      for (const sb of [false, true]) {
        for (const state of ['unknown', ...HOST_STATES]) {
          const policies: UnknownHostPolicy[] = state === 'unknown' || state === 'new' ? ['menu', 'local', 'ignore', 'register'] : ['menu'];
          for (const policy of policies) {
            it(`${arch ?? 'no-arch'} × bios=${mode.bios},uefi=${mode.uefi}${sb ? ',secure-boot' : ''} × ${state}${policies.length > 1 ? ` (policy ${policy})` : ''}`, () => {
              const s: PlanSettings = { ...DEFAULT_PLAN_SETTINGS, biosLoader: mode.bios, uefiLoader: mode.uefi, unknownHosts: policy };
              const h = state === 'unknown' ? undefined : host(state, sb ? secure : debian);
              const p = plan({ mac: 'aa:bb:cc:dd:ee:ff', arch }, { host: h, profiles }, s);
              const want = state === 'unknown' || state === 'new' ? POLICY_TABLE[policy] : { ...STATE_TABLE[state]!, register: false };
              assert.equal(p.action, want.action, p.why);
              assert.equal(p.dhcp.answer, want.answer);
              assert.equal(p.payload.kind, want.payload);
              assert.equal(p.register, want.register);
              assert.equal(p.hostId, h?.id);
              // Secure Boot only changes the chain of a host whose profile is booted.
              const [chain, bootfile] = expectedChain(arch, mode, sb && state === 'active');
              assert.equal(p.chain, chain);
              assert.equal(p.dhcp.bootfile, bootfile);
              if (p.payload.kind === 'linux') assert.deepEqual([p.payload.kernel, p.payload.initrd, p.payload.cmdline], ['debian/linux', ['debian/initrd.gz'], 'auto=true']);
            });
          }
        }
      }
    }
  }
});

describe('planner rules', () => {
  it('uses the arch variant of a profile when it has one', () => {
    const spec: ProfileSpec = { ...debian, arch: { 'uefi-x64': { kind: 'linux', kernel: 'debian/linux.efi', secure_boot: true } } };
    const uefi = plan({ arch: 'uefi-x64' }, { host: host('active', spec), profiles });
    assert.equal(uefi.chain, 'shim-grub');
    assert.equal(uefi.payload.kind === 'linux' && uefi.payload.kernel, 'debian/linux.efi');
    const bios = plan({ arch: 'bios' }, { host: host('active', spec), profiles });
    assert.equal(bios.payload.kind === 'linux' && bios.payload.kernel, 'debian/linux');
  });

  it('the default profile: unknown hosts boot it under the menu policy, active hosts without a profile too; other policies ignore it', () => {
    const inv = { profiles, defaultProfile: { name: 'debian', spec: secure } };
    const unknown = plan({ arch: 'uefi-x64' }, { ...inv, host: undefined });
    assert.equal(unknown.action, 'boot');
    assert.equal(unknown.chain, 'shim-grub');
    assert.match(unknown.why, /default profile debian/);
    const active = plan({ arch: 'bios' }, { ...inv, host: host('active') });
    assert.equal(active.payload.kind === 'linux' && active.payload.kernel, 'debian/linux');
    assert.equal(plan({ arch: 'bios' }, { ...inv, host: host('new') }, { ...DEFAULT_PLAN_SETTINGS, unknownHosts: 'register' }).action, 'wait');
    assert.equal(plan({ arch: 'bios' }, { ...inv, host: undefined }, { ...DEFAULT_PLAN_SETTINGS, unknownHosts: 'local' }).action, 'local');
    // The host's own profile wins over the default.
    const own = plan({ arch: 'bios' }, { ...inv, host: { id: 'h', hostname: null, state: 'active', profile: { name: 'rescue', spec: profiles.get('rescue')! } } });
    assert.equal(own.payload.kind, 'chain');
  });

  it('an active host without a profile boots locally, and says why', () => {
    const p = plan({ arch: 'bios' }, { host: host('active'), profiles });
    assert.equal(p.action, 'local');
    assert.match(p.why, /assign a profile/);
  });

  it('a linux profile without a kernel cannot boot and names the fix', () => {
    const p = plan({ arch: 'bios' }, { host: host('active', { kind: 'linux' }), profiles });
    assert.equal(p.action, 'none');
    assert.match(p.why, /set its kernel/);
  });

  it('an unknown state is treated as disabled', () => {
    assert.equal(plan({ arch: 'bios' }, { host: host('retired', debian), profiles }).action, 'ignore');
  });

  it('the unknown-host menu lists every bootable profile, then local disk, with the configured default', () => {
    const s = { ...DEFAULT_PLAN_SETTINGS, menu: { title: 'Lab', timeoutS: 7, default: 'debian' } };
    const p = plan({ arch: 'bios' }, { host: undefined, profiles }, s);
    assert.equal(p.payload.kind, 'menu');
    if (p.payload.kind !== 'menu') return;
    assert.deepEqual(p.payload.items.map((i) => i.key), ['debian', 'rescue', 'local']);
    assert.equal(p.payload.items[0]!.label, 'Debian installer');
    assert.equal(p.payload.default, 'debian');
    assert.equal(p.payload.timeoutS, 7);
    assert.equal(p.payload.title, 'Lab');
    // A default naming no profile falls back to local disk.
    const q = plan({ arch: 'bios' }, { host: undefined, profiles }, { ...s, menu: { ...s.menu, default: 'gone' } });
    assert.equal(q.payload.kind === 'menu' && q.payload.default, 'local');
  });

  it('a menu profile resolves its items, skips dangling ones and always offers local disk', () => {
    const menu: ProfileSpec = { kind: 'menu', menu: { title: 'Pick', default: 'rescue', timeout_s: 3, items: [{ label: 'Install', profile: 'debian' }, { label: 'Gone', profile: 'nope' }, { label: 'Rescue', profile: 'rescue' }] } };
    const p = plan({ arch: 'uefi-x64' }, { host: { id: 'h', hostname: null, state: 'active', profile: { name: 'm', spec: menu } }, profiles });
    assert.equal(p.action, 'menu');
    if (p.payload.kind !== 'menu') return assert.fail('not a menu');
    assert.deepEqual(p.payload.items.map((i) => [i.key, i.label]), [['debian', 'Install'], ['rescue', 'Rescue'], ['local', 'Boot from local disk']]);
    assert.equal(p.payload.default, 'rescue');
    assert.equal(p.payload.timeoutS, 3);
  });

  it('is total: any state string and any profile shape gives a plan, never a throw', () => {
    const bootSpec = fc.record({
      kind: fc.constantFrom('linux', 'chain', 'menu', 'local'),
      kernel: fc.option(fc.string(), { nil: undefined }),
      chain: fc.option(fc.string(), { nil: undefined }),
      secure_boot: fc.option(fc.boolean(), { nil: undefined }),
    }, { requiredKeys: ['kind'] }) as fc.Arbitrary<ProfileSpec>;
    fc.assert(fc.property(fc.constantFrom(...ARCHES), fc.string(), bootSpec, fc.constantFrom<UnknownHostPolicy>('menu', 'local', 'ignore', 'register'), (arch, state, spec, policy) => {
      const p = plan({ arch }, { host: { id: 'x', hostname: null, state, profile: { name: 'p', spec } }, profiles }, { ...DEFAULT_PLAN_SETTINGS, unknownHosts: policy });
      assert.ok(['boot', 'menu', 'local', 'wait', 'ignore', 'none'].includes(p.action));
      assert.equal(p.dhcp.answer, p.action !== 'ignore');
    }), { numRuns: 300 });
  });
});

describe('firmware arch from the client', () => {
  it('maps DHCP option 93 and the vendor class (field notes: 7 and 9 are x64 UEFI, 16 is HTTP Boot)', () => {
    assert.equal(firmwareArchFromDhcp([0], undefined), 'bios');
    assert.equal(firmwareArchFromDhcp([7], undefined), 'uefi-x64');
    assert.equal(firmwareArchFromDhcp([9], undefined), 'uefi-x64');
    assert.equal(firmwareArchFromDhcp([16], 'HTTPClient:Arch:00016:UNDI:003000'), 'efi-http-x64');
    assert.equal(firmwareArchFromDhcp([], 'PXEClient:Arch:00007:UNDI:003000'), 'uefi-x64');
    assert.equal(firmwareArchFromDhcp([], undefined), undefined);
    assert.equal(firmwareArchFromDhcp([41], undefined), undefined);
  });
  it("maps iPXE's buildarch and platform", () => {
    assert.equal(firmwareArchFromIpxe('i386', 'pcbios'), 'bios');
    assert.equal(firmwareArchFromIpxe('x86_64', 'efi'), 'uefi-x64');
    assert.equal(firmwareArchFromIpxe('x86_64', 'pcbios'), 'bios');
    assert.equal(firmwareArchFromIpxe('arm64', 'efi'), 'uefi-arm64');
    assert.equal(firmwareArchFromIpxe(undefined, undefined), undefined);
  });
});
