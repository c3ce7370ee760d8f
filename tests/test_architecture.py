"""The direction of imports is part of the design: backends never import the UI."""

import ast
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_import_linter_contracts_hold() -> None:
    """import-linter's contracts in pyproject.toml (backends ↛ textual/tui/widgets, widgets ↛ tui)."""
    exe = pathlib.Path(sys.executable).with_name("lint-imports")
    proc = subprocess.run([str(exe)], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "KEPT" in proc.stdout and "BROKEN" not in proc.stdout


def _imported_modules(path: pathlib.Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_no_textual_anywhere_under_backends() -> None:
    """A second, syntax-level check that also sees lazy imports inside functions."""
    offenders = {
        str(p.relative_to(ROOT)): sorted(_imported_modules(p) & {"textual", "tui", "widgets"})
        for p in (ROOT / "backends").rglob("*.py")
    }
    offenders = {k: v for k, v in offenders.items() if v}
    assert not offenders, offenders
