"""Write the `k0s` stand-in script (kept apart from :mod:`backends.demo.standin` so importing the
package never pre-imports the module ``python -m`` is about to run)."""

from __future__ import annotations

import shlex
import stat
import sys
from pathlib import Path

_PROJECT_ROOT = Path(__file__).resolve().parents[2]


def write_standin(directory: Path | str, state_file: Path | str, node: str, *,
                  python: str | None = None) -> Path:
    """Write an executable ``k0s`` into ``directory`` answering as ``node`` of ``state_file``.

    The script needs nothing but PATH: state file, node and the project's import path are
    baked in (the environment variables K0S_DEMO_STATE / K0S_DEMO_NODE still win when set).
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    script = directory / "k0s"
    q = shlex.quote
    script.write_text(
        "#!/bin/sh\n"
        "# k0s stand-in of the k0s-tui demo cluster\n"
        f'[ -n "${{K0S_DEMO_STATE:-}}" ] || K0S_DEMO_STATE={q(str(Path(state_file).resolve()))}\n'
        f'[ -n "${{K0S_DEMO_NODE:-}}" ] || K0S_DEMO_NODE={q(node)}\n'
        "export K0S_DEMO_STATE K0S_DEMO_NODE\n"
        f"PYTHONPATH={q(str(_PROJECT_ROOT))}${{PYTHONPATH:+:$PYTHONPATH}}\n"
        "export PYTHONPATH\n"
        f"exec {q(python or sys.executable)} -m backends.demo.standin \"$@\"\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return script

