"""LocalTransport: real subprocesses, files and sockets on this machine."""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import stat
import subprocess
import tempfile
import textwrap
import threading
import time
from pathlib import Path

import pytest

from backends.errors import BackendError, CommandTimeout
from backends.transport.local import LocalTransport
from tests.files import ROOT, sha256
from tests.waits import wait_for


@pytest.fixture
def local() -> LocalTransport:
    return LocalTransport()


async def test_run_status_output_and_stdin(local):
    r = await local.run(["sh", "-c", 'echo "$1"; echo oops >&2; exit 4', "sh", "a;b $(c)"])
    assert (r.exit_status, r.stdout, r.stderr) == (4, b"a;b $(c)\n", b"oops\n")
    assert r.host == "localhost" and not r.ok
    data = os.urandom(300_000)
    r = await local.run(["sha256sum"], input=data)
    assert r.stdout_text.split()[0] == hashlib.sha256(data).hexdigest()
    assert (await local.run(["cat"], timeout=5)).stdout == b""  # stdin closed, no hang


async def test_missing_program_is_exit_127(local):
    r = await local.run(["k0s-tui-no-such-binary", "status"])
    assert r.exit_status == 127 and "not found" in r.stderr_text


async def test_timeout_kills_the_whole_process_group(local, tmp_path):
    marker = tmp_path / "child.pid"
    t0 = time.monotonic()
    with pytest.raises(CommandTimeout, match="localhost"):
        # The child sleeper must die too, not only the shell.
        await local.run(["sh", "-c", f'sleep 30 & echo $! > "{marker}"; wait'], timeout=0.5)
    assert time.monotonic() - t0 < 3
    pid = int(marker.read_text())
    state = Path(f"/proc/{pid}/stat")

    def dead() -> bool:  # gone, or a zombie waiting for its (also killed) parent to be reaped
        try:
            return state.read_text().split(") ")[1][0] == "Z"
        except FileNotFoundError:
            return True

    await wait_for(dead, f"child sleeper {pid} still alive", timeout=2)


async def test_run_streaming_lines(local):
    seen = []
    r = await local.run_streaming(["sh", "-c", "printf 'a\\r\\nb\\rc'; sleep 0.2; printf '\\nd\\n'"], seen.append)
    assert seen == ["a", "b", "c", "d"] and r.ok


async def test_stream_chunks_gives_whole_lines_as_printed_and_stream_lines_splits_them(local):
    """Blocks end at a line's end (the unfinished line waits for the next chunk, the last one
    comes at the end), bytes untouched; stream_lines gives the same lines decoded."""
    script = "printf 'a\\r\\nb'; sleep 0.2; printf 'c\\n\\nd\\033e\\n'; sleep 0.2; printf 'tail'"
    blocks: list[bytes] = []
    r = await local.stream_chunks(["sh", "-c", script], blocks.append)
    assert r.ok and r.stdout == b""
    assert b"\n".join(blocks) == b"a\r\nbc\n\nd\x1be\ntail"
    assert not any(block.endswith(b"b") for block in blocks)  # "bc" came in two chunks, one line
    batches: list[list[str]] = []
    await local.stream_lines(["sh", "-c", script], batches.append)
    assert [line for batch in batches for line in batch] == ["a", "bc", "", "d\x1be", "tail"]


def test_chunk_batcher_bounds_a_line_without_end_and_loses_no_line():
    """A random cut of a stream into chunks gives back exactly its lines; a line longer than
    max_line is cut there instead of growing the buffer."""
    import random
    from backends.transport.streamio import ChunkBatcher

    rng = random.Random(3)
    data = b"".join(rng.choice([b"x" * rng.randrange(0, 40), b"\n", b"\r\n", "é".encode()]) for _ in range(3000))
    blocks: list[bytes] = []
    batcher = ChunkBatcher(blocks.append)
    at = 0
    while at < len(data):
        step = rng.randrange(1, 200)
        batcher.feed(data[at:at + step])
        at += step
    batcher.close()
    assert b"\n".join(blocks) == data.removesuffix(b"\n")
    long: list[bytes] = []
    small = ChunkBatcher(long.append, max_line=10)
    small.feed(b"0123456789abcdef")
    small.feed(b"gh\nnext")
    small.close()
    assert long == [b"0123456789", b"gh", b"next"]


@pytest.mark.timeout(60)
async def test_stream_stdout_and_stdin_files(local, tmp_path):
    src = tmp_path / "big.bin"
    with src.open("wb") as fh:
        for _ in range(50):
            fh.write(os.urandom(1 << 20))
    dest = tmp_path / "copy.bin"
    progress = []
    r = await local.stream_stdout_to_file(["cat", str(src)], dest, progress=lambda d, t: progress.append(d))
    assert r.ok and r.bytes_transferred == 50 << 20 and sha256(dest) == sha256(src)
    assert progress[-1] == 50 << 20

    back = []
    r = await local.stream_stdin_from_file(["sha256sum"], src, progress=lambda d, t: back.append((d, t)))
    assert r.ok and r.bytes_transferred == 50 << 20
    assert back[-1] == (50 << 20, 50 << 20)
    with pytest.raises(FileNotFoundError):
        await local.stream_stdin_from_file(["cat"], tmp_path / "absent")


async def test_read_file(local, tmp_path):
    f = tmp_path / "k0s.yaml"
    f.write_bytes(b"spec: {}\n")
    assert await local.read_file(str(f)) == b"spec: {}\n"
    with pytest.raises(FileNotFoundError):
        await local.read_file(str(tmp_path / "nope"))
    with pytest.raises(BackendError, match="larger than"):
        await local.read_file(str(f), max_bytes=4)


async def test_write_file_atomic_keeps_mode_and_never_shows_half_a_file(local, tmp_path):
    f = tmp_path / "k0s.yaml"
    old, new = b"A" * 2_000_000, b"B" * 2_000_000
    f.write_bytes(old)
    f.chmod(0o640)
    seen: set[bytes] = set()
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            data = f.read_bytes()
            seen.add(data[:1] + data[-1:] + str(len(data)).encode())

    th = threading.Thread(target=reader)
    th.start()
    try:
        for _ in range(5):
            await local.write_file_atomic(str(f), new)
            await local.write_file_atomic(str(f), old)
    finally:
        stop.set()
        th.join()
    assert seen and seen <= {b"AA2000000", b"BB2000000"}  # whole old or whole new, never a mix
    assert stat.S_IMODE(f.stat().st_mode) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["k0s.yaml"]
    g = tmp_path / "fresh"
    await local.write_file_atomic(str(g), b"x", mode=0o600)
    assert stat.S_IMODE(g.stat().st_mode) == 0o600 and g.read_bytes() == b"x"


async def test_forward_unix_socket_is_the_path_itself(local):
    assert await local.forward_unix_socket("/run/k0s/containerd.sock") == "/run/k0s/containerd.sock"
    assert local.info.kind == "local"
    await local.close()
    await local.close()


async def test_root_does_not_prefix_sudo(local):
    assert os.geteuid() == 0, "CI runs as root"
    r = await local.run(["sh", "-c", 'echo "u=$SUDO_USER"'], sudo=True)
    assert r.stdout_text.strip() == "u=" + os.environ.get("SUDO_USER", "")


@pytest.mark.timeout(60)
def test_sudo_password_required_for_unprivileged_console(sudo_user):
    """The console run as a user whose sudo wants a password: a clear SudoPasswordRequired."""
    # The user can reach neither the venv's interpreter (under /root) nor maybe the checkout:
    # copy the stdlib-only modules LocalTransport needs to a world-readable temp dir and
    # use Debian's python3.
    work = Path(tempfile.mkdtemp(prefix="k0s-sudo-probe-"))
    try:
        src = ROOT / "backends"
        for name in ("__init__.py", "errors.py", "transport/__init__.py", "transport/base.py",
                     "transport/streamio.py", "transport/process.py", "transport/local.py"):
            (work / "backends" / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(src / name, work / "backends" / name)
        (work / "probe.py").write_text(PROBE)
        for p in [work, *work.rglob("*")]:
            p.chmod(0o755 if p.is_dir() else 0o644)
        python = "/usr/bin/python3"
        assert os.access(python, os.X_OK), "Debian python3 expected on this machine kind"
        out = subprocess.run(
            ["runuser", "-u", sudo_user, "--", python, str(work / "probe.py"), str(work)],
            capture_output=True, text=True, timeout=50, cwd="/",
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    assert out.returncode == 0, out.stderr
    assert "id 0" in out.stdout  # the NOPASSWD rule works through `sudo -n`
    assert "refused me: sudo needs a password" in out.stdout


PROBE = textwrap.dedent("""
    import asyncio, sys
    sys.path.insert(0, sys.argv[1])
    from backends.errors import SudoPasswordRequired
    from backends.transport.local import LocalTransport

    async def main():
        t = LocalTransport("me")
        ok = await t.run(["id", "-u"], sudo=True)
        print("id", ok.stdout_text.strip())
        try:
            await t.run(["cat", "/etc/shadow"], sudo=True)
        except SudoPasswordRequired as exc:
            print("refused", exc)

    asyncio.run(main())
""")


async def test_captured_stdout_is_bounded(local):
    from backends.transport.streamio import MAX_CAPTURE

    r = await local.run(["head", "-c", str(MAX_CAPTURE + 5_000_000), "/dev/zero"])
    assert r.ok and len(r.stdout) == MAX_CAPTURE  # drained to the end, only the head kept
