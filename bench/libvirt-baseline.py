#!/usr/bin/python3
"""For comparison with guestabi plan baseline: libvirt's baseline of the same host CPUs.
Reads {"cpus": [XML, ...]} on stdin; prints JSON {hypervisor: {...}, agnostic: {...}} with the model
and the required features of virConnectBaselineHypervisorCPU (TCG) and virConnectBaselineCPU."""
import json, sys, xml.etree.ElementTree as ET
try:
    import libvirt
except ImportError:
    print(json.dumps({"skipped": "python3-libvirt is not installed (apt-get install python3-libvirt)"}))
    sys.exit(0)
try:
    conn = libvirt.open("qemu:///system")
except libvirt.libvirtError as e:
    print(json.dumps({"skipped": f"no libvirtd to talk to ({e})"}))
    sys.exit(0)
cpus = json.load(sys.stdin)["cpus"]
flags = libvirt.VIR_CONNECT_BASELINE_CPU_EXPAND_FEATURES

def parse(text):
    root = ET.fromstring(text)
    model = root.findtext("model")
    feats = sorted(f.get("name") for f in root.findall("feature") if f.get("policy") in (None, "require"))
    return {"model": model, "features": feats}

out = {}
try:
    out["hypervisor"] = parse(conn.baselineHypervisorCPU(None, "x86_64", None, "qemu", cpus, flags))
except libvirt.libvirtError as e:
    out["hypervisor"] = {"error": str(e)}
try:
    out["agnostic"] = parse(conn.baselineCPU(cpus, flags))
except libvirt.libvirtError as e:
    out["agnostic"] = {"error": str(e)}
print(json.dumps(out))
