/**
 * The fixed set of devices that the probe instantiates on every machine type, so that the
 * catalog can say which property values each machine type gives them (compat properties only
 * show on an instance). Chosen to cover what guests are given in practice: the virtio family in
 * its default, transitional and non-transitional forms, the emulated NICs, USB and VGA.
 * A device whose key changes changes the catalog format: keep keys stable.
 */
export interface ProbeDeviceSpec {
  /** Stable key in the catalog; also the QOM id "probe-<key>". */
  key: string;
  type: string;
  /** Backends or buses the device needs, as extra QEMU arguments. */
  args: string[];
  /** Extra -device options. */
  properties?: string;
}

export const PROBE_DEVICES: ProbeDeviceSpec[] = [
  { key: 'virtio-net-pci', type: 'virtio-net-pci', args: [] },
  { key: 'virtio-net-pci-transitional', type: 'virtio-net-pci-transitional', args: [] },
  { key: 'virtio-net-pci-non-transitional', type: 'virtio-net-pci-non-transitional', args: [] },
  { key: 'virtio-blk-pci', type: 'virtio-blk-pci', args: ['-blockdev', 'null-co,node-name=probe-disk0'], properties: 'drive=probe-disk0' },
  {
    key: 'virtio-blk-pci-transitional',
    type: 'virtio-blk-pci-transitional',
    args: ['-blockdev', 'null-co,node-name=probe-disk1'],
    properties: 'drive=probe-disk1',
  },
  {
    key: 'virtio-blk-pci-non-transitional',
    type: 'virtio-blk-pci-non-transitional',
    args: ['-blockdev', 'null-co,node-name=probe-disk2'],
    properties: 'drive=probe-disk2',
  },
  { key: 'virtio-scsi-pci', type: 'virtio-scsi-pci', args: [] },
  { key: 'virtio-balloon-pci', type: 'virtio-balloon-pci', args: [] },
  { key: 'virtio-serial-pci', type: 'virtio-serial-pci', args: [] },
  { key: 'virtio-rng-pci', type: 'virtio-rng-pci', args: [] },
  { key: 'e1000e', type: 'e1000e', args: [] },
  { key: 'e1000', type: 'e1000', args: [] },
  { key: 'qemu-xhci', type: 'qemu-xhci', args: [] },
  { key: 'VGA', type: 'VGA', args: [] },
];

/** Properties that name one instance rather than describe the platform, left out of every map. */
export const INSTANCE_PROPERTIES = ['addr', 'legacy-addr', 'id', 'drive', 'netdev', 'mac', 'chardev', 'bootindex', 'failover_pair_id'];

export function probeDeviceArgs(devices: ProbeDeviceSpec[] = PROBE_DEVICES): string[] {
  return devices.flatMap((d) => [...d.args, '-device', `${d.type},id=probe-${d.key}${d.properties ? `,${d.properties}` : ''}`]);
}
