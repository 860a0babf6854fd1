import type { Catalog } from '../model/catalog.js';
import type { Props } from '../model/common.js';
import { refuses } from './build-facts.js';
import type { QemuStarter } from './session.js';

/**
 * The guest side of a vIOMMU, asked of the build: each vIOMMU device's property defaults
 * (device-list-properties; a machine type's compat properties change some, e.g. intel-iommu
 * aw-bits 39 on pc-*-9.1 and older: pc_compat_9_1) and whether QEMU starts with each combination
 * of settings below (the questions are ours, the answers QEMU's words: vtd_decide_config(),
 * virtio_iommu_device_realize()). A combination naming a property the build lacks is not asked.
 */
export const VIOMMU_QUESTIONS: Record<string, { family: string; ask: string[] }> = {
  'intel-iommu': {
    family: 'pc-q35',
    ask: [
      'aw-bits=39',
      'aw-bits=48',
      'aw-bits=52',
      'caching-mode=on',
      'device-iotlb=on',
      'eim=on,intremap=off',
      'x-scalable-mode=on',
      'x-scalable-mode=on,dma-drain=off',
      'x-scalable-mode=on,aw-bits=39',
      'x-flts=on',
      'x-scalable-mode=on,x-flts=on',
      'x-scalable-mode=on,x-flts=on,aw-bits=39',
      'x-pasid-mode=on',
    ],
  },
  'virtio-iommu-pci': { family: '', ask: ['aw-bits=30', 'aw-bits=39', 'aw-bits=48', 'granule=4k', 'granule=64k'] },
};

/** The families a virtio-iommu-pci is asked on, per architecture (the one PCI family). */
const VIRTIO_FAMILY: Partial<Record<Catalog['arch'], string>> = { x86_64: 'pc-q35', aarch64: 'virt' };

export async function probeViommu(starter: QemuStarter, catalog: Catalog): Promise<Catalog['viommu']> {
  const out: NonNullable<Catalog['viommu']> = {};
  for (const [type, q] of Object.entries(VIOMMU_QUESTIONS)) {
    const family = type === 'virtio-iommu-pci' ? VIRTIO_FAMILY[catalog.arch] : catalog.arch === 'x86_64' ? q.family : undefined;
    if (!family || !catalog.deviceTypes.includes(type)) continue;
    const newest = catalog.machines.filter((m) => m.family === family && m.probe === 'ok').at(-1)?.name;
    if (!newest) continue;
    const { names, defaults } = await propertyDefaults(starter, type);
    const refused: Record<string, string> = {};
    const starts: string[] = [];
    for (const combo of q.ask) {
      if (combo.split(',').some((kv) => !names.has(kv.split('=')[0]!))) continue;
      const why = await refuses(starter, newest, ['-device', `${type},${combo}`]);
      if (why) refused[combo] = why;
      else starts.push(combo);
    }
    out[type] = { probedOn: newest, defaults, refused, starts };
  }
  return Object.keys(out).length ? out : undefined;
}

/** Every property of a device type, and the defaults QEMU reports (not for every one). */
async function propertyDefaults(starter: QemuStarter, type: string): Promise<{ names: Set<string>; defaults: Props }> {
  const s = await starter.start(['-machine', 'none', '-nodefaults', '-display', 'none', '-no-user-config', '-S', '-accel', 'tcg'], `viommu-${type}`);
  try {
    const list = await s.qmp.execute<{ name: string; type: string; 'default-value'?: unknown }[]>('device-list-properties', { typename: type });
    const defaults: Props = {};
    for (const p of list.sort((a, b) => a.name.localeCompare(b.name))) {
      const v = p['default-value'];
      if (typeof v === 'boolean' || typeof v === 'number' || typeof v === 'string') defaults[p.name] = v;
    }
    return { names: new Set(list.map((p) => p.name)), defaults };
  } finally {
    await s.stop();
  }
}
