"""`k0s ctr images …` parsers: samples captured from real ctr (containerd 1.6) and hand-written ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from backends.models import Image
from backends.k0s.parsers import (
    ParseError,
    group_images,
    parse_ctr_images,
    parse_ctr_images_quiet,
    parse_label_output,
    parse_pull_progress,
    parse_size,
)
from tests.files import SAMPLES

BUSYBOX = "sha256:cec785356185ce1942200e73ca082aaf368fc689b9a162e0ee05e9d4a0a6ad86"
PAUSE = "sha256:6f3f1f0a2f9ffe4a8ca12caa82c656e79527f8aa709f7d08424d71a9e6c50d4a"


def sample(name: str) -> str:
    return (SAMPLES / name).read_text()


def test_real_ctr_listing_with_hostile_labels() -> None:
    images = parse_ctr_images(sample("ctr_images_real_containerd16.txt"))
    assert [i.ref for i in images] == [
        "127.0.0.1:45123/busybox:latest", "127.0.0.1:45123/pause:3.6",
        "sha256:9ab14cca3e87a86e71b0fdf675657dc096ddb3af2b0b17323e8deff29f08c5e1",
        "sha256:d8e0ddf6ab6d927fa270ccfd609f566c7e84fdabb87ae5fe9eb071a87565ac43",
    ]
    busybox, pause = images[0], images[1]
    assert busybox.media_type == "application/vnd.oci.image.manifest.v1+json"
    assert busybox.digest == BUSYBOX and busybox.size_bytes == 1024 * 1024
    assert busybox.platforms == ("linux/amd64",)
    assert busybox.labels == {"[bold]x": "1", "a": "b=c", "io.cri-containerd.image": "managed"}
    # a label value holding a space and a comma
    assert pause.labels == {"io.cri-containerd.image": "managed", "note": "hello world, again", "x.y/z": "1"}


def test_grouping_by_digest() -> None:
    groups = group_images(parse_ctr_images(sample("ctr_images_real_containerd16.txt")))
    assert [g.digest for g in groups] == [BUSYBOX, PAUSE]
    assert [len(g.refs) for g in groups] == [2, 2]
    assert groups[0].primary.ref == "127.0.0.1:45123/busybox:latest"
    rev = group_images(list(reversed(parse_ctr_images(sample("ctr_images_real_containerd16.txt")))))
    assert rev[0].digest == PAUSE and rev[0].primary.ref == "127.0.0.1:45123/pause:3.6"


def test_hand_written_listing() -> None:
    images = parse_ctr_images(sample("ctr_images_current.txt"))
    assert len(images) == 5
    coredns = images[0]
    assert coredns.platforms == ("linux/amd64", "linux/arm", "linux/arm64/v8")
    assert coredns.size_bytes == round(16.5 * 1024 * 1024)
    assert images[3].ref == "registry.k8s.io/pause:3.9"
    assert images[3].size_bytes == 512 * 1024 and images[3].labels == {}
    tiny = images[4]
    assert tiny.size_bytes == 12 and tiny.platforms == ()  # empty PLATFORMS cell
    assert tiny.labels == {"[bold]x": "1", "a": "b=c"}
    groups = group_images(images)
    assert len(groups) == 3
    assert [r.ref.split("@")[0].split(":")[0] for r in groups[0].refs][:2] == ["quay.io/k0sproject/coredns"] * 2
    assert groups[0].primary.ref == "quay.io/k0sproject/coredns:1.11.3"


def test_ref_longer_than_its_column() -> None:
    images = parse_ctr_images(sample("ctr_images_long_ref.txt"))
    assert images[0].labels == {"team": "web", "env": "prod"} and images[0].size_bytes == 2_100_000
    long = images[1]
    assert long.ref.endswith("that/overflows:v1.2.3-rc.4")
    assert long.digest == "sha256:" + "b2" * 32
    assert long.size_bytes == round(3.4 * 1024 * 1024)
    assert long.platforms == ("linux/arm64",)
    assert long.labels == {"note": "has spaces here", "x": "1"}


def test_tab_separated_table() -> None:
    text = ("REF\tTYPE\tDIGEST\tSIZE\tPLATFORMS\tLABELS\t\n"
            "a:1\tapplication/x\tsha256:" + "1" * 64 + "\t1.0 KiB\t\tk=v w\t\n")
    [img] = parse_ctr_images(text)
    assert (img.ref, img.size_bytes, img.platforms, img.labels) == ("a:1", 1024, (), {"k": "v w"})


@pytest.mark.parametrize("name", ["ctr_images_empty.txt", "ctr_images_empty_real_containerd16.txt"])
def test_empty_list_is_header_only(name: str) -> None:
    assert parse_ctr_images(sample(name)) == []


@pytest.mark.parametrize("text", [
    "", "\n", "ctr: failed to dial \"/run/k0s/containerd.sock\": connection refused\n",
    "REF TYPE DIGEST\n",  # truncated header
    "REF TYPE DIGEST SIZE PLATFORMS LABELS\nonly-a-ref\n",
    "REF TYPE DIGEST SIZE PLATFORMS LABELS\nref type nodigest 1.0 MiB linux/amd64 -\n",
    "REF TYPE DIGEST SIZE PLATFORMS LABELS\nref type sha256:ab 1.0 QiB linux/amd64 -\n",
    "REF TYPE DIGEST SIZE PLATFORMS LABELS\nref type sha256:ab 1.0 MiB linux/amd64 ,novalue\n",
])
def test_unreadable_listing_raises_parse_error(text: str) -> None:
    with pytest.raises(ParseError):
        parse_ctr_images(text)


@pytest.mark.parametrize("text,expected", [
    ("12 B", 12), ("12.0 B", 12), ("1.0 MiB", 1048576), ("512.0 KiB", 524288), ("2.5 GiB", int(2.5 * 2**30)),
    ("3.4 kB", 3400), ("1 MB", 1_000_000), ("3.4 Mi", round(3.4 * 2**20)), ("0.0 B", 0), ("7", 7),
])
def test_sizes(text: str, expected: int) -> None:
    assert parse_size(text) == expected


def test_quiet_listing() -> None:
    refs = parse_ctr_images_quiet(sample("ctr_images_quiet_real_containerd16.txt"))
    assert refs[0] == "127.0.0.1:45123/busybox:latest" and len(refs) == 4
    assert parse_ctr_images_quiet("") == []
    with pytest.raises(ParseError):
        parse_ctr_images_quiet("REF TYPE DIGEST\n")


def test_label_output() -> None:
    assert parse_label_output(sample("ctr_label_real_containerd16.txt")) == {
        "note": "hello world, again", "io.cri-containerd.image": "managed", "x.y/z": "1"}
    assert parse_label_output(sample("ctr_label_output.txt")) == {
        "env": "prod", "io.cri-containerd.image": "managed", "team": "web"}
    assert parse_label_output("\n") == {}
    assert parse_label_output("a=b=c,[bold]x=1\n") == {"a": "b=c", "[bold]x": "1"}
    for bad in ("no-equals\n", "a=1\nb=2\n", "=v\n"):
        with pytest.raises(ParseError):
            parse_label_output(bad)


def test_pull_progress_terminal_frames() -> None:
    updates = [parse_pull_progress(line) for line in sample("ctr_pull_progress.txt").splitlines()]
    assert all(u is not None for u in updates)
    statuses = [u.status for u in updates]
    assert statuses[0] == "resolving" and updates[0].image == "docker.io/library/busybox:latest"
    assert statuses[2] == "resolved"  # after the cursor-up/clear escape codes of a redraw
    layer = updates[5]
    key = "layer-sha256:" + "a7" * 32
    assert layer.status == "downloading" and layer.layers == {key: (round(1.2 * 2**20), round(3.4 * 2**20))}
    assert layer.done == round(1.2 * 2**20) and layer.total == round(3.4 * 2**20)
    waiting = updates[6]
    assert waiting.status == "downloading" and waiting.layers == {}  # a blob's own "waiting" is no overall state
    elapsed = updates[7]
    assert elapsed.done == round(3.4 * 2**20)  # "total:  3.4 Mi", ctr's truncated "MiB"
    assert statuses[-2:] == ["unpacking", "done"]


def test_pull_progress_real_ctr() -> None:
    updates = [parse_pull_progress(line) for line in sample("ctr_pull_real_containerd16.txt").splitlines()]
    assert [u.status for u in updates if u] == [
        "resolved", "downloading", "downloading", "downloading", "downloading", "unpacking", "done"]
    assert updates[0].image == "127.0.0.1:45123/busybox:latest"
    # a blob reported "done" never looks like the whole pull being done
    assert [u.status for u in updates[1:4]] == ["downloading"] * 3


@pytest.mark.parametrize("line", ["", "   ", "random words", "\x1b[2A\x1b[J", "ctr: not found", None, 42])
def test_pull_progress_unknown_lines_are_none(line) -> None:
    assert parse_pull_progress(line) is None


def test_group_images_empty_and_single() -> None:
    assert group_images([]) == []
    img = Image(ref="sha256:" + "0" * 64, media_type="m", digest="sha256:" + "1" * 64, size_bytes=1)
    [g] = group_images([img])
    assert g.primary is img
