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


def test_depth_pass_in_line_pieces_counts_as_over_the_whole_text() -> None:
    """json_depth works on pieces cut after newlines (short GIL holds on a parsing thread):
    the pieces are the whole text, and the depth is what one pass over it says, for indented
    documents whose strings hold brackets, escaped quotes and escaped newlines."""
    import json
    import random

    from backends import safeyaml

    rng = random.Random(5)

    def value(depth: int):
        if depth == 0 or rng.random() < 0.3:
            return rng.choice([1, "a[b{", 'q\\"]}', "line\nbreak ]]", None])
        if rng.random() < 0.5:
            return [value(depth - 1) for _ in range(rng.randrange(0, 4))]
        return {f"k{i}[": value(depth - 1) for i in range(rng.randrange(0, 4))}

    for _ in range(60):
        doc = json.dumps(value(rng.randrange(1, 12)), indent=rng.choice([None, 1, 2]))
        pieces = list(safeyaml._line_pieces(doc, size=rng.randrange(1, 64)))
        assert "".join(pieces) == doc
        assert all(p.endswith("\n") for p in pieces[:-1])
        whole = safeyaml._NOT_BRACKET.sub("", safeyaml._JSON_STRING.sub("", doc))
        depth = 0
        while whole:
            whole, depth = safeyaml._EMPTY_PAIR.sub("", whole), depth + 1
        assert safeyaml.json_depth(doc, 100) == depth
