"""Airgap diff: `k0s airgap list-images` parsed, compared with each node's images (normalised
references, digests), on the demo, headless (exit 3) and over real sshd."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator

import pytest

from backends.demo import DemoCluster, demo_inventory, demo_transports, write_standin
from backends.demo.autopilot import LACKING
from backends.hosts.spec import Inventory
from backends.k0s import parsers
from backends.k0s.airgap import list_airgap_images
from backends.k0s.host import K0sHost
from backends.models import Image
from backends.session.airgap import airgap_report, compare_images, report_json
from backends.session.session import ClusterSession
from backends.transport.ssh.transport import SSHTransport
from tests.tui_support import FROZEN
from tests.files import ROOT, SAMPLES
from tui import cli
from tui.headless_airgap import EXIT_MISSING, EXIT_OK, run_airgap

D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64


def img(ref: str, digest: str = D1) -> Image:
    return Image(ref=ref, media_type="application/vnd.oci.image.index.v1+json", digest=digest, size_bytes=1)


# ---------------------------------------------------------------- parser


def test_parse_real_list_images_output() -> None:
    refs = parsers.parse_airgap_images((SAMPLES / "airgap_list_images_v1.33.txt").read_text())
    assert len(refs) == 7
    assert refs[0] == "quay.io/k0sproject/apiserver-network-proxy-agent:v0.32.0"
    assert "quay.io/k0sproject/pause:3.10.1" in refs


def test_parse_skips_blank_lines_and_duplicates_keeps_digests() -> None:
    text = f"\nquay.io/k0sproject/pause:3.10.1\n\nquay.io/k0sproject/pause:3.10.1\nnginx@{D1}\n"
    assert parsers.parse_airgap_images(text) == ["quay.io/k0sproject/pause:3.10.1", f"nginx@{D1}"]


@pytest.mark.parametrize("text", [
    "Error: failed to read config: open /etc/k0s/k0s.yaml: permission denied\n",
    "quay.io/k0sproject/pause:3.10.1\x07\n",
    "quay.io/k0sproject/pause:3.10.1 extra\n",
    "-c:1\n",
    "a" * 600 + "\n",
])
def test_parse_rejects_what_is_not_a_reference(text: str) -> None:
    with pytest.raises(parsers.ParseError):
        parsers.parse_airgap_images(text)


def test_parse_is_bounded() -> None:
    text = "".join(f"quay.io/x/img{i}:1\n" for i in range(parsers.airgap.MAX_IMAGES + 1))
    with pytest.raises(parsers.ParseError, match="more than"):
        parsers.parse_airgap_images(text)


# ---------------------------------------------------------------- comparison


def test_compare_normalises_references() -> None:
    node = [img("docker.io/library/nginx:1.27.3"), img("quay.io/k0sproject/pause:3.10.1"),
            img(f"quay.io/k0sproject/pause@{D1}"), img(D1)]
    missing, present, reasons = compare_images(
        ["nginx:1.27.3", "quay.io/k0sproject/pause:3.10.1", "quay.io/k0sproject/coredns:1.12.2"], node)
    assert missing == ["quay.io/k0sproject/coredns:1.12.2"] and present == 2 and reasons == {}


def test_compare_by_digest_when_the_needed_ref_pins_one() -> None:
    node = [img("quay.io/k0sproject/pause:3.10.1", D1)]
    # Same tag, other digest: missing, and the reason names both digests.
    missing, present, reasons = compare_images([f"quay.io/k0sproject/pause:3.10.1@{D2}"], node)
    assert missing == [f"quay.io/k0sproject/pause:3.10.1@{D2}"] and present == 0
    assert "sha256:111" in reasons[missing[0]] and "sha256:222" in reasons[missing[0]]
    # The digest the node has: present, whatever the name it is listed under.
    missing, present, _ = compare_images([f"quay.io/k0sproject/pause:3.10.1@{D1}", f"registry.local/pause@{D1}"], node)
    assert missing == [] and present == 2


# ---------------------------------------------------------------- the demo


def demo_session(**kwargs) -> ClusterSession:
    demo = DemoCluster(clock=lambda: FROZEN, **kwargs)
    return ClusterSession.open(demo_inventory(demo), simulated=demo_transports(demo), clock=lambda: FROZEN)


async def test_demo_report_finds_the_missing_image() -> None:
    session = demo_session()
    await session.nodes.refresh()
    report = await airgap_report(session)
    by_host = {h.host: h for h in report.hosts}
    [(lacking_node, lacking_name)] = LACKING.items()
    assert report.source == "controller-1" and len(report.needed) == 7
    assert [r.rsplit(":", 1)[0] for r in by_host[lacking_node].missing] == [lacking_name]
    assert by_host[lacking_node].present == 6
    assert by_host["worker-1"].missing == [] and by_host["worker-1"].present == 7
    # The worker left on an older k0s has the older images: it lacks all of the new list.
    assert by_host["worker-3"].version == "v1.31.9+k0s.0" and len(by_host["worker-3"].missing) == 7
    # Controllers without workloads run no pods; the stopped worker's containerd cannot answer.
    assert by_host["controller-1"].skipped and by_host["controller-1"].missing == []
    assert by_host["worker-5"].error and by_host["worker-5"].missing == []
    await session.close()


async def test_demo_all_adds_optional_images() -> None:
    session = demo_session()
    host = session.host("controller-1")
    default = await list_airgap_images(host)
    everything = await list_airgap_images(host, all_images=True)
    assert set(default) < set(everything)
    assert any("calico-node" in r for r in everything) and not any("calico" in r for r in default)
    await session.close()


def test_headless_airgap_json_exit_3(capsys) -> None:
    rc = cli.main(["airgap", "--demo", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert rc == EXIT_MISSING == 3
    hosts = {h["host"]: h for h in data["hosts"]}
    assert hosts["worker-2"]["missing"] == ["quay.io/k0sproject/cni-node:1.7.1-k0s.0"]
    assert hosts["worker-2"]["present"] == 6 and hosts["worker-1"]["present"] == 7


async def test_headless_airgap_text_and_exit_0_when_nothing_lacks() -> None:
    session = demo_session(workers=2)  # worker-1 has all; worker-2 lacks one
    for img_rec in list(session.host("controller-1").transport.cluster.node("worker-1").images):
        session.host("controller-1").transport.cluster.node("worker-2").images.append(dict(img_rec))
    out = io.StringIO()
    assert await run_airgap(session, as_json=False, out=out) == EXIT_OK
    text = out.getvalue()
    assert "worker-2" in text and "7 present" in text and "missing" not in text


# ---------------------------------------------------------------- over real sshd


@pytest.fixture(scope="module")
def airgap_sshd(sshd_factory, tmp_path_factory):
    base = tmp_path_factory.mktemp("airgap-ssh")
    state = base / "state.json"
    state.write_text(DemoCluster(clock=lambda: FROZEN).to_json())
    servers = {}
    for node in ("controller-1", "worker-1", "worker-2"):
        bindir = base / f"bin-{node}"
        write_standin(bindir, state, node)
        servers[node] = sshd_factory.start(env={"PATH": f"{bindir}:/usr/local/bin:/usr/bin:/bin"})
    yield servers
    for server in servers.values():
        server.stop()


@pytest.fixture
async def ssh_session(airgap_sshd) -> AsyncIterator[ClusterSession]:
    hosts = []
    for node, server in airgap_sshd.items():
        spec = server.host_spec(name=node, role="controller" if node.startswith("controller") else "worker")
        hosts.append(K0sHost(spec, SSHTransport(spec, server.settings())))
    session = ClusterSession(Inventory(name="ssh-demo", hosts=[h.spec for h in hosts]), hosts)
    yield session
    await session.close()


@pytest.mark.timeout(90)
async def test_airgap_report_over_ssh(ssh_session) -> None:
    await ssh_session.nodes.refresh()
    report = await airgap_report(ssh_session)
    data = report_json(report)
    hosts = {h["host"]: h for h in data["hosts"]}
    assert data["source"] == "controller-1" and len(data["needed"]) == 7
    assert hosts["worker-2"]["missing"] == ["quay.io/k0sproject/cni-node:1.7.1-k0s.0"]
    assert hosts["worker-1"]["missing"] == [] and hosts["worker-1"]["present"] == 7
    out = io.StringIO()
    assert await run_airgap(ssh_session, as_json=False, out=out) == EXIT_MISSING
    assert "lacks quay.io/k0sproject/cni-node:1.7.1-k0s.0" in out.getvalue()


def test_the_real_entry_point_exits_3() -> None:
    """`python -m tui.cli airgap --demo` as a script runs it: the process's exit status is 3."""
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "tui.cli", "airgap", "--demo"], capture_output=True,
                          text=True, timeout=60, cwd=ROOT)
    assert proc.returncode == 3, proc.stderr
    assert "worker-2" in proc.stdout and "lacks quay.io/k0sproject/cni-node:1.7.1-k0s.0" in proc.stdout
