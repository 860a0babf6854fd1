import { Type, type Static } from '@sinclair/typebox';
import { Accel, Arch, Props, QemuVersion } from './common.js';
import { HostLevels, IdRegisterValues } from './registers.js';

export const HOST_PROFILE_SCHEMA_ID = 'guestabi/host-profile@1';

export const IommuUnit = Type.Object(
  {
    name: Type.String({ description: 'The /sys/class/iommu entry, e.g. dmar0 or ivhd0.' }),
    kind: Type.Union([Type.Literal('intel-vtd'), Type.Literal('amd-vi'), Type.Literal('arm-smmu-v3'), Type.Literal('other')]),
    registers: Type.Record(Type.String(), Type.String(), { description: 'Raw capability registers as the kernel prints them (hex).' }),
    decoded: Type.Optional(
      Type.Object(
        {
          addressWidths: Type.Optional(Type.Array(Type.Integer(), { description: 'Guest address widths the page tables support, in bits.' })),
          pageSizes: Type.Optional(Type.Array(Type.String(), { description: 'IOMMU page sizes, e.g. 4K, 2M, 1G.' })),
          features: Type.Optional(Type.Array(Type.String())),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type IommuUnit = Static<typeof IommuUnit>;

export const CpuModelAvailability = Type.Object(
  {
    runnable: Type.Boolean(),
    unavailableFeatures: Type.Array(Type.String()),
  },
  { additionalProperties: false },
);
export type CpuModelAvailability = Static<typeof CpuModelAvailability>;

export const HostProfile = Type.Object(
  {
    schema: Type.Literal(HOST_PROFILE_SCHEMA_ID),
    name: Type.String({ description: 'Host name as probed, or as the user renamed the profile.' }),
    arch: Arch,
    kernel: Type.Object({ release: Type.String(), version: Type.String() }, { additionalProperties: false }),
    cpu: Type.Object(
      {
        vendor: Type.String(),
        modelName: Type.String(),
        family: Type.Integer(),
        model: Type.Integer(),
        stepping: Type.Integer(),
        flags: Type.Array(Type.String(), { description: 'Flags from /proc/cpuinfo.' }),
      },
      { additionalProperties: false },
    ),
    qemu: Type.Object(
      {
        version: QemuVersion,
        catalog: Type.String({ description: 'Id of the catalog of this build, e.g. qemu-7.2.22-x86_64.' }),
        binary: Type.String(),
      },
      { additionalProperties: false },
    ),
    accel: Accel,
    kvm: Type.Object(
      {
        devicePresent: Type.Boolean({ description: '/dev/kvm exists and can be opened.' }),
        enabled: Type.Boolean({ description: 'QEMU runs with KVM (query-kvm).' }),
      },
      { additionalProperties: false },
    ),
    probeMachine: Type.String({ description: 'The machine type QEMU was started with while probing.' }),
    hostCpu: Type.Object(
      {
        model: Type.Union([Type.Literal('host'), Type.Literal('max')]),
        props: Type.Optional(Props),
        error: Type.Optional(Type.String()),
      },
      { additionalProperties: false, description: 'Expansion of -cpu host (KVM) or -cpu max (TCG), when it can be had.' },
    ),
    accelCpu: Type.Optional(
      Type.Object(
        { model: Type.String(), props: Props },
        {
          additionalProperties: false,
          description:
            'Expansion of one model under this accelerator (KVM only): its difference from the catalog (TCG) expansion is what the accelerator sets on every model (x2apic, kvm-pv-*).',
        },
      ),
    ),
    hyperv: Type.Optional(
      Type.Object(
        {
          refused: Type.Record(Type.String(), Type.String(), {
            description: "Per Hyper-V enlightenment, QEMU's words when this host's KVM refuses to start a guest with it (with the enlightenments it needs); those it gives are left out.",
          }),
        },
        { additionalProperties: false, description: 'Probed under KVM only: which Hyper-V enlightenments the kernel gives.' },
      ),
    ),
    kvmMachineOptions: Type.Optional(
      Type.Object(
        {
          refused: Type.Record(Type.String(), Type.String(), {
            description: "Per -machine option that needs the kernel's KVM (smm=on, kernel-irqchip=split), QEMU's words when this host refuses it.",
          }),
        },
        { additionalProperties: false, description: 'Probed under KVM only.' },
      ),
    ),
    kvmMsrFeatures: Type.Optional(
      Type.Object(
        {
          refused: Type.Record(Type.String(), Type.String(), {
            description: "Per CPU feature QEMU keeps in a register it writes at start (IA32_ARCH_CAPABILITIES bits, split-lock-detect, full-width-write), QEMU's words when this host's KVM does not start a guest with it on (the kernel reports it but refuses the register: QEMU aborts); those it starts with are left out.",
          }),
        },
        { additionalProperties: false, description: 'Probed under KVM on x86 only.' },
      ),
    ),
    kvmXsaveComponents: Type.Optional(
      Type.Array(Type.String(), {
        description: 'The XSAVE state components (CPUID 0xD.0 EAX: x87, sse, avx, bndregs...) this host\'s KVM keeps when a vCPU asks for every one: QEMU filters the components it works out from the features asked against them (x86_cpu_filter_features()). Probed under KVM on x86 only.',
      }),
    ),
    cpuModels: Type.Record(Type.String(), CpuModelAvailability, {
      description: 'Per CPU model name, whether it can run here with this build and accelerator.',
    }),
    vulnerabilities: Type.Record(Type.String(), Type.String(), { description: '/sys/devices/system/cpu/vulnerabilities, file name to text.' }),
    iommu: Type.Object(
      {
        present: Type.Boolean(),
        iommufd: Type.Optional(Type.Boolean({ description: '/dev/iommu is there (iommufd, Linux 6.2+): QEMU can use the iommufd backend for vfio-pci.' })),
        vfio: Type.Optional(Type.Boolean({ description: '/dev/vfio/vfio is there (the VFIO container: the vfio modules are loaded); absent: not probed.' })),
        notProbed: Type.Optional(Type.Boolean({ description: 'The IOMMU was not asked (a profile from libvirt): every answer that needs it is unknown.' })),
        groups: Type.Integer({ minimum: 0 }),
        units: Type.Array(IommuUnit),
      },
      { additionalProperties: false },
    ),
    firmwareRegisters: Type.Optional(
      Type.Object(
        {
          levels: HostLevels,
          from: Type.Union([Type.Literal('probed'), Type.Literal('described')], { description: 'Probed on the host (KVM_GET_ONE_REG), or given in a description.' }),
        },
        { additionalProperties: false, description: 'aarch64 under KVM: the host\'s level of each SMCCC workaround register (data/registers/arm64-kvm.yaml); absent: not known.' },
      ),
    ),
    idRegisters: Type.Optional(
      Type.Object(
        {
          values: IdRegisterValues,
          from: Type.Union([Type.Literal('probed'), Type.Literal('described')]),
        },
        { additionalProperties: false, description: "aarch64 under KVM: KVM's sanitised ID register values (what a -cpu host guest reads), by register; absent: not known." },
      ),
    ),
    libvirt: Type.Optional(
      Type.Object(
        { uri: Type.String(), libvirt: Type.String(), qemu: Type.String({ description: 'The build libvirt runs (virsh version).' }) },
        { additionalProperties: false, description: 'Present when the profile was made from libvirt\'s answers (guestabi probe --libvirt), not by guestabi\'s own probe: the kernel, host CPU expansion, vulnerabilities and IOMMU are not known.' },
      ),
    ),
    probedAt: Type.String({ format: 'date-time' }),
    tool: Type.String(),
    described: Type.Optional(
      Type.Object(
        { arch: Arch, qemu: Type.String(), accel: Accel, kernel: Type.Optional(Type.String()), cpu: Type.String() },
        { additionalProperties: false, description: 'Present when the host was described for planning, not probed: its CPU models are derived from the catalog, and nothing else about it is known.' },
      ),
    ),
  },
  { additionalProperties: false, $id: 'HostProfile' },
);
export type HostProfile = Static<typeof HostProfile>;
