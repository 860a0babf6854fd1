import type { PinnedAbi, PinnedDevice } from '../model/pinned.js';
import { PCI_BRIDGE_TYPES, PCIE_PORT_TYPES } from './device-types.js';

export interface PlacedDevice {
  device: PinnedDevice;
  id: string | undefined;
  /** The id of the port or bridge it sits behind; undefined on the root bus. */
  bus: string | undefined;
  /** Created here to give a device its placement class (not in the pinned guest). */
  added: boolean;
}

/**
 * Make every device's placement class concrete: devices that already name a bus keep it; a device
 * that must sit behind a PCIe port gets a pcie-root-port of its own, one that must sit behind a
 * PCI bridge goes behind a shared bridge (pcie-pci-bridge on a root port on q35, pci-bridge on
 * i440fx). New ports and bridges are named pci.N, as libvirt names controller N's bus. A pinned
 * device's placement is its placement class already: the root for one that is not on PCI.
 */
export function placeDevices(p: PinnedAbi): PlacedDevice[] {
  const q35 = p.machine.family.includes('q35');
  const used = new Set(p.devices.map((d) => d.id).filter((x): x is string => !!x));
  let next = 1;
  const fresh = () => {
    while (used.has(`pci.${next}`)) next++;
    const id = `pci.${next}`;
    used.add(id);
    return id;
  };
  const out: PlacedDevice[] = [];
  const isBridge = (d: PinnedDevice) => PCIE_PORT_TYPES.has(d.type) || PCI_BRIDGE_TYPES.has(d.type);
  // Ports and bridges of the guest first, so that the devices behind them can name them.
  for (const d of p.devices.filter(isBridge)) {
    out.push({ device: d, id: d.id ?? fresh(), bus: busOf(d), added: false });
  }
  // A device that needs a port takes one of the guest's own that nothing names first (libvirt's
  // address assignment added them for such devices, src/formats/libvirt-in-devices.ts), then a new one.
  const named = new Set(p.devices.map(busOf).filter((b): b is string => b !== undefined));
  const freePorts = out.filter((pd) => PCIE_PORT_TYPES.has(pd.device.type) && pd.id && !named.has(pd.id)).map((pd) => pd.id!);
  const takePort = (): string => {
    const own = freePorts.shift();
    if (own) return own;
    const id = fresh();
    out.push(synthetic('pcie-root-port', id, undefined));
    return id;
  };
  for (const pd of out) if (!pd.added && pd.bus === undefined && pd.device.placement === 'pcie-port' && PCI_BRIDGE_TYPES.has(pd.device.type)) pd.bus = takePort();
  let bridge: string | undefined = out.find((pd) => pd.device.type === (q35 ? 'pcie-pci-bridge' : 'pci-bridge'))?.id;
  const sharedBridge = (): string => {
    if (bridge) return bridge;
    bridge = fresh();
    if (q35) {
      const port = fresh();
      out.push(synthetic('pcie-root-port', port, undefined));
      out.push(synthetic('pcie-pci-bridge', bridge, port));
    } else {
      out.push(synthetic('pci-bridge', bridge, undefined));
    }
    return bridge;
  };
  for (const d of p.devices.filter((x) => !isBridge(x))) {
    let bus = busOf(d);
    if (bus === undefined) {
      if (d.placement === 'pcie-port') bus = takePort();
      else if (d.placement === 'pci-bridge') bus = sharedBridge();
    }
    out.push({ device: d, id: d.id, bus, added: false });
  }
  return out;
}

function busOf(d: PinnedDevice): string | undefined {
  const b = d.explicit.bus;
  return typeof b === 'string' && b !== 'pcie.0' && b !== 'pci.0' ? b : undefined;
}

function synthetic(type: string, id: string, bus: string | undefined): PlacedDevice {
  return { device: { type, role: 'bridge', placement: bus ? 'pcie-port' : 'root', catalogKey: null, explicit: {} }, id, bus, added: true };
}
