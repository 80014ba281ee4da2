// The DHCP stage of the plan: one precedence for the boot file (the host's profile chain, the host,
// its group, dhcp.boot.bootfiles, the chain's default) and the iPXE script, the plan's reason
// naming which answered, and the DHCP options of group and host in override order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NO_ACCESS_LISTS } from '../../../src/boot/access.ts';
import { planDhcp } from '../../../src/boot/dhcp-plan.ts';
import type { DhcpHost, DhcpPlan, DhcpPlanRequest, DhcpPlanSettings } from '../../../src/boot/dhcp-plan.ts';

const settings = (bootfiles: Record<string, string> = {}): DhcpPlanSettings => ({ access: NO_ACCESS_LISTS, bootfiles, ipxeScript: 'boot.ipxe', registrationScript: 'register.ipxe', chains: { bios: 'ipxe', uefi: 'ipxe' } });
const req = (userClasses: string[] = []): DhcpPlanRequest => ({ mac: '52:54:00:dd:00:01', uuid: undefined, arches: [7], vendorClass: 'PXEClient:Arch:00007:UNDI:003000', userClasses, ip: undefined, tftpServer: '198.18.0.1', httpBase: 'http://198.18.0.1:8080', unknownClients: 'answer' });
const group = { name: 'workers', bootfiles: { 'uefi-x64': 'group.efi' }, ipxeScript: 'groups/w.ipxe', dhcp: { ntp_servers: ['198.18.0.123'] } };
const host = (over: Partial<DhcpHost> = {}): DhcpHost => ({ id: 'h1', state: 'active', hostname: 'n1', group, firstLoader: undefined, bootfile: 'host.efi', ipxeScript: 'hosts/n1.ipxe', dhcp: { routers: ['198.18.0.254'] }, ...over });

function answered(p: DhcpPlan): Extract<DhcpPlan, { answer: true }> {
  assert.equal(p.answer, true);
  return p as Extract<DhcpPlan, { answer: true }>;
}

test('boot file: the profile chain\'s loader, then the host\'s, the group\'s for its arch, dhcp.boot.bootfiles, the default; the reason says which', () => {
  const cases: [DhcpHost | undefined, Record<string, string>, string, RegExp][] = [
    [host({ firstLoader: 'shimx64.efi' }), { 'uefi-x64': 'config.efi' }, 'shimx64.efi', /^boot file from the profile of host n1$/],
    [host(), { 'uefi-x64': 'config.efi' }, 'host.efi', /^boot file from host n1$/],
    [host({ bootfile: null }), { 'uefi-x64': 'config.efi' }, 'group.efi', /^boot file of group workers for uefi-x64$/],
    [host({ bootfile: null, group: { ...group, bootfiles: { bios: 'other.0' } } }), { 'uefi-x64': 'config.efi' }, 'config.efi', /^configured boot file for uefi-x64$/],
    [host({ bootfile: null, group: undefined }), {}, 'snponly.efi', /^default ipxe loader for arch 7/],
    [undefined, { 'uefi-x64': 'config.efi' }, 'config.efi', /^configured boot file for uefi-x64$/],
  ];
  for (const [h, files, file, why] of cases) {
    const p = answered(planDhcp(req(), h, settings(files)));
    assert.equal(p.boot.file, file);
    assert.match(p.boot.why, why);
  }
});

test('iPXE script: the host\'s, then its group\'s, then dhcp.boot.ipxe_script', () => {
  assert.equal(answered(planDhcp(req(['iPXE']), host(), settings())).boot.file, 'http://198.18.0.1:8080/hosts/n1.ipxe');
  assert.equal(answered(planDhcp(req(['iPXE']), host({ ipxeScript: null }), settings())).boot.file, 'http://198.18.0.1:8080/groups/w.ipxe');
  assert.equal(answered(planDhcp(req(['iPXE']), host({ ipxeScript: null, group: undefined }), settings())).boot.file, 'http://198.18.0.1:8080/boot.ipxe');
});

test('DHCP options: the group\'s, then the host\'s (later wins); none for an unknown client', () => {
  const p = answered(planDhcp(req(), host(), settings()));
  assert.deepEqual(p.options, [{ ntp_servers: ['198.18.0.123'] }, { routers: ['198.18.0.254'] }]);
  assert.deepEqual([p.hostname, p.group, p.hostId], ['n1', 'workers', 'h1']);
  assert.deepEqual(answered(planDhcp(req(), undefined, settings())).options, []);
  assert.deepEqual(planDhcp(req(), host({ state: 'disabled' }), settings()), { answer: false, reason: 'host_disabled', hostId: 'h1' });
});
