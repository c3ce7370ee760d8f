"""`k0s airgap list-images [--all]`: one image reference (``repo:tag``) per line."""

from __future__ import annotations

import re

from backends.k0s.parsers._common import ParseError, guarded, require_str, strip_ansi

#: More lines than any k0s release lists (about a dozen; with --all a few dozen).
MAX_IMAGES = 1000
#: Longer than any real reference (docker/distribution caps names at 255 characters).
MAX_LINE = 512
# A reference: registry/path[:tag][@algo:hex]; lowercase path, no spaces or controls.
_REF = re.compile(
    r"^(?:[A-Za-z0-9.-]+(?::[0-9]+)?/)?[a-z0-9]+(?:[._/-]+[a-z0-9]+)*"
    r"(?::[\w][\w.-]{0,127})?(?:@[A-Za-z][A-Za-z0-9]*:[0-9a-fA-F]{32,})?$")


@guarded("airgap list-images")
def parse_airgap_images(text: str) -> list[str]:
    """The image references `k0s airgap list-images` printed, in order, duplicates dropped.

    Blank lines are skipped; a line that is not an image reference (a log line, an error, a
    control character) raises ParseError, as do more than :data:`MAX_IMAGES` lines.
    """
    text = require_str(text, "airgap list-images")
    out: dict[str, None] = {}
    for number, line in enumerate(strip_ansi(text).splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        if len(line) > MAX_LINE or not _REF.match(line):
            raise ParseError(f"airgap list-images: line {number} is not an image reference", line)
        out[line] = None
        if len(out) > MAX_IMAGES:
            raise ParseError(f"airgap list-images: more than {MAX_IMAGES} images", "")
    return list(out)
