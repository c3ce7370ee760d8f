"""`k0s ctr images …`: the list table, `-q`, label output and pull progress lines."""

from __future__ import annotations

import re

from backends.models import Image, ImageGroup, PullProgress
from backends.pool import Pool
from backends.k0s.parsers._common import ParseError, guarded, require_str, shared, shared_mapping, shared_tuple, strip_ansi

_COLUMNS = ("REF", "TYPE", "DIGEST", "SIZE", "PLATFORMS", "LABELS")
_HEADER = re.compile(r"^REF\s+TYPE\s+DIGEST\s+SIZE\s+PLATFORMS\s+LABELS\s*$")
_UNITS: dict[str, int] = {"": 1, "b": 1}
for _i, _p in enumerate("kmgtpezy", start=1):
    _UNITS[f"{_p}ib"] = _UNITS[f"{_p}i"] = 1024 ** _i  # binary: KiB, and `Mi` from `%7.6v` truncation
    _UNITS[f"{_p}b"] = _UNITS[_p] = 1000 ** _i  # decimal: kB, MB (docker's units.HumanSize)
_SIZE = re.compile(r"^(\d+(?:\.\d+)?)\s?([A-Za-z]{0,3})$")
# Columns up to SIZE never hold spaces except SIZE itself ("1.0 MiB").
_ROW = re.compile(
    r"^(?P<ref>\S+)\s+(?P<type>\S+)\s+(?P<digest>[A-Za-z][A-Za-z0-9+._-]*:[0-9A-Za-z=_-]+)\s+"
    r"(?P<size>\d+(?:\.\d+)?(?: ?[A-Za-z]{1,3})?|-)(?:\s+(?P<rest>.*?))?\s*$"
)


def parse_size(text: str) -> int:
    """A human size (`1.0 MiB`, `512.0 KiB`, `12 B`, `3.4 MB`, `1.2 Mi`) in bytes."""
    m = _SIZE.match(text.strip())
    if not m:
        raise ParseError("not a size", text)
    unit = m.group(2).lower()
    if unit not in _UNITS:
        raise ParseError(f"unknown size unit {m.group(2)!r}", text)
    value = float(m.group(1)) * _UNITS[unit]
    if not value < 2 ** 63:  # also catches inf from an absurdly long number
        raise ParseError("size out of range", text)
    return int(round(value))


def _labels(text: str) -> dict[str, str]:
    """`k=v,k2=v2` (or `-`/empty) -> dict. A piece without `=` belongs to the previous value (a comma in it)."""
    text = text.strip()
    out: dict[str, str] = {}
    if text in ("", "-"):
        return out
    last: str | None = None
    for piece in text.split(","):
        if "=" in piece:
            key, value = piece.split("=", 1)
            if key:
                out[key] = value
                last = key
                continue
        if last is None:
            raise ParseError("labels: expected key=value", text)
        out[last] += "," + piece
    return out


def _platforms(text: str) -> list[str]:
    text = text.strip()
    if text in ("", "-"):
        return []
    return [p for p in text.split(",") if p]


def _split_rest(rest: str, labels_col: int | None) -> tuple[str, str]:
    """PLATFORMS and LABELS from what follows SIZE (either may be empty, labels may hold spaces).

    ``labels_col`` is where the header puts LABELS, relative to ``rest``; it is trusted when
    it lands on a cell boundary and leaves a plausible platforms cell, else words decide.
    """
    if not rest:
        return "", ""
    if labels_col is not None:
        if labels_col <= 0:
            return "", rest
        if labels_col <= len(rest) and rest[labels_col - 1] == " ":
            plat = rest[:labels_col].strip()
            if not any(c.isspace() for c in plat) and "=" not in plat:
                return plat, rest[labels_col:]
    first, _, remainder = rest.partition(" ")
    if "=" in first:
        return "", rest
    if not remainder.strip():
        # One cell only: platforms have a '/', labels are '-' or hold an '='.
        return (first, "") if "/" in first else ("", first)
    return first, remainder.strip()


#: Parsed images by their row: a fleet's hosts list the same images (the k0s system images on
#: every node), so equal rows give one shared Image (never mutated).
_IMAGES: Pool[tuple[str, ...], Image] = Pool()


def _image(ref: str, media_type: str, digest: str, size: str, platforms: str, labels: str) -> Image:
    def make() -> Image:
        cell = size.strip()
        return Image(
            ref=shared(ref),
            media_type=shared(media_type),
            digest=shared(digest),
            size_bytes=0 if cell in ("", "-") else parse_size(cell),
            platforms=shared_tuple(tuple(_platforms(platforms))),
            labels=shared_mapping(_labels(labels)),  # the same on every host: one dict, never mutated
        )
    return _IMAGES.share((ref, media_type, digest, size, platforms, labels), make)


def _tab_rows(lines: list[str]) -> list[Image]:
    """Rows whose cells are separated by tabs (a table not yet aligned by tabwriter)."""
    images = []
    for raw in lines:
        cells = [c.strip() for c in raw.split("\t")]
        while len(cells) > 6 and not cells[-1]:
            cells.pop()
        if len(cells) < 4 or not cells[0] or ":" not in cells[2]:
            raise ParseError("ctr images ls: unreadable row", raw)
        cells += [""] * (6 - len(cells))
        # A tab inside a label value would give extra cells: they belong to LABELS.
        images.append(_image(cells[0], cells[1], cells[2], cells[3], cells[4], "\t".join(cells[5:])))
    return images


@guarded("ctr images ls")
def parse_ctr_images(text: str) -> list[Image]:
    """Parse the `ctr images ls` table. An empty list prints only the header (-> ``[]``)."""
    text = require_str(text, "ctr images ls")
    lines = [ln.rstrip("\r") for ln in strip_ansi(text).splitlines()]
    lines = [ln for ln in lines if ln.strip()]
    if not lines:
        raise ParseError("ctr images ls: empty output (not even the header)", text)
    if not _HEADER.match(lines[0]):
        raise ParseError("ctr images ls: no `REF TYPE DIGEST SIZE PLATFORMS LABELS` header", lines[0])
    if "\t" in lines[0]:
        return _tab_rows(lines[1:])
    header = lines[0]
    cols = {name: header.index(name) for name in _COLUMNS}
    images: list[Image] = []
    for line in lines[1:]:
        m = _ROW.match(line)
        if not m:
            raise ParseError("ctr images ls: unreadable row", line)
        rest = m.group("rest")
        labels_col = None
        if rest is not None:
            # A ref longer than its column shifts the row; measure the shift at DIGEST.
            shift = m.start("digest") - cols["DIGEST"]
            labels_col = cols["LABELS"] + shift - m.start("rest")
        platforms, labels = _split_rest(rest or "", labels_col)
        images.append(_image(m.group("ref"), m.group("type"), m.group("digest"), m.group("size"),
                             platforms, labels))
    return images


@guarded("ctr images ls -q")
def parse_ctr_images_quiet(text: str) -> list[str]:
    """Refs from `ctr images ls -q`, one per line."""
    text = require_str(text, "ctr images ls -q")
    refs: list[str] = []
    for line in strip_ansi(text).splitlines():
        ref = line.strip()
        if not ref:
            continue
        if any(c.isspace() for c in ref):
            raise ParseError("ctr images ls -q: a line holds more than one word", line)
        refs.append(ref)
    return refs


def group_images(images: list[Image]) -> list[ImageGroup]:
    """Images sharing a digest (`name:tag`, `name@sha256:…`, bare `sha256:…`), in first-seen order."""
    groups: dict[str, list[Image]] = {}
    for img in images:
        groups.setdefault(img.digest, []).append(img)
    return [ImageGroup(digest=d, refs=refs) for d, refs in groups.items()]


@guarded("ctr images label")
def parse_label_output(text: str) -> dict[str, str]:
    """The labels `ctr images label` prints after the change (`k=v,k2=v2`; empty = none)."""
    text = require_str(text, "ctr images label")
    lines = [ln.strip() for ln in strip_ansi(text).splitlines() if ln.strip()]
    if len(lines) > 1:
        raise ParseError("ctr images label: expected one line", text)
    return _labels(lines[0]) if lines else {}


# --- pull progress -------------------------------------------------------------------------

_PROGRESS_ROW = re.compile(
    r"^(?P<ref>\S+?):\s+(?P<status>resolving|resolved|waiting|downloading|done|exists|committing|pending|unpacking)\s*(?:\|[+\-= ]*\|)?"
    r"(?:\s+(?P<done>\d+(?:\.\d+)?\s?[A-Za-z]{0,3})\s*/\s*(?P<total>\d+(?:\.\d+)?\s?[A-Za-z]{0,3}))?\s*$"
)
_ELAPSED = re.compile(r"^elapsed:\s*(?P<secs>[\d.]+)\s*s\s+total:\s*(?P<total>\d+(?:\.\d+)?\s?[A-Za-z]{0,3})")
_UNPACKING = re.compile(r"^unpacking\s+(?P<platform>\S+)\s+(?P<digest>\S+)")
_DONE = re.compile(r"^done:?\s*(?P<time>\S*)\s*$")
_CONTENT_KINDS = ("layer-", "config-", "manifest-", "index-")


def _size_or_none(text: str | None) -> int | None:
    if not text:
        return None
    try:
        return parse_size(text)
    except ParseError:
        return None


def parse_pull_progress(line: str) -> PullProgress | None:
    """One line of `ctr images pull` output as a progress hint, or None when it says nothing.

    Never raises: the pull is judged by its exit status, not by these lines.
    """
    if not isinstance(line, str):
        return None
    clean = strip_ansi(line).replace("\r", "").strip()
    if not clean:
        return None
    m = _ELAPSED.match(clean)
    if m:
        done = _size_or_none(m.group("total")) or 0
        return PullProgress(image="", status="downloading", done=done, line=clean)
    m = _UNPACKING.match(clean)
    if m:
        return PullProgress(image="", status="unpacking", line=clean)
    m = _DONE.match(clean)
    if m:
        return PullProgress(image="", status="done", line=clean)
    m = _PROGRESS_ROW.match(clean)
    if not m:
        return None
    ref, status = m.group("ref"), m.group("status").strip()
    done = _size_or_none(m.group("done"))
    total = _size_or_none(m.group("total"))
    if ref.startswith(_CONTENT_KINDS):
        # One blob's row: the pull as a whole is still transferring, whatever this blob says
        # (its own word, e.g. "done" or "waiting", stays in ``line``).
        layers: dict[str, tuple[int, int | None]] = {}
        if done is not None:
            layers[ref] = (done, total)
        elif status == "done":
            layers[ref] = (total or 0, total)
        return PullProgress(image="", status="downloading", done=done or 0, total=total, layers=layers,
                            line=clean)
    return PullProgress(image=ref, status=status, line=clean)
