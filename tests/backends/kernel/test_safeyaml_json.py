"""load_json's depth bound: exact at the limit, whether the depth pass runs or is skipped."""

from __future__ import annotations

import pytest

from backends.safeyaml import load_json


@pytest.mark.parametrize("extra", ["", ', "s": "' + "[" * 50 + '"'])  # brackets in a string count as text
def test_json_as_deep_as_the_limit_loads_one_level_more_is_refused(extra: str) -> None:
    doc = '{"a": [[{"b": 1}]]' + extra + "}"  # 4 levels
    assert load_json(doc, max_depth=4)["a"] == [[{"b": 1}]]
    with pytest.raises(ValueError, match="deeper than 3"):
        load_json(doc, max_depth=3)


def test_bytes_and_wide_shallow_json() -> None:
    doc = "[" + ",".join(["[1]"] * 500) + "]"  # 501 brackets, depth 2
    assert len(load_json(doc.encode(), max_depth=2)) == 500
    with pytest.raises(ValueError):
        load_json(doc, max_depth=1)
