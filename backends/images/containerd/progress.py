"""Pull progress from containerd's in-progress ingests (what `ctr images pull` watches).

While a pull runs, every blob being downloaded is an ingest with a ref like
``layer-sha256:<hex>`` and an offset/total; when the blob is committed the ingest disappears.
:class:`IngestTracker` turns successive ``ListStatuses`` snapshots into
:class:`~backends.models.PullProgress` updates: bytes done/total per blob, keyed by digest.
"""

from __future__ import annotations

from backends.models import PullProgress

#: Ingest ref prefixes written by containerd's remote fetcher (manifest-, index-, layer-, config-).
KINDS = ("layer", "config", "manifest", "index")


def ingest_key(ref: str) -> tuple[str, str] | None:
    """(kind, digest) of a fetch ingest ref such as ``layer-sha256:ab…``; None for other refs."""
    kind, sep, digest = ref.partition("-")
    if not sep or kind not in KINDS or ":" not in digest:
        return None
    return kind, digest


class IngestTracker:
    """Accumulates per-blob progress of one pull across ingest snapshots.

    Ingests whose ref is in ``ignore`` (those already running before this pull began: another
    pull's) and ingests started before ``since`` (server clock, seconds since the epoch; 0 = no
    limit) are not attributed to this pull.
    """

    def __init__(self, image: str, since: float = 0.0, ignore: set[str] | frozenset[str] = frozenset()) -> None:
        self.image = image
        self.since = since
        self.ignore = ignore
        self.layers: dict[str, tuple[int, int | None]] = {}
        self.kinds: dict[str, str] = {}
        self._active: set[str] = set()

    def update(self, statuses) -> PullProgress | None:
        """Fold one ListStatuses answer in; returns an update when anything changed."""
        changed = False
        active: set[str] = set()
        for st in statuses:
            key = ingest_key(st.ref)
            if key is None or st.ref in self.ignore:
                continue
            started = st.started_at.seconds + st.started_at.nanos / 1e9
            if started and started < self.since:
                continue
            kind, digest = key
            active.add(digest)
            total = st.total if st.total > 0 else None
            value = (max(0, st.offset), total)
            if self.layers.get(digest) != value:
                self.layers[digest] = value
                self.kinds[digest] = kind
                changed = True
        # an ingest that vanished was committed: count it complete
        for digest in self._active - active:
            done, total = self.layers.get(digest, (0, None))
            if total is not None and done != total:
                self.layers[digest] = (total, total)
                changed = True
        self._active = active
        return self.snapshot("downloading") if changed else None

    def snapshot(self, status: str) -> PullProgress:
        """The progress so far as one PullProgress."""
        done = sum(d for d, _ in self.layers.values())
        totals = [t for _, t in self.layers.values()]
        total = sum(t for t in totals if t is not None) if totals and None not in totals else None
        line = f"{status} {len(self.layers)} blob(s)" + (f", {done}/{total} bytes" if total else f", {done} bytes")
        return PullProgress(image=self.image, status=status, done=done, total=total,
                            layers=dict(self.layers), line=line)

    def finish(self, blobs: dict[str, int]) -> PullProgress:
        """The final 'done' update: every blob of the pulled image complete (``blobs``: digest -> size)."""
        for digest, size in blobs.items():
            self.layers[digest] = (size, size)
        for digest, (done, total) in list(self.layers.items()):
            if total is not None:
                self.layers[digest] = (total, total)
        return self.snapshot("done")
