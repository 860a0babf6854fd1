#!/usr/bin/python3
"""For comparison with guestabi's check: the time of one libvirt compareHypervisorCPU call (CPU only),
through the API of a running libvirtd with its QEMU driver. Prints ops/s and p50/p99 in microseconds."""
import sys, time
try:
    import libvirt
except ImportError:
    print("skipped: python3-libvirt is not installed (apt-get install python3-libvirt)")
    sys.exit(0)
try:
    conn = libvirt.open("qemu:///system")
except libvirt.libvirtError as e:
    print(f"skipped: no libvirtd to talk to ({e})")
    sys.exit(0)
xml = "<cpu mode='custom' match='exact'><model fallback='forbid'>Westmere</model><feature policy='disable' name='x2apic'/></cpu>"
for _ in range(50):
    conn.compareHypervisorCPU(None, "x86_64", "pc-q35-7.2", "qemu", xml, 0)
samples = []
end = time.perf_counter() + 2.0
while time.perf_counter() < end:
    t = time.perf_counter()
    conn.compareHypervisorCPU(None, "x86_64", "pc-q35-7.2", "qemu", xml, 0)
    samples.append(time.perf_counter() - t)
samples.sort()
n = len(samples)
print(f"libvirt compareHypervisorCPU (CPU only)   {n / sum(samples):9.0f} ops/s  p50 {samples[n // 2] * 1e6:8.1f} us  p99 {samples[int(n * 0.99)] * 1e6:8.1f} us  ({n} runs)")
