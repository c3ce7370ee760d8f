"""Answer an argv the way a host of the demo cluster would: k0s, ctr, kubectl, cat, find, systemctl…

:func:`answer` is the single entry point used by the in-process transport and the stand-in
executable. It returns a :class:`Reply`; commands that stream (``ctr images pull``) put their
output in timed ``chunks`` and defer their state change to ``commit`` so it lands when the
output has been written, as on a real host.
"""

from __future__ import annotations

import fnmatch
import posixpath
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from backends.demo import autopilot, formats, sysinfo
from backends.demo import logs as demo_logs
from backends.demo.cluster import DemoCluster
from backends.demo.state import DATA_DIR, DemoNode, digest_of, image_records, minor_of

SOCKET_ERR = ('ctr: failed to dial "/run/k0s/containerd.sock": context deadline exceeded: connection error: '
              'desc = "transport: error while dialing: dial unix /run/k0s/containerd.sock: connect: '
              'no such file or directory"\n')


@dataclass
class Reply:
    """What a command leaves behind. ``chunks``: (seconds to wait, bytes) written to stdout after ``stdout``."""

    exit_status: int = 0
    stdout: bytes = b""
    stderr: bytes = b""
    #: A list, or (for ``-f``/``-F`` follows) an endless iterator only stream_chunks consumes.
    chunks: list[tuple[float, bytes]] | Iterator[tuple[float, bytes]] = field(default_factory=list)
    #: Applied to the cluster once the output is written (re-read state, in the stand-in).
    commit: Callable[[DemoCluster], None] | None = None

    @property
    def all_stdout(self) -> bytes:
        return self.stdout + b"".join(c for _d, c in self.chunks)


def ok(text: str = "") -> Reply:
    return Reply(0, text.encode())


def fail(text: str, status: int = 1, stdout: str = "") -> Reply:
    return Reply(status, stdout.encode(), text.encode())


class HostIO(Protocol):
    """Where `k0s backup --save-path DIR` writes and `k0s restore FILE` reads."""

    cwd: str

    def read(self, path: str) -> bytes: ...
    def write(self, path: str, data: bytes) -> None: ...
    def is_dir(self, path: str) -> bool: ...
    def exists(self, path: str) -> bool: ...


class VirtualIO:
    """The node's virtual filesystem (in-process demo)."""

    def __init__(self, cluster: DemoCluster, node: DemoNode) -> None:
        self.cluster, self.node, self.cwd = cluster, node, "/root"

    def read(self, path: str) -> bytes:
        return self.cluster.read(self.node, path)

    def write(self, path: str, data: bytes) -> None:
        self.node.files[posixpath.normpath(path)] = data

    def is_dir(self, path: str) -> bool:
        # Any absolute directory that is not a file is taken to exist (the demo has no mkdir).
        return path.startswith("/") and posixpath.normpath(path) not in self.cluster.file_names(self.node)

    def exists(self, path: str) -> bool:
        return self.cluster.exists(self.node, path)


def strip_sudo(argv: Sequence[str]) -> list[str]:
    """``sudo -n k0s status`` -> ``k0s status``."""
    args = list(argv)
    if args and posixpath.basename(args[0]) == "sudo":
        args = args[1:]
        while args and args[0].startswith("-"):
            args = args[1:]
    return args


def answer(cluster: DemoCluster, node_name: str, argv: Sequence[str], stdin: bytes | None = None,
           io: HostIO | None = None) -> Reply:
    """Run ``argv`` on node ``node_name`` of ``cluster``."""
    node = cluster.node(node_name)
    args = strip_sudo(argv)
    if not args:
        return fail("sudo: a command is required\n")
    io = io or VirtualIO(cluster, node)
    prog = posixpath.basename(args[0])
    if prog == "k0s":
        if not node.installed:
            return fail(f"bash: line 1: {args[0]}: command not found\n", 127)
        return _K0s(cluster, node, io).run(args[1:], stdin)
    handler = _SHELL.get(prog)
    if handler is None:
        return fail(f"bash: line 1: {args[0]}: command not found\n", 127)
    return handler(cluster, node, args[1:])


# ============================================================================ k0s

_VALUE_FLAGS = {"--data-dir", "-c", "--config", "-o", "--output", "--save-path", "--kubeconfig",
                "--status-socket", "-l", "--logging", "--platform"}


class _Usage(Exception):
    pass


def _flags(args: Sequence[str], allowed: set[str], *, short_o: bool = True) -> tuple[list[str], dict[str, str]]:
    """Cobra-style parse: positionals and ``{flag: value}`` (booleans get "true")."""
    pos: list[str] = []
    flags: dict[str, str] = {}
    i = 0
    args = list(args)
    while i < len(args):
        a = args[i]
        if a == "--":
            pos += args[i + 1:]
            break
        if a.startswith("-") and a != "-":
            name, eq, value = a.partition("=")
            if name in ("-o", "--output") and not short_o:
                raise _Usage(f"unknown shorthand flag: 'o' in {a}" if name == "-o" else f"unknown flag: {name}")
            if name not in allowed and name not in ("-d", "--debug", "-v", "--verbose", "--data-dir"):
                raise _Usage(f"unknown shorthand flag: '{name[1]}' in {a}" if not name.startswith("--")
                             else f"unknown flag: {name}")
            if name in _VALUE_FLAGS and not eq:
                if i + 1 >= len(args):
                    raise _Usage(f"flag needs an argument: {name}")
                value = args[i + 1]
                i += 1
            flags[name] = value if (eq or name in _VALUE_FLAGS) else "true"
        else:
            pos.append(a)
        i += 1
    return pos, flags


class _K0s:
    """The `k0s` command line of one node."""

    def __init__(self, cluster: DemoCluster, node: DemoNode, io: HostIO) -> None:
        self.c, self.n, self.io = cluster, node, io

    def run(self, args: list[str], stdin: bytes | None) -> Reply:
        if not args or args[0] in ("-h", "--help", "help"):
            return ok("k0s - The zero friction Kubernetes - https://k0sproject.io\n\nUsage:\n  k0s [command]\n")
        if args[0] == "--version":
            return ok(self.n.version + "\n")
        cmd, rest = args[0], args[1:]
        handler = {
            "version": self.version, "status": self.status, "sysinfo": self.sysinfo, "ctr": self.ctr,
            "etcd": self.etcd, "kubectl": self.kubectl, "kc": self.kubectl, "start": self.start,
            "stop": self.stop, "backup": self.backup, "restore": self.restore, "airgap": self.airgap,
        }.get(cmd)
        if handler is None:
            return fail(f'Error: unknown command "{cmd}" for "k0s"\nRun \'k0s --help\' for usage.\n')
        try:
            if handler in (self.ctr, self.kubectl):
                return handler(rest)
            return handler(rest, stdin) if handler == self.restore else handler(rest)
        except _Usage as exc:
            return fail(f"Error: {exc}\n")

    def _supports(self, minor: tuple[int, int]) -> bool:
        major, mnr = (int(x) for x in minor_of(self.n.version).split("."))
        return (major, mnr) >= minor

    # ------------------------------------------------------------------ read-only

    def version(self, args: list[str]) -> Reply:
        _flags(args, set())
        return ok(self.n.version + "\n")

    def status_fields(self) -> dict:
        n, ctl = self.n, self.n.is_controller
        api_ok = self.c.api_up()
        k0s_args = (["/usr/local/bin/k0s", "controller", "--config=/etc/k0s/k0s.yaml"] if ctl else
                    ["/usr/local/bin/k0s", "worker", "--token-file=/etc/k0s/k0stoken"])
        conn_msg = "" if api_ok or ctl else (f'Get "https://{self.c.settings.api_address}:6443/healthz": dial tcp '
                                            f"{self.c.settings.api_address}:6443: connect: connection refused")
        return {
            "Version": n.version, "Pid": n.pid, "PPid": 0, "Role": n.role, "SysInit": "", "StubFile": "",
            "Output": "", "Workloads": not ctl, "SingleNode": False, "Args": k0s_args,
            "WorkerToAPIConnectionStatus": {"Message": conn_msg, "Success": (not ctl) and api_ok},
            "ClusterConfig": self.c.config() if ctl else None,
            "K0sVars": {"AdminKubeConfigPath": f"{DATA_DIR}/pki/admin.conf", "BinDir": f"{DATA_DIR}/bin",
                        "CertRootDir": f"{DATA_DIR}/pki", "DataDir": DATA_DIR, "EtcdDataDir": f"{DATA_DIR}/etcd",
                        "ManifestsDir": f"{DATA_DIR}/manifests", "RunDir": "/run/k0s",
                        "StatusSocketPath": "/run/k0s/status.sock"},
        }

    def status(self, args: list[str]) -> Reply:
        _pos, flags = _flags(args, {"-o", "--output", "--status-socket"})
        out = flags.get("-o", flags.get("--output", ""))
        if out not in ("", "json", "yaml"):
            return fail(f'Error: unknown output format "{out}"\n')
        if not self.n.running:
            return fail(formats.NOT_RUNNING_STDERR)
        fields = self.status_fields()
        if out == "json":
            return ok(formats.status_json(fields))
        if out == "yaml":
            return ok(formats.status_yaml(fields))
        return ok(formats.status_text(fields))

    def sysinfo(self, args: list[str]) -> Reply:
        json_ok = self._supports((1, 32))
        _pos, flags = _flags(args, {"--controller", "--worker", "--data-dir", "-o", "--output"}, short_o=json_ok)
        out = flags.get("-o", flags.get("--output", "text"))
        if out not in ("text", "json", "yaml"):
            return fail(f'Error: unknown output format "{out}"\n')
        data_dir = flags.get("--data-dir", DATA_DIR)
        controller = flags.get("--controller", "false") in ("true", "1")
        probes = sysinfo.probes(self.n, data_dir=data_dir, controller=controller)
        text = formats.sysinfo_json(probes) if out == "json" else formats.sysinfo_text(probes)
        if out == "yaml":
            import yaml

            text = yaml.safe_dump([{k: v for k, v in p.items() if k != "errorText"} for p in probes],
                                  sort_keys=False)
        if sysinfo.worst(probes) in ("rejected", "error"):
            return Reply(1, text.encode(), b"Error: sysinfo failed\n")
        return ok(text)

    def etcd(self, args: list[str]) -> Reply:
        pos, _flags_ = _flags(args, {"--data-dir"})
        if not pos or pos[0] != "member-list":
            return fail('Error: unknown command "' + (pos[0] if pos else "") + '" for "k0s etcd"\n')
        if not self.n.is_controller:
            return fail(f"Error: open {DATA_DIR}/pki/etcd/ca.crt: no such file or directory\n")
        if self.c.storage != "etcd":
            return fail(f"Error: wrong storage type: {self.c.storage}\n")
        if not self.n.running:
            return fail("Error: can't list etcd cluster members: context deadline exceeded\n")
        members = {c.name: f"https://{c.address}:2380" for c in self.c.controllers}
        return ok(formats.go_json({"members": members}) + "\n")

    def kubectl(self, args: list[str]) -> Reply:
        pos, flags = [], {}
        try:
            pos, flags = _flags(args, {"-o", "--output", "--data-dir", "--kubeconfig", "-A", "--all-namespaces",
                                       "--force", "--grace-period", "--timeout", "--delete-emptydir-data",
                                       "--ignore-daemonsets"})
        except _Usage as exc:
            return fail(f"error: {exc}\n")
        if not self.n.is_controller:
            return fail(f"error: stat {DATA_DIR}/pki/admin.conf: no such file or directory\n")
        if not self.c.api_answers_on(self.n):
            return fail("The connection to the server localhost:6443 was refused - did you specify the right host or port?\n")
        if pos and pos[0] in ("drain", "cordon", "uncordon"):
            return self.cordon(pos[0], pos[1:])
        if len(pos) >= 2 and pos[0] == "get" and pos[1] in ("plans", "plan"):
            return self.plans(flags)
        if len(pos) < 2 or pos[0] != "get" or pos[1] not in ("nodes", "node", "no"):
            what = pos[1] if len(pos) > 1 else (pos[0] if pos else "")
            return fail(f'error: the demo cluster answers only "get nodes" (asked: {what!r})\n')
        out = flags.get("-o", flags.get("--output", ""))
        if out == "json":
            return ok(self.c.kube_nodes_json())
        if out:
            return fail(f'error: unable to match a printer suitable for the output format "{out}"\n')
        rows = [["NAME", "STATUS", "ROLES", "AGE", "VERSION"]]
        now = self.c.now()
        for w in self.c.workers:
            ready = w.running and self.c.api_up()
            age = (now - self.c.settings.created).days
            rows.append([w.name, "Ready" if ready else "NotReady", "<none>", f"{age}d", w.version.split("+")[0] + "+k0s"])
        return ok(formats.tabwrite([r[:-1] + [r[-1]] for r in rows], padding=3, trailing_tab=False))

    def cordon(self, verb: str, names: list[str]) -> Reply:
        """`kubectl drain|cordon|uncordon NODE` (drain: cordon, then the pods are evicted)."""
        if len(names) != 1:
            return fail(f"error: USAGE: {verb} NODE [flags]\n")
        node = self.c.nodes.get(names[0])
        if node is None or node.is_controller:
            return fail(f'Error from server (NotFound): nodes "{names[0]}" not found\n')
        node.unschedulable = verb != "uncordon"
        word = {"drain": "cordoned", "cordon": "cordoned", "uncordon": "uncordoned"}[verb]
        out = f"node/{node.name} {word}\n"
        if verb == "drain":
            out += f"node/{node.name} drained\n"
        return ok(out)

    def airgap(self, args: list[str]) -> Reply:
        pos, flags = _flags(args, {"--all", "-c", "--config", "--platform"})
        if pos != ["list-images"]:
            return fail('Error: unknown command "' + " ".join(pos) + '" for "k0s airgap"\n')
        return ok("".join(ref + "\n" for ref in autopilot.airgap_images(
            self.n.version, all_images=flags.get("--all") == "true")))

    def plans(self, flags: dict[str, str]) -> Reply:
        if not self.c.settings.autopilot:
            return fail(autopilot.NO_PLANS)
        if flags.get("-o", flags.get("--output", "")) != "json":
            return fail('error: the demo cluster answers plans only with "-o json"\n')
        return ok(autopilot.plans_json(list(self.c.nodes.values()), self.c.now()))

    # ------------------------------------------------------------------ service

    def start(self, args: list[str]) -> Reply:
        _flags(args, set())
        if self.n.running:
            return fail("Error: already running\n")
        self.c.start(self.n)
        return ok()

    def stop(self, args: list[str]) -> Reply:
        _flags(args, set())
        if not self.n.running:
            return fail("Error: already stopped\n")
        self.c.stop(self.n)
        return ok()

    # ------------------------------------------------------------------ backup / restore

    def backup(self, args: list[str]) -> Reply:
        _pos, flags = _flags(args, {"--save-path", "--data-dir"})
        if not self.n.is_controller:
            return fail("Error: this command must be run on a controller node\n")
        if self.c.storage == "etcd" and not self.n.running:
            return fail("Error: failed to create etcd snapshot: context deadline exceeded\n")
        from backends.demo.backup import make_backup  # tarfile/gzip only when backing up

        when = self.c.now()
        archive = make_backup(self.c, self.n, when)
        dest = flags.get("--save-path", self.io.cwd)
        if dest == "-":
            return Reply(0, archive)
        if not self.io.is_dir(dest):
            return fail(f"Error: the save-path directory ({dest}) does not exist\n")
        path = posixpath.join(dest, f"k0s_backup_{formats.backup_timestamp(when)}.tar.gz")
        if self.io.exists(path):
            return fail(f"Error: open {path}: file exists\n")
        self.io.write(path, archive)
        return ok()

    def restore(self, args: list[str], stdin: bytes | None) -> Reply:
        pos, _flags_ = _flags(args, {"--data-dir", "--config-out"})
        if len(pos) != 1:
            return fail("Error: path to backup archive expected\n")
        if not self.n.is_controller:
            return fail("Error: this command must be run on a controller node\n")
        if self.n.running:
            return fail("Error: k0s seems to be running! k0s must be down during the restore operation\n")
        src = pos[0]
        if src == "-":
            data = stdin or b""
        else:
            try:
                data = self.io.read(src)
            except (FileNotFoundError, IsADirectoryError):
                return fail(f"Error: open {src}: no such file or directory\n")
        from backends.demo.backup import RestoreError, read_backup

        try:
            files = read_backup(data)
        except RestoreError as exc:
            return fail(f"Error: {exc}\n")
        now = self.c.now()
        stamp = now.strftime("%Y-%m-%d %H:%M:%S")
        for name, content in files.items():
            if name.startswith(("pki/", "manifests/")):
                self.n.files[f"{DATA_DIR}/{name}"] = content
        self.n.pki = {}
        copy = posixpath.join(self.io.cwd, f"k0s_{formats.backup_timestamp(now)}.yaml")
        try:
            self.io.write(copy, files["k0s.yaml"])
        except OSError:
            copy = "(not written)"
        log = (f'time="{stamp}" level=info msg="Starting restore"\n'
               f'time="{stamp}" level=info msg="Restoring from {"stdin" if src == "-" else src}"\n'
               f'time="{stamp}" level=info msg="Restored {len(files)} files to {DATA_DIR}"\n'
               f'time="{stamp}" level=info msg="Cluster config written to {copy}"\n')
        return Reply(0, b"", log.encode())

    # ------------------------------------------------------------------ ctr

    def ctr(self, args: list[str]) -> Reply:
        # ctr's own global flags (k0s presets --address and --namespace).
        while args and args[0].startswith("-"):
            flag = args.pop(0)
            if flag in ("-a", "--address", "-n", "--namespace") and args:
                args.pop(0)
        if not args:
            return ok("NAME:\n   ctr - \n        __\n  _____/ /______\n")
        if not self.n.running:
            return fail(SOCKET_ERR)
        group, rest = args[0], args[1:]
        if group in ("version",):
            return ok(formats.ctr_version(self.n.containerd_version, self.n.containerd_version,
                                          _uuid_for(self.c, self.n)))
        sub = rest[0] if rest else ""
        rest = rest[1:]
        if group in ("images", "image", "i"):
            if sub in ("ls", "list"):
                if rest and rest[0] in ("-q", "--quiet"):
                    return ok("".join(img["ref"] + "\n" for img in sorted(self.n.images, key=lambda i: i["ref"])))
                return ok(formats.ctr_images_table(sorted(self.n.images, key=lambda i: i["ref"])))
            if sub == "pull":
                return self.pull([a for a in rest if not a.startswith("-")])
            if sub == "label":
                return self.label(rest)
            if sub in ("rm", "remove", "delete", "del"):
                return self.remove([a for a in rest if not a.startswith("-")])
        if group in ("containers", "container", "c") and sub in ("ls", "list"):
            return ok(formats.ctr_containers_table(self.n.containers))
        if group in ("tasks", "task", "t") and sub in ("ls", "list"):
            return ok(formats.ctr_tasks_table(self.n.containers))
        if group in ("containers", "container", "c") and sub == "info":
            c = next((c for c in self.n.containers if rest and c["id"] == rest[0]), None)
            if c is None:
                return fail(f'ctr: container "{rest[0] if rest else ""}" in namespace "k8s.io": not found\n')
            return ok(formats.ctr_container_info(c, self.n.started_at))
        return fail(f"ctr: No help topic for '{sub or group}'\n")

    def _find(self, ref: str) -> dict | None:
        return next((img for img in self.n.images if img["ref"] == ref), None)

    def label(self, rest: list[str]) -> Reply:
        if not rest:
            return fail("ctr: please provide an image name\n")
        img = self._find(rest[0])
        if img is None:
            return fail(f'ctr: image "{rest[0]}": not found\n')
        # Records are shared between nodes (state.image_records): this node's own copy first.
        own = {**img, "labels": dict(img["labels"])}
        self.n.images[self.n.images.index(img)] = img = own
        for pair in rest[1:]:
            key, _eq, value = pair.partition("=")
            if value:
                img["labels"][key] = value
            else:
                img["labels"].pop(key, None)
        return ok(",".join(f"{k}={v}" for k, v in sorted(img["labels"].items())) + "\n")

    def remove(self, refs: list[str]) -> Reply:
        if not refs:
            return fail("ctr: please provide an image name\n")
        out, err = [], []
        for ref in refs:
            img = self._find(ref)
            if img is None:
                err.append(f'ctr: image "{ref}": not found\n')
                continue
            self.n.images.remove(img)
            out.append(ref + "\n")
        return Reply(1 if err else 0, "".join(out).encode(), "".join(err).encode())

    def pull(self, rest: list[str]) -> Reply:
        if not rest:
            return fail("ctr: please provide an image reference to pull\n")
        ref = rest[0]
        if "/" not in ref:
            return fail(f'ctr: failed to resolve reference "{ref}": object required\n')
        name, tag = _split_ref(ref)
        size = 2_000_000 + int(digest_of(ref)[7:15], 16) % 60_000_000
        duration = max(self.c.settings.pull_duration, 0.0)
        if "does-not-exist" in ref or "notfound" in ref:
            first = formats.pull_frame(ref, "resolving", [], 0.1, 0)
            return Reply(1, "".join(ln + "\n" for ln in first).encode(),
                         f'ctr: failed to resolve reference "{ref}": {ref}: not found\n'.encode())
        manifest = digest_of(name, tag, "manifest")
        config = digest_of(name, tag, "config")
        layer_sizes = [size * 7 // 10, size * 2 // 10, size - size * 7 // 10 - size * 2 // 10 - 1800]
        layers = [(f"layer-{digest_of(name, tag, 'layer', i)}", s) for i, s in enumerate(layer_sizes)]
        frames = max(3, int(duration / 0.15)) if duration else 3
        chunks: list[tuple[float, bytes]] = []
        prev_lines = 0
        for f in range(frames + 1):
            frac = f / frames
            elapsed = 0.1 + duration * frac
            blobs: list[tuple[str, str, int, int]] = []
            if f:
                blobs.append((f"index-{manifest}", "done", 1609, 1609))
                blobs.append((f"manifest-{digest_of(name, tag, 'platform-manifest')}", "done", 1200, 1200))
            done_total = 0
            for key, lsize in layers if f else []:
                got = min(lsize, int(lsize * min(1.0, frac * 1.25)))
                done_total += got
                blobs.append((key, "done" if got >= lsize else "downloading", got, lsize))
            if f:
                blobs.append((f"config-{config}", "done" if frac >= 1 else "waiting", 1800 if frac >= 1 else 0, 1800))
            lines = formats.pull_frame(ref, "resolved" if f else "resolving", blobs, elapsed, done_total)
            text = "\n".join(lines) + "\n"
            if prev_lines:
                text = f"\x1b[{prev_lines}A\x1b[J" + text
            prev_lines = len(lines)
            chunks.append((duration / frames if f else 0.0, text.encode()))
        chunks.append((0.05, f"unpacking linux/amd64 {manifest}...\n".encode()))
        chunks.append((0.05, f"done: {formats.go_duration(duration + 0.1)}\t\n".encode()))
        node_name = self.n.name

        def commit(cluster: DemoCluster) -> None:
            node = cluster.node(node_name)
            records = image_records(name, tag, size)
            refs = {r["ref"] for r in records}
            node.images = [img for img in node.images if img["ref"] not in refs] + records

        return Reply(0, b"", b"", chunks=chunks, commit=commit)


def _split_ref(ref: str) -> tuple[str, str]:
    """``name:tag`` (``latest`` when untagged; a digest ref keeps its digest as the "tag")."""
    if "@" in ref:
        name, digest = ref.split("@", 1)
        return name, digest.split(":", 1)[-1][:12]
    slash, colon = ref.rfind("/"), ref.rfind(":")
    if colon > slash:
        return ref[:colon], ref[colon + 1:]
    return ref, "latest"


def _uuid_for(cluster: DemoCluster, node: DemoNode) -> str:
    h = digest_of(cluster.seed, node.name, "containerd")[7:]
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


# ============================================================================ shell tools

def _cat(cluster: DemoCluster, node: DemoNode, args: list[str]) -> Reply:
    paths = [a for a in args if a != "--"]
    if not paths:
        return fail("cat: -: reading stdin is not supported here\n")
    out, err = [], []
    for p in paths:
        try:
            out.append(cluster.read(node, p))
        except IsADirectoryError:
            err.append(f"cat: {p}: Is a directory\n")
        except FileNotFoundError:
            err.append(f"cat: {p}: No such file or directory\n")
    return Reply(1 if err else 0, b"".join(out), "".join(err).encode())


def _uname(cluster: DemoCluster, node: DemoNode, args: list[str]) -> Reply:
    if "-r" in args:
        return ok(node.kernel + "\n")
    if "-a" in args:
        return ok(f"Linux {node.name} {node.kernel} #1 SMP PREEMPT_DYNAMIC x86_64 GNU/Linux\n")
    return ok("Linux\n")


def _runc(cluster: DemoCluster, node: DemoNode, args: list[str]) -> Reply:
    """`<data-dir>/bin/runc --version`: the runc k0s ships (older on the lagging worker)."""
    if "--version" not in args and "version" not in args:
        return fail("runc: only --version is simulated\n")
    release = "1.2.5" if node.containerd_version >= "v1.7.27" else "1.1.14"
    return ok(f"runc version {release}\ncommit: v{release}-0-g0\nspec: 1.2.0\ngo: go1.24.4\nlibseccomp: 2.5.5\n")


def _etcd(cluster: DemoCluster, node: DemoNode, args: list[str]) -> Reply:
    """`<data-dir>/bin/etcd --version` on controllers (k0s bundles etcd there)."""
    if not node.is_controller:
        return fail(f"bash: line 1: etcd: command not found\n", 127)
    return ok("etcd Version: 3.5.21\nGit SHA: a17edfd\nGo Version: go1.24.4\nGo OS/Arch: linux/amd64\n")


def _hostname(cluster: DemoCluster, node: DemoNode, args: list[str]) -> Reply:
    return ok(node.name + "\n")


def _systemctl(cluster: DemoCluster, node: DemoNode, args: list[str]) -> Reply:
    if node.init_system != "systemd":
        return fail("bash: line 1: systemctl: command not found\n", 127)
    pos = [a for a in args if not a.startswith("-")]
    if len(pos) < 2 or pos[0] not in ("status", "is-active"):
        return fail("Access denied: the demo answers only `systemctl status`\n", 1)
    unit = pos[1].removesuffix(".service")
    if unit != node.service:
        return fail(f"Unit {unit}.service could not be found.\n", 4)
    if pos[0] == "is-active":
        return Reply(0 if node.running else 3, b"active\n" if node.running else b"inactive\n")
    kind = "controller --config=/etc/k0s/k0s.yaml" if node.is_controller else "worker --token-file=/etc/k0s/k0stoken"
    text = formats.systemctl_status(unit, node.running, node.pid, node.started_at, cluster.now(),
                                    f"/usr/local/bin/k0s {kind}")
    return Reply(0 if node.running else 3, text.encode())


def _rc_service(cluster: DemoCluster, node: DemoNode, args: list[str]) -> Reply:
    if node.init_system != "openrc":
        return fail("bash: line 1: rc-service: command not found\n", 127)
    if len(args) < 2 or args[1] != "status":
        return fail(" * rc-service: the demo answers only `rc-service <service> status`\n")
    if args[0] != node.service:
        return fail(f" * rc-service: service `{args[0]}' does not exist\n")
    return Reply(0 if node.running else 3, formats.rc_service_status(node.running).encode())


def _ls(cluster: DemoCluster, node: DemoNode, args: list[str]) -> Reply:
    paths = [a for a in args if not a.startswith("-")] or ["/root"]
    out, err = [], []
    for p in paths:
        p = posixpath.normpath(p)
        if cluster.is_dir(node, p):
            prefix = p.rstrip("/") + "/"
            names = sorted({f[len(prefix):].split("/")[0] for f in cluster.file_names(node) if f.startswith(prefix)})
            if len(paths) > 1:
                out.append(f"{p}:\n")
            out += [n + "\n" for n in names]
        elif p in cluster.file_names(node):
            out.append(p + "\n")
        else:
            err.append(f"ls: cannot access '{p}': No such file or directory\n")
    return Reply(2 if err else 0, "".join(out).encode(), "".join(err).encode())


def _find(cluster: DemoCluster, node: DemoNode, args: list[str]) -> Reply:
    """find ROOT… [-mindepth N] [-maxdepth N] [-type f|d] [-name PAT] [-o] [( … )] [!] [-print|-print0]."""
    roots: list[str] = []
    i = 0
    while i < len(args) and not args[i].startswith("-") and args[i] not in ("(", "!", ")"):
        roots.append(args[i])
        i += 1
    expr = args[i:]
    mindepth, maxdepth, sep = 0, 1 << 30, "\n"
    tokens: list[str] = []
    j = 0
    while j < len(expr):
        t = expr[j]
        if t in ("-mindepth", "-maxdepth"):
            if j + 1 >= len(expr) or not expr[j + 1].isdigit():
                return fail(f"find: missing argument to `{t}'\n")
            if t == "-mindepth":
                mindepth = int(expr[j + 1])
            else:
                maxdepth = int(expr[j + 1])
            j += 2
            continue
        if t in ("-print0", "-print"):
            sep = "\0" if t == "-print0" else "\n"
            j += 1
            continue
        tokens.append(t)
        j += 1
    try:
        predicate = _FindExpr(tokens).parse()
    except ValueError as exc:
        return fail(f"find: {exc}\n")
    out, err = [], []
    for root in roots or ["."]:
        rootn = posixpath.normpath(root)
        if not cluster.exists(node, rootn):
            err.append(f"find: ‘{root}’: No such file or directory\n")
            continue
        entries: list[tuple[str, str]] = [(rootn, "d" if cluster.is_dir(node, rootn) else "f")]
        prefix = rootn.rstrip("/") + "/"
        dirs: set[str] = set()
        for f in cluster.file_names(node):
            if f.startswith(prefix):
                entries.append((f, "f"))
                parts = f[len(prefix):].split("/")[:-1]
                for k in range(1, len(parts) + 1):
                    dirs.add(prefix + "/".join(parts[:k]))
        entries += [(d, "d") for d in dirs]
        for path, kind in sorted(entries):
            depth = 0 if path == rootn else path[len(prefix):].count("/") + 1
            if mindepth <= depth <= maxdepth and predicate(path, kind):
                out.append(path + sep)
    return Reply(1 if err else 0, "".join(out).encode(), "".join(err).encode())


class _FindExpr:
    """A tiny parser for find's -name/-type/-o/-a/!/( ) expressions."""

    def __init__(self, tokens: list[str]) -> None:
        self.t, self.i = tokens, 0

    def parse(self) -> Callable[[str, str], bool]:
        if not self.t:
            return lambda p, k: True
        e = self._or()
        if self.i != len(self.t):
            raise ValueError(f"unexpected `{self.t[self.i]}'")
        return e

    def _or(self):
        left = self._and()
        while self.i < len(self.t) and self.t[self.i] in ("-o", "-or"):
            self.i += 1
            right, prev = self._and(), left
            left = lambda p, k, a=prev, b=right: a(p, k) or b(p, k)  # noqa: E731
        return left

    def _and(self):
        left = self._not()
        while self.i < len(self.t) and self.t[self.i] not in ("-o", "-or", ")"):
            if self.t[self.i] in ("-a", "-and"):
                self.i += 1
            right, prev = self._not(), left
            left = lambda p, k, a=prev, b=right: a(p, k) and b(p, k)  # noqa: E731
        return left

    def _not(self):
        if self.i < len(self.t) and self.t[self.i] in ("!", "-not"):
            self.i += 1
            inner = self._not()
            return lambda p, k: not inner(p, k)
        return self._primary()

    def _primary(self):
        if self.i >= len(self.t):
            raise ValueError("expected an expression")
        tok = self.t[self.i]
        self.i += 1
        if tok == "(":
            e = self._or()
            if self.i >= len(self.t) or self.t[self.i] != ")":
                raise ValueError("invalid expression; I was expecting to find a ')' somewhere")
            self.i += 1
            return e
        if tok in ("-name", "-type"):
            if self.i >= len(self.t):
                raise ValueError(f"missing argument to `{tok}'")
            arg = self.t[self.i]
            self.i += 1
            if tok == "-name":
                return lambda p, k: fnmatch.fnmatchcase(posixpath.basename(p), arg)
            return lambda p, k: k == arg
        raise ValueError(f"unknown predicate `{tok}'")


def _df(cluster: DemoCluster, node: DemoNode, args: list[str]) -> Reply:
    total, free = node.disk_total_kib, node.disk_free_kib
    used = total - free
    pct = -(-used * 100 // total)
    return ok("Filesystem     1024-blocks     Used Available Capacity Mounted on\n"
              f"/dev/sda1       {total:>11} {used:>8} {free:>9} {pct:>7}% /\n")


def _rm(cluster: DemoCluster, node: DemoNode, args: list[str]) -> Reply:
    force = any(a.startswith("-") and "f" in a for a in args)
    err = []
    for p in (a for a in args if not a.startswith("-")):
        if node.files.pop(posixpath.normpath(p), None) is None and not force:
            err.append(f"rm: cannot remove '{p}': No such file or directory\n")
    return Reply(1 if err else 0, b"", "".join(err).encode())


def _true(cluster: DemoCluster, node: DemoNode, args: list[str]) -> Reply:
    return ok()


def _test(cluster: DemoCluster, node: DemoNode, args: list[str]) -> Reply:
    if len(args) == 2 and args[0] in ("-e", "-f", "-d"):
        p = args[1]
        hit = {"-e": cluster.exists(node, p), "-d": cluster.is_dir(node, p),
               "-f": posixpath.normpath(p) in cluster.file_names(node)}[args[0]]
        return Reply(0 if hit else 1)
    return fail("test: the demo answers only -e/-f/-d PATH\n", 2)


def _id(cluster: DemoCluster, node: DemoNode, args: list[str]) -> Reply:
    return ok("0\n" if "-u" in args else "uid=0(root) gid=0(root) groups=0(root)\n")


_SHELL: dict[str, Callable[[DemoCluster, DemoNode, list[str]], Reply]] = {
    "cat": _cat, "uname": _uname, "hostname": _hostname, "systemctl": _systemctl, "rc-service": _rc_service,
    "ls": _ls, "find": _find, "df": _df, "rm": _rm, "true": _true, "mkdir": _true, "test": _test, "id": _id,
    "runc": _runc, "etcd": _etcd,
    "journalctl": lambda c, n, a: demo_logs.journalctl(c, n, a), "tail": lambda c, n, a: demo_logs.tail(c, n, a),
}
