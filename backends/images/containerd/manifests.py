"""Reading OCI/Docker manifests and indexes: image size and platforms, as `ctr images ls` shows them."""

from __future__ import annotations


from backends.safeyaml import load_json
from dataclasses import dataclass, field

INDEX_TYPES = {
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
}
MANIFEST_TYPES = {
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
}


@dataclass
class Blob:
    """A content descriptor (digest + size + media type), plus a platform for index entries."""

    digest: str
    size: int
    media_type: str = ""
    platform: str = ""


@dataclass
class ManifestInfo:
    """What one manifest references."""

    config: Blob | None
    layers: list[Blob] = field(default_factory=list)


def _blob(obj: object) -> Blob | None:
    if not isinstance(obj, dict):
        return None
    digest, size = obj.get("digest"), obj.get("size")
    if not isinstance(digest, str) or not isinstance(size, int):
        return None
    plat = obj.get("platform")
    platform = ""
    if isinstance(plat, dict) and isinstance(plat.get("os"), str) and isinstance(plat.get("architecture"), str):
        platform = f"{plat['os']}/{plat['architecture']}"
        if isinstance(plat.get("variant"), str) and plat["variant"]:
            platform += f"/{plat['variant']}"
    media = obj.get("mediaType")
    return Blob(digest, size, media if isinstance(media, str) else "", platform)


def _load(data: bytes) -> dict:
    try:
        doc = load_json(data)  # deep nesting is a ValueError, never RecursionError
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"not JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise ValueError("not a JSON object")
    return doc


def parse_index(data: bytes) -> list[Blob]:
    """The manifests an index lists (entries that are not descriptors are skipped)."""
    return [b for b in (_blob(m) for m in _load(data).get("manifests") or []) if b is not None]


def parse_manifest(data: bytes) -> ManifestInfo:
    """Config and layers of an image manifest."""
    doc = _load(data)
    return ManifestInfo(_blob(doc.get("config")),
                        [b for b in (_blob(layer) for layer in doc.get("layers") or []) if b is not None])


def parse_config_platform(data: bytes) -> str:
    """``os/arch[/variant]`` from an image config ('' when absent)."""
    doc = _load(data)
    os_, arch = doc.get("os"), doc.get("architecture")
    if not isinstance(os_, str) or not isinstance(arch, str):
        return ""
    variant = doc.get("variant")
    return f"{os_}/{arch}/{variant}" if isinstance(variant, str) and variant else f"{os_}/{arch}"


def pick_platform(entries: list[Blob], wanted: str) -> Blob | None:
    """The index entry for ``wanted`` (``os/arch``), else the first entry."""
    for entry in entries:
        if entry.platform == wanted or entry.platform.startswith(wanted + "/"):
            return entry
    return entries[0] if entries else None
