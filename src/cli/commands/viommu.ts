import { viommuAnswer } from '../../check/viommu.js';
import { parseArgvText } from '../../formats/argv-in.js';
import { findCatalog } from '../../io/catalog-files.js';
import { hostTarget } from '../../io/host-files.js';
import { fixtureIommu, iommuHostFixtures, viommuRules } from '../../io/viommu-files.js';
import type { ViommuDeviceAnswer, ViommuReport } from '../../model/viommu.js';
import { UserError } from '../../util/errors.js';
import { GUEST_OPTIONS, loadOneGuest, parseCommandArgs } from '../args.js';
import { print, printJson, table } from '../output.js';
import { formatReason } from './resolve.js';

const USAGE = `guestabi viommu (GUEST | --guest-argv "...") (--host HOST | --host-iommu ID [--qemu VERSION] [--iommufd])
                      [--hotplug "vfio-pci,host=0000:01:00.0"] [--json]
       guestabi viommu --list-hosts     the host IOMMUs of data/iommu/hosts.yaml`;

/** guestabi viommu: for each assigned device, the rung the host gives the guest's vIOMMU. */
export function viommuCommand(argv: string[]): number {
  const { values, positionals } = parseCommandArgs(
    argv,
    { ...GUEST_OPTIONS, host: { type: 'string' }, 'host-iommu': { type: 'string' }, qemu: { type: 'string' }, iommufd: { type: 'boolean' }, hotplug: { type: 'string' }, 'list-hosts': { type: 'boolean' } },
    USAGE,
  );
  if (values['list-hosts']) {
    const hosts = iommuHostFixtures().hosts;
    if (values.json) printJson(hosts);
    else print(table(hosts.map((h) => [h.id, h.units.map((u) => u.kind).join(', ') || '-', h.machine]), ['id', 'units', 'machine']));
    return 0;
  }
  const guest = loadOneGuest(positionals, values['guest-argv'], USAGE);
  const arch = guest.spec.arch ?? 'x86_64';
  if (!values.host === !values['host-iommu']) throw new UserError(`give --host HOST (a host profile) or --host-iommu ID (guestabi viommu --list-hosts)\nusage: ${USAGE}`);
  let catalog;
  let host;
  if (values.host) {
    const t = hostTarget(values.host, arch).hosts[0]!;
    catalog = t.catalog;
    host = { name: t.name, iommu: values.iommufd ? { ...t.profile.iommu, iommufd: true } : t.profile.iommu };
  } else {
    catalog = findCatalog(values.qemu ?? '10.0', [], arch);
    host = fixtureIommu(values['host-iommu']!, values.iommufd ? true : undefined, '--host-iommu', arch);
  }
  const machine = catalog.resolveMachineAlias(guest.spec.machine.type) ?? guest.spec.machine.type;
  if (!catalog.machine(machine)) throw new UserError(`QEMU ${catalog.version} has no machine type '${guest.spec.machine.type}'`, 'machine');
  const hotplug = values.hotplug !== undefined ? hotplugDevice(values.hotplug) : undefined;
  const report = viommuAnswer({ guest: guest.spec, catalog, machine, host, rules: viommuRules(), ...(hotplug ? { hotplug } : {}) });
  if (values.json) printJson(report);
  else printReport(report);
  const rungs = [...report.devices, ...(report.hotplug ? [report.hotplug] : [])].map((d) => d.rung);
  return report.start.length || rungs.some((r) => r === 'refused' || r === 'unknown') ? 1 : 0;
}

function hotplugDevice(text: string) {
  const spec = parseArgvText(`-device ${text}`, '--hotplug');
  const d = spec.devices?.[0];
  if (!d || d.type !== 'vfio-pci') throw new UserError(`give a vfio-pci device, e.g. "vfio-pci,host=0000:01:00.0"`, '--hotplug');
  return d;
}

function printReport(r: ViommuReport): void {
  const v = r.viommu ? `${r.viommu.type}${Object.keys(r.viommu.props).length ? ` (${['aw-bits', 'caching-mode', 'x-scalable-mode', 'x-flts', 'granule'].filter((k) => k in r.viommu!.props).map((k) => `${k}=${String(r.viommu!.props[k])}`).join(', ')})` : ''}` : 'none';
  print(`vIOMMU ${v} on ${r.machine}, QEMU ${r.qemu}; host ${r.host.name}: ${r.host.units.map((u) => `${u.name} ${u.kind} ${u.addressWidth ?? '?'}-bit ${u.pageSizes.join('/')}${u.features.includes('nested') && u.features.includes('scalable-mode') ? ' nesting' : ''}`).join('; ') || 'no IOMMU'}`);
  for (const x of r.start) print(formatReason(x));
  const one = (d: ViommuDeviceAnswer, what: string) => {
    print(`${what} ${d.device}: ${d.rung.toUpperCase()}`);
    for (const x of d.reasons) print(formatReason(x));
  };
  for (const d of r.devices) one(d, 'device');
  if (!r.devices.length) print('no assigned device (vfio-pci)');
  if (r.hotplug) one(r.hotplug, 'hotplug');
}
