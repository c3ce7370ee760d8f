"""Commands asked of one host together run as one SSH session (backends/batching.py).

Unit tests for the script and the demultiplexer, then real sshd: results, statuses, stderr and
quoting identical to running alone; per-command timeouts; sudo rules that allow a command but
not `sh`; a connection lost mid-batch.
"""

from __future__ import annotations

import asyncio
import shlex
import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backends.transport.batching import StdoutDemux, batch_script, new_token, split_stderr
from backends.errors import CommandTimeout, ConnectionLost, SudoPasswordRequired
from backends.transport.ssh.transport import SSHTransport
from tests.waits import wait_for_process

# ---------------------------------------------------------------- pure parts


def run_script_locally(argvs: list[list[str]], token: str) -> tuple[bytes, bytes, int]:
    proc = subprocess.run(["sh", "-c", batch_script(argvs, token)], capture_output=True)
    return proc.stdout, proc.stderr, proc.returncode


def demux_all(stdout: bytes, count: int, token: str, chunk: int, limit: int | None = None) -> StdoutDemux:
    demux = StdoutDemux(count, token, limit)
    for i in range(0, len(stdout), chunk):
        demux(stdout[i:i + chunk])
    demux.finish()
    return demux


def test_script_round_trip_through_sh():
    token = new_token()
    argvs = [
        ["printf", "%s", "no newline"],
        ["sh", "-c", "echo out; echo err >&2; exit 3"],
        ["printf", "a\n\n\n"],
        ["echo", "$(touch /tmp/should-not-exist-k0s-tui)", "'quoted' \"double\" ; | &"],
        ["sh", "-c", "cat; echo read-eof"],  # stdin is /dev/null: must not hang or eat the script
    ]
    out, err, _ = run_script_locally(argvs, token)
    for chunk in (1, 7, 4096):
        demux = demux_all(out, len(argvs), token, chunk)
        assert demux.complete
        assert [b.getvalue() for b in demux.outputs] == [
            b"no newline", b"out\n", b"a\n\n\n",
            b"$(touch /tmp/should-not-exist-k0s-tui) 'quoted' \"double\" ; | &\n", b"read-eof\n"]
        assert demux.statuses == [0, 3, 0, 0, 0]
    assert split_stderr(err, len(argvs), token) == [b"", b"err\n", b"", b"", b""]


@settings(max_examples=60, deadline=None)
@given(outputs=st.lists(st.binary(max_size=300), min_size=1, max_size=4),
       codes=st.lists(st.integers(0, 255), min_size=4, max_size=4),
       chunk=st.integers(1, 64))
def test_demux_recovers_any_output_at_any_chunking(outputs, codes, chunk):
    token = new_token()
    stream = b"".join(out + f"\n{token}:{i}:{codes[i]}\n".encode() for i, out in enumerate(outputs))
    demux = demux_all(stream, len(outputs), token, chunk)
    assert [b.getvalue() for b in demux.outputs] == outputs
    assert demux.statuses == codes[:len(outputs)]


def test_demux_bounds_each_output_and_keeps_later_ones():
    token = new_token()
    big = b"x" * 100_000
    stream = big + f"\n{token}:0:0\n".encode() + b"small" + f"\n{token}:1:1\n".encode()
    demux = demux_all(stream, 2, token, 8192, limit=1000)
    assert demux.outputs[0].getvalue() == b"x" * 1000 and demux.outputs[0].truncated
    assert demux.outputs[1].getvalue() == b"small" and demux.statuses == [0, 1]


def test_demux_of_a_script_cut_short_gives_partial_output_and_no_status():
    token = new_token()
    demux = demux_all(b"done" + f"\n{token}:0:0\n".encode() + b"half of the", 2, token, 3)
    assert demux.finished == 1 and not demux.complete
    assert demux.outputs[1].getvalue() == b"half of the" and demux.statuses == [0, None]


def test_script_refuses_bad_tokens_and_empty_commands():
    with pytest.raises(ValueError):
        batch_script([["true"]], "x'; rm -rf /")
    with pytest.raises(ValueError):
        batch_script([[]], new_token())


# ---------------------------------------------------------------- over real sshd


@pytest.fixture
async def ssh(sshd_server):
    t = SSHTransport(sshd_server.host_spec("node-a"), sshd_server.settings())
    yield t
    await t.close()


#: What started the command: sshd (a session of its own) or the batch's sh.
PARENT = ["sh", "-c", "echo $PPID $(cat /proc/$PPID/comm)"]


async def test_commands_asked_together_share_one_session(sshd_server):
    """Batched: both commands are children of one sh. Off: each is sshd's (its own session)."""
    for batch in (True, False):
        t = SSHTransport(sshd_server.host_spec("node-a"), sshd_server.settings(batch_commands=batch))
        try:
            a, b = await asyncio.gather(t.run(PARENT), t.run(PARENT))
            parents = {a.stdout_text.split()[1], b.stdout_text.split()[1]}
            assert parents == ({"sh"} if batch else {"sshd"}), (batch, a.stdout_text, b.stdout_text)
            if batch:
                assert a.stdout_text == b.stdout_text  # the very same sh process
            later = await t.run(PARENT)  # asked in a later turn: alone, in a session of its own
            assert later.stdout_text.split()[1] == "sshd"
        finally:
            await t.close()


async def test_batched_results_equal_results_alone(ssh):
    commands = [
        ["sh", "-c", "echo out; echo err >&2; exit 4"],
        ["printf", "%s", "no newline"],
        ["echo", "$(id)", "`id`", "it's", '"$HOME"'],
        ["no-such-k0s-binary", "status"],
    ]
    together = await asyncio.gather(*(ssh.run(c) for c in commands))
    alone = [await ssh.run(c) for c in commands]
    for t, a in zip(together, alone):
        assert (t.argv, t.exit_status, t.stdout) == (a.argv, a.exit_status, a.stdout)
    assert together[0].stderr == b"err\n"
    assert together[3].exit_status == 127 and b"not found" in together[3].stderr


async def test_each_batched_command_keeps_its_own_timeout(ssh):
    started = asyncio.get_running_loop().time()
    quick, hung, after = await asyncio.gather(
        ssh.run(["echo", "first"], timeout=10),
        ssh.run(["sleep", "30"], timeout=1),
        ssh.run(["echo", "after"], timeout=10),
        return_exceptions=True,
    )
    took = asyncio.get_running_loop().time() - started
    assert quick.stdout == b"first\n"
    assert isinstance(hung, CommandTimeout) and "sleep 30" in str(hung) and "node-a" in str(hung)
    # The command queued behind the hung one never started: it ran on its own, whole.
    assert after.stdout == b"after\n" and after.exit_status == 0
    assert took < 8


async def test_sudo_rule_for_one_command_still_works_in_a_batch(sshd_server, sudo_user):
    t = SSHTransport(sshd_server.host_spec("worker-7", user=sudo_user), sshd_server.settings())
    try:
        allowed, refused = await asyncio.gather(
            t.run(["id", "-u"], sudo=True), t.run(["cat", "/etc/shadow"], sudo=True),
            return_exceptions=True)
        assert allowed.stdout_text.strip() == "0"
        assert isinstance(refused, SudoPasswordRequired) and "cat /etc/shadow" in str(refused)
    finally:
        await t.close()


async def test_connection_lost_mid_batch_keeps_finished_results(sshd_factory):
    server = sshd_factory.start()
    t = SSHTransport(server.host_spec("node-b"), server.settings())
    try:
        async def kill_once_running() -> None:
            # The batch runs its commands in order: once the sleep runs, `echo` has finished
            # and its output and end marker are on their way (results arrive at batch end).
            await wait_for_process("sleep 20.173")
            server.kill()

        killer = asyncio.ensure_future(kill_once_running())
        done, lost = await asyncio.gather(
            t.run(["echo", "before"]), t.run(["sleep", "20.173"], timeout=30), return_exceptions=True)
        await killer
        assert done.stdout == b"before\n"
        assert isinstance(lost, ConnectionLost) and "node-b" in str(lost)
    finally:
        await t.close()


def test_batch_script_quotes_with_shlex():
    """The script holds each argv exactly as shlex.join quotes it (never interpolated)."""
    token = new_token()
    argv = ["k0s", "status", "; rm -rf / #"]
    assert shlex.join(argv) in batch_script([argv], token)


async def test_a_cancelled_caller_frees_its_session(sshd_server):
    """Cancelling the only caller stops its command: the next one does not wait 30 s for a slot."""
    t = SSHTransport(sshd_server.host_spec("node-a"), sshd_server.settings(max_sessions=1))
    try:
        await t.connect()
        hung = asyncio.ensure_future(t.run(["sleep", "30.271"], timeout=60))
        await wait_for_process("sleep 30.271")  # it holds the only session now
        hung.cancel()
        with pytest.raises(asyncio.CancelledError):
            await hung
        result = await asyncio.wait_for(t.run(["echo", "next"]), 10)
        assert result.stdout == b"next\n"
    finally:
        await t.close()


async def test_one_cancelled_caller_leaves_the_batch_to_the_others(ssh):
    slow = asyncio.ensure_future(ssh.run(["sh", "-c", "sleep 1.0417; echo slow"]))
    other = asyncio.ensure_future(ssh.run(["sh", "-c", "sleep 1.0417; echo other"]))
    await wait_for_process("sleep 1.0417; echo other", timeout=1)  # both are in one batch now
    slow.cancel()
    assert (await other).stdout == b"other\n"
