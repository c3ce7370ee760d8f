"""What a k0s controller's configuration needs in an airgap bundle (`k0s airgap list-images`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from backends.k0s import parsers

if TYPE_CHECKING:
    from backends.k0s.host import K0sHost

#: Seconds `k0s airgap list-images` may take (it only reads the config).
LIST_TIMEOUT = 30.0


async def list_airgap_images(host: K0sHost, *, all_images: bool = False) -> list[str]:
    """`k0s airgap list-images [--all]` on ``host``: the ``repo:tag`` references, in order.

    Without ``all_images`` the list is what the host's configuration uses; ``--all`` adds the
    images of optional components the configuration leaves off (Calico, node-local load
    balancing…). Raises the adapter's typed errors (K0sNotInstalled, CommandFailed,
    OutputParseError).
    """
    args = ["airgap", "list-images"] + (["--all"] if all_images else [])
    result = host._require_ok(await host.run_k0s(*args, timeout=LIST_TIMEOUT))
    return host._parse("k0s airgap list-images", parsers.parse_airgap_images, result.stdout_text)
