"""k0sctl's host lock read with the host's own `stat` and `date` (real commands on this machine,
real files), and the drain/uncordon argv (k0sctl's flags, the node name after `--`)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from backends.k0s.drain import drain_args, uncordon_args
from backends.k0s.lock import STALE_AFTER_SECONDS, k0sctl_lock
from backends.transport.local import LocalTransport


async def test_no_lock_file_is_no_lock(tmp_path: Path) -> None:
    paths = (str(tmp_path / "run-lock" / "k0sctl"), str(tmp_path / "k0sctl.lock"))
    assert await k0sctl_lock(LocalTransport(), paths=paths) is None


async def test_fresh_lock_held_stale_lock_free(tmp_path: Path) -> None:
    (tmp_path / "run-lock").mkdir()
    first = tmp_path / "run-lock" / "k0sctl"
    paths = (str(first), str(tmp_path / "k0sctl.lock"))
    first.write_text("instance-1")
    lock = await k0sctl_lock(LocalTransport(), paths=paths)
    assert lock is not None and lock.path == str(first) and 0 <= lock.age_seconds < STALE_AFTER_SECONDS
    assert "k0sctl is working on this host" in lock.reason("node-1")
    old = time.time() - STALE_AFTER_SECONDS - 5
    os.utime(first, (old, old))
    assert await k0sctl_lock(LocalTransport(), paths=paths) is None
    # The fallback path counts too.
    (tmp_path / "k0sctl.lock").write_text("instance-2")
    lock = await k0sctl_lock(LocalTransport(), paths=paths)
    assert lock is not None and lock.path == str(tmp_path / "k0sctl.lock")


async def test_a_path_named_like_an_option_stays_an_operand(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "-c%n").write_text("x")  # `--` keeps stat from reading it as its format option
    lock = await k0sctl_lock(LocalTransport(), paths=("-c%n",))
    assert lock is not None and lock.path == "-c%n"


def test_drain_and_uncordon_argv() -> None:
    assert drain_args("worker-1") == ["drain", "--force", "--grace-period=120", "--timeout=300s",
                                      "--delete-emptydir-data", "--ignore-daemonsets", "--", "worker-1"]
    assert drain_args("--all")[-2:] == ["--", "--all"]  # a hostile node name is never a flag
    assert uncordon_args("worker-1") == ["uncordon", "--", "worker-1"]
