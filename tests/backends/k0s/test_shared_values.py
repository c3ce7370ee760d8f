"""A fleet's hosts print the same images, probes and node conditions: parsing two hosts'
equal output gives shared objects (memory of a 2,000-host fleet), still equal to a fresh parse
and never shared when the values differ."""

from __future__ import annotations

import copy

from backends.k0s import parsers
from tests.files import ROOT
from widgets.table import Cell, to_cell

SAMPLES = ROOT / "tests" / "samples"


def _two_hosts(name: str) -> tuple[str, str]:
    text = (SAMPLES / name).read_text()
    return text, "".join(copy.copy(text))  # an equal text, another object (as from another host)


def test_equal_image_rows_of_two_hosts_are_one_image_with_one_labels_dict():
    a_text, b_text = _two_hosts("ctr_images_current.txt")
    a, b = parsers.parse_ctr_images(a_text), parsers.parse_ctr_images(b_text)
    assert a == b and len(a) > 3
    assert all(x is y for x, y in zip(a, b))
    labelled = [img for img in a if img.labels]
    assert labelled and all(isinstance(img.platforms, tuple) for img in a)
    other = parsers.parse_ctr_images(a_text.replace(labelled[0].ref, labelled[0].ref + "x", 1))
    changed = [img for img in other if img.ref == labelled[0].ref + "x"]
    assert len(changed) == 1 and changed[0].labels == labelled[0].labels
    assert [img for img in other if img is not changed[0]] == [img for img in a if img is not labelled[0]]
    assert all(any(img is x for x in a) for img in other if img is not changed[0])


def test_equal_sysinfo_probes_are_shared_and_frozen():
    a_text, b_text = _two_hosts("sysinfo_json_current.json")
    a, b = parsers.parse_sysinfo(a_text), parsers.parse_sysinfo(b_text)
    assert a.probes == b.probes and all(x is y for x, y in zip(a.probes, b.probes))
    text_a, text_b = _two_hosts("sysinfo_text_worker_failing.txt")
    ta, tb = parsers.parse_sysinfo(text_a), parsers.parse_sysinfo(text_b)
    assert ta.probes == tb.probes and all(x is y for x, y in zip(ta.probes, tb.probes))
    assert any("\n" in p.message for p in ta.probes)  # a joined message (replaced, not appended)


def test_node_condition_words_and_stamps_are_stored_once():
    a_text, b_text = _two_hosts("kube_nodes.json")
    a, b = parsers.parse_kube_nodes(a_text), parsers.parse_kube_nodes(b_text)
    ca, cb = a[0].conditions[0], b[0].conditions[0]
    assert ca == cb and ca.message is cb.message and ca.reason is cb.reason
    assert ca.last_transition is cb.last_transition


def test_table_cells_of_equal_text_are_one_string_and_one_cell():
    first, second = "".join(["linux/", "amd64"]), "".join(["linux/", "amd6", "4"])
    assert first is not second and to_cell(first) is to_cell(second)
    assert to_cell(Cell("Ready", "success")) is to_cell(Cell("".join(["Rea", "dy"]), "success"))
    long_a, long_b = "".join(["x"] * 300), "".join(["x"] * 300)
    assert to_cell(long_a) == long_b and to_cell(long_a) is not to_cell(long_b)  # long text: not interned


def test_a_pool_is_bounded_and_makes_each_value_once():
    from backends.pool import Pool

    pool: Pool[int, list[int]] = Pool(limit=3)
    made: list[int] = []

    def make(n: int):
        def build() -> list[int]:
            made.append(n)
            return [n]
        return build

    first = pool.share(1, make(1))
    assert pool.share(1, make(1)) is first and made == [1]
    for n in (2, 3):
        pool.share(n, make(n))
    assert len(pool) == 3
    pool.share(4, make(4))  # full: emptied, then 4 stored
    assert len(pool) == 1 and pool.share(1, make(1)) is not first and made == [1, 2, 3, 4, 1]
