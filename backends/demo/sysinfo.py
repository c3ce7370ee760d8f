"""The probes `k0s sysinfo` reports for a simulated node (one list feeds the text and JSON forms)."""

from __future__ import annotations

from backends.demo.formats import human_bytes
from backends.demo.state import DemoNode

_GIB = 1 << 30


def _p(path: list[str], name: str, prop: str, category: str = "pass", message: str = "",
       error_text: str = "") -> dict:
    return {"path": path, "displayName": name, "prop": prop, "category": category, "message": message,
            "errorText": error_text}


def probes(node: DemoNode, *, data_dir: str, controller: bool) -> list[dict]:
    """The probe list of ``node``, in output order."""
    out: list[dict] = []
    mem = node.memory_bytes
    if mem < 2 * _GIB:
        out.append(_p(["memTotal"], "Total memory", human_bytes(mem), "warning",
                      f"{human_bytes(mem)} < {human_bytes(2 * _GIB)}"))
    else:
        out.append(_p(["memTotal"], "Total memory", human_bytes(mem)))
    fs = "ext4" if "Alpine" not in node.os_image else "xfs"
    out.append(_p(["dataDirFS"], f"File system of {data_dir}", fs))
    free = node.disk_free_kib * 1024
    total = node.disk_total_kib * 1024
    if free < 2 * _GIB:
        out.append(_p(["dataDirDiskSpace"], f"Disk space available for {data_dir}", human_bytes(free), "warning",
                      f"{human_bytes(free)} < {human_bytes(2 * _GIB)}"))
    else:
        out.append(_p(["dataDirDiskSpace"], f"Disk space available for {data_dir}", human_bytes(free)))
    pct = round(100 * free / total) if total else 0
    if pct < 20:
        out.append(_p(["dataDirRelDiskSpace"], f"Relative disk space available for {data_dir}", f"{pct}%",
                      "warning", f"{pct}% < 20%"))
    else:
        out.append(_p(["dataDirRelDiskSpace"], f"Relative disk space available for {data_dir}", f"{pct}%"))
    out.append(_p(["nameResolution:localhost"], "Name resolution: localhost", "[127.0.0.1 ::1]"))
    out.append(_p(["os"], "Operating system", "Linux"))
    out.append(_p(["os", "kernelRelease"], "Linux kernel release", node.kernel))
    out.append(_p(["os", "maxFileDescriptors"], "Max. file descriptors per process",
                  "current: 1048576 / max: 1048576"))
    apparmor = "active" if "Ubuntu" in node.os_image else "unavailable"
    out.append(_p(["os", "appArmor"], "AppArmor", apparmor))
    for exe, where in (("modprobe", "/usr/sbin/modprobe"), ("mount", "/usr/bin/mount"),
                       ("umount", "/usr/bin/umount")):
        if "Alpine" in node.os_image:
            where = "/bin/busybox" if exe != "modprobe" else "/sbin/modprobe"
        out.append(_p(["os", f"executableInPath:{exe}"], f"Executable in PATH: {exe}", where))
    out.append(_p(["os", "procFS"], "/proc file system", "mounted (0x9fa0)"))
    out.append(_p(["os", "cgroups"], "Control Groups", "version 2"))
    broken = node.sysinfo_fault == "cgroups"
    for ctl, value in (("cpu", "available"), ("cpuacct", "available (via cpu in version 2)"),
                       ("cpuset", "available (is a listed root controller)"), ("memory", "available"),
                       ("devices", "available (device filters attachable)"),
                       ("freezer", "available (cgroup.freeze exists)"), ("pids", "available"),
                       ("hugetlb", "available"), ("blkio", "available (via io in version 2)")):
        path = ["os", "cgroups", f"cgroupController:{ctl}"]
        name = f'cgroup controller "{ctl}"'
        if broken and ctl == "pids":
            out.append(_p(path, name, "unavailable", "rejected"))
        elif broken and ctl == "hugetlb":
            out.append(_p(path, name, "unavailable", "warning"))
        else:
            out.append(_p(path, name, value))
    kernel = [
        (["os", "CONFIG_CGROUPS"], "CONFIG_CGROUPS: Control Group support", "built-in"),
        (["os", "CONFIG_CGROUPS", "CONFIG_CGROUP_FREEZER"], "CONFIG_CGROUP_FREEZER: Freezer cgroup subsystem", "built-in"),
        (["os", "CONFIG_CGROUPS", "CONFIG_CGROUP_PIDS"], "CONFIG_CGROUP_PIDS: PIDs cgroup subsystem", "built-in"),
        (["os", "CONFIG_CGROUPS", "CONFIG_MEMCG"], "CONFIG_MEMCG: Memory controller", "built-in"),
        (["os", "CONFIG_NAMESPACES"], "CONFIG_NAMESPACES: Namespaces support", "built-in"),
        (["os", "CONFIG_NAMESPACES", "CONFIG_UTS_NS"], "CONFIG_UTS_NS: UTS namespace", "built-in"),
        (["os", "CONFIG_NAMESPACES", "CONFIG_NET_NS"], "CONFIG_NET_NS: Network namespace", "built-in"),
        (["os", "CONFIG_NET"], "CONFIG_NET: Networking support", "built-in"),
        (["os", "CONFIG_NET", "CONFIG_INET"], "CONFIG_INET: TCP/IP networking", "built-in"),
        (["os", "CONFIG_NET", "CONFIG_INET", "CONFIG_NETFILTER"],
         "CONFIG_NETFILTER: Network packet filtering framework (Netfilter)", "built-in"),
        (["os", "CONFIG_NET", "CONFIG_INET", "CONFIG_NETFILTER", "CONFIG_NETFILTER_XTABLES"],
         "CONFIG_NETFILTER_XTABLES: Netfilter Xtables support", "module"),
        (["os", "CONFIG_NET", "CONFIG_INET", "CONFIG_NETFILTER", "CONFIG_NETFILTER_XTABLES",
          "CONFIG_NETFILTER_XT_MATCH_COMMENT"], 'CONFIG_NETFILTER_XT_MATCH_COMMENT: "comment" match support', "module"),
        (["os", "CONFIG_NET", "CONFIG_INET", "CONFIG_NETFILTER", "CONFIG_NF_CONNTRACK"],
         "CONFIG_NF_CONNTRACK: Netfilter connection tracking support", "module"),
        (["os", "CONFIG_NET", "CONFIG_INET", "CONFIG_NETFILTER", "CONFIG_NF_NAT"],
         "CONFIG_NF_NAT: Network Address Translation support", "module"),
        (["os", "CONFIG_NET", "CONFIG_BRIDGE"], "CONFIG_BRIDGE: 802.1d Ethernet Bridging", "module"),
        (["os", "CONFIG_NET", "CONFIG_VXLAN"], "CONFIG_VXLAN: Virtual eXtensible Local Area Network (VXLAN)", "module"),
        (["os", "CONFIG_EXT4_FS"], "CONFIG_EXT4_FS: The Extended 4 (ext4) filesystem", "built-in"),
        (["os", "CONFIG_PROC_FS"], "CONFIG_PROC_FS: /proc file system support", "built-in"),
    ]
    for path, name, value in kernel:
        out.append(_p(path, name, value))
    # IPVS sits under Netfilter in k0s's probe tree; one demo host lacks it (ipvs mode warns there).
    ipvs_path = ["os", "CONFIG_NET", "CONFIG_INET", "CONFIG_NETFILTER", "CONFIG_IP_VS"]
    ipvs_value, ipvs_status = ("module", "pass") if node.ipvs_modules else ("left out", "warning")
    out.append(_p(ipvs_path, "CONFIG_IP_VS: IP virtual server support", ipvs_value, ipvs_status))
    for sub, desc in (("CONFIG_IP_VS_RR", "Round-robin scheduling"), ("CONFIG_IP_VS_NFCT", "Netfilter connection tracking")):
        out.append(_p([*ipvs_path, sub], f"{sub}: {desc}", ipvs_value, ipvs_status))
    if broken:
        out.append(_p(["os", "CONFIG_CFS_BANDWIDTH"], "CONFIG_CFS_BANDWIDTH: CPU bandwidth provisioning for FAIR_GROUP_SCHED",
                      "left out", "warning"))
    if controller:
        out.append(_p(["os", "executableInPath:iptables"], "Executable in PATH: iptables", "/usr/sbin/iptables"))
    return out


def worst(probe_list: list[dict]) -> str:
    """The worst category over ``probe_list``."""
    rank = {"pass": 0, "warning": 1, "rejected": 2, "error": 3}
    return max((p["category"] for p in probe_list), key=rank.__getitem__, default="pass")
