"""Image reference normalisation, as containerd's CRI stores names (docker.io/library/…:latest)."""

from __future__ import annotations

DEFAULT_DOMAIN = "docker.io"


def normalize_ref(ref: str) -> str:
    """The fully qualified name containerd stores for ``ref``.

    ``busybox`` -> ``docker.io/library/busybox:latest``; ``127.0.0.1:5000/x`` ->
    ``127.0.0.1:5000/x:latest``; digests and bare ``sha256:`` ids are kept.
    """
    if ref.startswith("sha256:"):
        return ref
    name, at, digest = ref.partition("@")
    first, slash, rest = name.partition("/")
    if not slash or not ("." in first or ":" in first or first == "localhost"):
        domain, path = DEFAULT_DOMAIN, name
    else:
        domain, path = first, rest
    if domain == DEFAULT_DOMAIN and "/" not in path:
        path = f"library/{path}"
    last = path.rsplit("/", 1)[-1]
    if not at and ":" not in last:
        path += ":latest"
    return f"{domain}/{path}{at}{digest}"
