"""Validation of image references and labels: the one place every layer checks them."""

from __future__ import annotations

import re

from backends.errors import ValidationError

#: containerd's limit on one label (key + value), in bytes.
MAX_LABEL_BYTES = 4096
#: docker/distribution's limit on a repository name.
MAX_NAME_LENGTH = 255

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SPACE_OR_CONTROL = re.compile(r"[\s\x00-\x1f\x7f]")

# The image reference grammar of distribution/reference, written out.
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_DOMAIN_PART = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"(?:{_DOMAIN_PART}(?:\.{_DOMAIN_PART})*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
_NAME_RE = re.compile(rf"^(?:{_DOMAIN}/)?{_COMPONENT}(?:/{_COMPONENT})*$")
_TAG_RE = re.compile(rf"^{_TAG}$")
_DIGEST_RE = re.compile(rf"^{_DIGEST}$")
_BARE_ID_RE = re.compile(r"^sha256:[0-9a-f]{64}$")


def validate_image_ref(ref: str) -> str:
    """Return ``ref`` when it is a valid image reference, else raise ValidationError saying why.

    Accepts ``name[:tag][@digest]`` (with an optional registry host) and bare ``sha256:<id>``.
    """
    if not ref:
        raise ValidationError("image reference is empty")
    if _SPACE_OR_CONTROL.search(ref):
        raise ValidationError("image reference contains whitespace or control characters")
    if ref.startswith("-"):
        raise ValidationError("image reference cannot start with '-'")
    if len(ref) > MAX_LABEL_BYTES:
        raise ValidationError("image reference is too long")
    if _BARE_ID_RE.match(ref):
        return ref
    name, digest = ref, ""
    if "@" in ref:
        name, digest = ref.split("@", 1)
        if not _DIGEST_RE.match(digest):
            raise ValidationError(f"digest {digest!r} is not of the form algorithm:hex")
    tag = ""
    slash = name.rfind("/")
    colon = name.rfind(":")
    if colon > slash:  # a ':' after the last '/' starts the tag (before it: a registry port)
        name, tag = name[:colon], name[colon + 1:]
        if not _TAG_RE.match(tag):
            raise ValidationError(f"tag {tag!r} is invalid (letters, digits, '_', '.', '-'; at most 128)")
    if not name:
        raise ValidationError("image reference has no repository name")
    if len(name) > MAX_NAME_LENGTH:
        raise ValidationError(f"repository name is longer than {MAX_NAME_LENGTH} characters")
    if not _NAME_RE.match(name):
        path = name.split("/", 1)[1] if "/" in name and re.search(r"[.:]|^localhost$", name.split("/")[0]) else name
        if path != path.lower():
            raise ValidationError("repository name must be lowercase")
        raise ValidationError(f"{name!r} is not a valid repository name")
    return ref


def validate_label(key: str, value: str) -> None:
    """Raise ValidationError unless ``key=value`` is a label containerd (and `ctr`) accepts.

    containerd: key non-empty, key + value at most 4096 bytes. For `ctr … key=value` argv the
    key may not hold '=' or whitespace/control characters; the value may not hold control
    characters (they would corrupt the table output). An empty value removes the label.
    """
    if not key:
        raise ValidationError("label key is empty")
    if "=" in key:
        raise ValidationError(f"label key {key!r} contains '='")
    if _SPACE_OR_CONTROL.search(key):
        raise ValidationError(f"label key {key!r} contains whitespace or control characters")
    if key.startswith("-"):
        raise ValidationError("label key cannot start with '-'")
    if _CONTROL.search(value):
        raise ValidationError(f"value of label {key!r} contains control characters")
    size = len(key.encode("utf-8")) + len(value.encode("utf-8"))
    if size > MAX_LABEL_BYTES:
        raise ValidationError(f"label {key!r} is {size} bytes; key and value together may be at most {MAX_LABEL_BYTES}")
