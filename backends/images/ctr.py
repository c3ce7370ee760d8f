"""The `k0s ctr` image backend: images, pulls, labels and containers through containerd's CLI.

Runs `k0s ctr …` over the host's transport, so it works wherever k0s does (the fallback when
containerd's gRPC socket cannot be reached; see :mod:`backends.images.select`).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable

from backends.errors import BackendError, CommandFailed, K0sNotRunning, OutputParseError, ValidationError
from backends.images.refs import validate_image_ref, validate_label
from backends.k0s import parsers
from backends.k0s.parsers._common import shared
from backends.k0s.parsers.ctr_info import parse_ctr_container_info
from backends.models import Container, ContainerDetails, Image, PullProgress
from backends.k0s.host import K0sHost


# ctr's words when k0s's containerd socket is absent or refuses.
_CONTAINERD_DOWN = re.compile(r"failed to dial \S*containerd\.sock|containerd\.sock: connect:")
# What a container id may be (ctr takes it as an argument: nothing that could be a flag).
_CONTAINER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$")
#: Container records cached per id (a container's labels and pod never change); bounded.
INFO_CACHE_MAX = 4096
#: Records fetched per listing at most (the rest are filled in by the next listings).
INFO_PER_LISTING = 64
# A blob row whose own word says it is complete.
_BLOB_FINISHED = re.compile(r":\s+(?:done|exists)\b")


class CtrImageBackend:
    """Images through `k0s ctr` (containerd's ctr with k0s's socket and the k8s.io namespace)."""

    path = "ctr"

    def __init__(self, host: K0sHost, *, pull_timeout: float | None = 900.0) -> None:
        self.host = host
        self.pull_timeout = pull_timeout
        self._info: dict[str, ContainerDetails] = {}

    def _argv(self, *args: str) -> list[str]:
        return self.host.k0s_argv("ctr", *args)

    async def _run(self, *args: str, timeout: float | None = 60.0):
        result = await self.host.run_k0s("ctr", *args, timeout=timeout)
        if not result.ok and _CONTAINERD_DOWN.search(result.stderr_text):
            raise K0sNotRunning(self.host.name, "k0s's containerd is not running (k0s stopped?): "
                                + result.stderr_text.strip()[:200])
        if not result.ok:
            raise CommandFailed(self.host.name, list(result.argv), result.exit_status,
                                result.stderr_text, result.stdout_text)
        return result

    def _parse(self, what: str, fn, text: str):
        try:
            return fn(text)
        except parsers.ParseError as exc:
            raise OutputParseError(self.host.name, f"could not read `{what}` output: {exc}") from exc

    async def list_images(self) -> list[Image]:
        """`k0s ctr images ls`."""
        result = await self._run("images", "ls")
        return self._parse("ctr images ls", parsers.parse_ctr_images, result.stdout_text)

    async def pull(self, ref: str, progress: Callable[[PullProgress], None] | None = None) -> None:
        """`k0s ctr images pull REF`, progress lines parsed as they stream; judged by exit status."""
        validate_image_ref(ref)
        argv = self._argv("images", "pull", ref)
        seen: list[str] = []
        layers: dict[str, tuple[int, int | None]] = {}

        def on_line(line: str) -> None:
            seen.append(line)
            if progress is None:
                return
            try:
                update = parsers.parse_pull_progress(line)
            except parsers.ParseError:
                return  # progress is only a hint
            if update is None:
                return
            # ctr prints one row per blob; the callback gets the pull as a whole.
            for blob, (done, total) in update.layers.items():
                old_done, old_total = layers.get(blob, (0, None))
                total = total if total is not None else old_total
                done = max(done, old_done)  # a redraw never moves a blob backwards
                if total is not None and _BLOB_FINISHED.search(update.line):
                    done = total
                layers[blob] = (done, total)
            progress(_aggregate(ref, update.status, layers, update.line, update.done))

        result = await self.host.transport.run_streaming(argv, on_line, timeout=self.pull_timeout,
                                                         sudo=self.host.sudo)
        self.host._raise_if_not_installed(result)
        if not result.ok:
            raise CommandFailed(self.host.name, argv, result.exit_status, result.stderr_text,
                                "\n".join(seen[-5:]))
        if progress is not None:
            finished = {b: (t if t is not None else d, t) for b, (d, t) in layers.items()}
            progress(_aggregate(ref, "done", finished, "done", 0))

    async def label(self, ref: str, labels: dict[str, str]) -> dict[str, str]:
        """`k0s ctr images label REF k=v…`; returns the labels ctr reports afterwards."""
        validate_image_ref(ref)
        if not labels:
            raise ValidationError("no labels given")
        for key, value in labels.items():
            validate_label(key, value)
        result = await self._run("images", "label", ref, *(f"{k}={v}" for k, v in labels.items()))
        return self._parse("ctr images label", parsers.parse_label_output, result.stdout_text)

    async def remove(self, ref: str) -> None:
        """`k0s ctr images rm REF`."""
        validate_image_ref(ref)
        await self._run("images", "rm", ref)

    async def containers(self) -> list[Container]:
        """`k0s ctr containers ls` joined with `k0s ctr tasks ls` for the state."""
        listing = await self._run("containers", "ls")
        states: dict[str, str] = {}
        tasks = await self.host.run_k0s("ctr", "tasks", "ls")
        if tasks.ok:
            states = parse_ctr_tasks(tasks.stdout_text)
        rows = parse_ctr_containers(listing.stdout_text)
        await self._fill_info([cid for cid, _image in rows if cid not in self._info][:INFO_PER_LISTING])
        out = []
        for cid, image in rows:
            info = self._info.get(cid)
            out.append(Container(
                id=cid, name=info.name if info else cid[:13], image=image, state=states.get(cid, "created").lower(),
                pod=info.pod if info else "", namespace=info.namespace if info else "",
                created=info.created if info else None, labels=info.labels if info else {},  # never mutated: shared
                kind=info.kind if info else "container"))
        return out

    async def _info_of(self, container_id: str) -> ContainerDetails:
        if not _CONTAINER_ID.match(container_id):
            raise ValidationError(f"not a container id: {container_id[:80]!r}")
        result = await self._run("containers", "info", container_id)
        return self._parse("ctr containers info", parse_ctr_container_info, result.stdout_text)

    async def _fill_info(self, ids: list[str]) -> None:
        """Fetch the records of new containers (pod, namespace, labels), a few at a time;
        one that cannot be read is simply shown without them."""
        sem = asyncio.Semaphore(8)

        async def one(cid: str) -> None:
            async with sem:
                try:
                    info = await self._info_of(cid)
                    info.mounts = []  # the listing never shows them; details ask afresh
                    info.id = cid  # the listing's string: one copy of each id, not two
                    self._info[cid] = info
                except (BackendError, ValidationError):
                    pass
        await asyncio.gather(*(one(c) for c in ids))
        while len(self._info) > INFO_CACHE_MAX:
            self._info.pop(next(iter(self._info)))

    async def container_details(self, container_id: str) -> ContainerDetails:
        """`k0s ctr containers info ID` with the state from `k0s ctr tasks ls`."""
        info = await self._info_of(container_id)
        tasks = await self.host.run_k0s("ctr", "tasks", "ls")
        if tasks.ok:
            info.state = parse_ctr_tasks(tasks.stdout_text).get(container_id, "created").lower()
        return info

    async def close(self) -> None:
        """Nothing to release: every call is its own `k0s ctr` process."""

    async def version(self) -> str:
        """The containerd server version (`k0s ctr version`)."""
        result = await self._run("version")
        server = result.stdout_text.split("Server:", 1)[-1]
        match = re.search(r"Version:\s*(\S+)", server)
        if not match:
            raise OutputParseError(self.host.name, "could not read `ctr version` output")
        return match.group(1)


def _aggregate(ref: str, status: str, layers: dict[str, tuple[int, int | None]], line: str,
               done_hint: int) -> PullProgress:
    """One PullProgress for the whole pull: bytes summed over the blobs whose size is known."""
    known = [(d, t) for d, t in layers.values() if t is not None]
    total = sum(t for _, t in known) if known else None
    done = sum(min(d, t) for d, t in known) if known else done_hint
    return PullProgress(image=ref, status=status, done=done, total=total, layers=dict(layers), line=line)


def parse_ctr_containers(text: str) -> list[tuple[str, str]]:
    """(id, image) pairs from `ctr containers ls` (header `CONTAINER IMAGE RUNTIME`)."""
    rows: list[tuple[str, str]] = []
    for line in text.splitlines()[1:]:
        cols = line.split()
        if len(cols) >= 2:
            rows.append((cols[0], shared(cols[1]) if cols[1] != "-" else ""))  # an image runs on many hosts
    return rows


def parse_ctr_tasks(text: str) -> dict[str, str]:
    """container id -> status from `ctr tasks ls` (header `TASK PID STATUS`)."""
    out: dict[str, str] = {}
    for line in text.splitlines()[1:]:
        cols = line.split()
        if len(cols) >= 3:
            out[cols[0]] = cols[2]
    return out
