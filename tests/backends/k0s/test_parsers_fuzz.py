"""Hypothesis: on any input, every parser returns a valid result or raises ParseError — nothing else."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backends.models import STATUS_RANK, Image, K0sStatus, SysinfoReport
from backends.k0s import parsers
from backends.k0s.parsers import ParseError
from tests.files import SAMPLES

SAMPLE_TEXTS = sorted(p.read_text() for p in SAMPLES.iterdir() if p.is_file())

PARSERS = [
    parsers.parse_status, parsers.parse_sysinfo, parsers.parse_ctr_images, parsers.parse_ctr_images_quiet,
    parsers.parse_label_output, parsers.parse_member_list, parsers.parse_kube_nodes, parsers.parse_version,
    parsers.parse_airgap_images, parsers.parse_plans,
]

FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(
        st.sampled_from(["Version", "Role", "Pid", "Args", "members", "items", "metadata", "name", "status",
                         "path", "displayName", "category", "prop", "message", "kind", "labels", "conditions",
                         "WorkerToAPIConnectionStatus", "Success", "Workloads", "SingleNode", "x",
                         "spec", "commands", "k0supdate", "airgapupdate", "controllers", "workers", "state",
                         "id", "version", "apiVersion"]) | st.text(max_size=8),
        children, max_size=5),
    max_leaves=20,
)


def check(fn, text) -> None:
    """Call one parser; only ParseError may escape, and results must be well-formed."""
    try:
        result = fn(text)
    except ParseError as exc:
        assert isinstance(exc.excerpt, str) and len(exc.excerpt) <= 121
        return
    if isinstance(result, K0sStatus):
        assert isinstance(result.version, str) and result.version
        assert result.pid is None or isinstance(result.pid, int)
        assert isinstance(result.args, list)
    elif isinstance(result, SysinfoReport):
        assert result.status in STATUS_RANK and result.format in ("text", "json", "legacy")
        for p in result.probes:
            assert p.status in STATUS_RANK and p.path and p.path[-1] == p.name
            assert STATUS_RANK[p.status] <= STATUS_RANK[result.status]
    elif isinstance(result, list):
        for item in result:
            if isinstance(item, Image):
                assert isinstance(item.size_bytes, int) and item.size_bytes >= 0
                assert all(isinstance(k, str) and isinstance(v, str) for k, v in item.labels.items())
            elif isinstance(item, parsers.Plan):
                assert all(isinstance(t.name, str) and isinstance(t.state, str)
                           for c in item.commands for t in c.targets)
            elif isinstance(item, str) and fn is parsers.parse_airgap_images:  # one reference a line
                assert item and not any(ch.isspace() or ord(ch) < 32 for ch in item)


@pytest.mark.parametrize("fn", PARSERS, ids=lambda f: f.__name__)
@FUZZ
@given(text=st.text())
def test_arbitrary_text(fn, text: str) -> None:
    check(fn, text)


@pytest.mark.parametrize("fn", PARSERS, ids=lambda f: f.__name__)
@FUZZ
@given(data=st.binary())
def test_decoded_bytes(fn, data: bytes) -> None:
    check(fn, data.decode("utf-8", "replace"))


@pytest.mark.parametrize("fn", PARSERS, ids=lambda f: f.__name__)
@FUZZ
@given(value=json_values)
def test_json_of_any_shape(fn, value) -> None:
    check(fn, json.dumps(value))


@pytest.mark.parametrize("fn", PARSERS, ids=lambda f: f.__name__)
@FUZZ
@given(base=st.sampled_from(SAMPLE_TEXTS), cut=st.integers(0, 10_000), insert=st.text(max_size=12),
       drop=st.integers(0, 200))
def test_mutated_real_samples(fn, base: str, cut: int, insert: str, drop: int) -> None:
    """Real-format samples with a splice (text inserted, some characters removed) somewhere."""
    cut %= len(base) + 1
    check(fn, base[:cut] + insert + base[cut + drop:])


@FUZZ
@given(line=st.text())
def test_pull_progress_never_raises(line: str) -> None:
    result = parsers.parse_pull_progress(line)
    assert result is None or result.status


@FUZZ
@given(stderr=st.text())
def test_is_not_running_is_a_bool(stderr: str) -> None:
    assert isinstance(parsers.is_not_running(stderr), bool)


@FUZZ
@given(v=st.text(max_size=30))
def test_version_tuple(v: str) -> None:
    try:
        t = parsers.version_tuple(v)
    except ParseError:
        return
    assert all(isinstance(x, int) for x in t) and len(t) >= 4


def test_non_text_input_is_a_parse_error() -> None:
    for fn in PARSERS:
        with pytest.raises(ParseError):
            fn(None)  # type: ignore[arg-type]


_PROGRESS_LIKE = (r"(layer-sha256:[0-9a-f]{1,8}|index-sha256:[0-9a-f]{1,4}|docker\.io/x:1|elapsed):? {0,3}"
                  r"(downloading|done|waiting|resolved|[0-9.]{1,6} ?s)? {0,3}(\|[+-]{0,6}\|)? {0,2}"
                  r"(total: {0,2})?[0-9.]{1,30} ?(B|KiB|MiB|Mi|kB|GB|QB)?(/[0-9.]{1,30} ?(B|MiB|Mi)?)?")


@FUZZ
@given(line=st.from_regex(_PROGRESS_LIKE, fullmatch=True))
def test_progress_like_lines(line: str) -> None:
    """Lines shaped like ctr's, with absurd numbers and units: a hint or None, never an exception."""
    result = parsers.parse_pull_progress(line)
    if result is not None:
        assert result.done >= 0 and (result.total is None or result.total >= 0)
        for done, total in result.layers.values():
            assert done >= 0 and (total is None or total >= 0)


@FUZZ
@given(text=st.from_regex(r"[0-9.]{0,40} ?[A-Za-z]{0,4}", fullmatch=True))
def test_sizes_are_ints_or_parse_errors(text: str) -> None:
    try:
        n = parsers.parse_size(text)
    except ParseError:
        return
    assert isinstance(n, int) and 0 <= n < 2 ** 63
