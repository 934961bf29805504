"""The shared package imports no framework, so both environments can install it."""

from __future__ import annotations

import ast
from pathlib import Path

import support_rules

PACKAGE = Path(support_rules.__file__).resolve().parent
FRAMEWORKS = ("rasa", "rasa_sdk", "sanic", "sanic_ext", "sqlalchemy", "pydantic", "aiohttp", "httpx")


def _imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_the_scan_reads_every_module() -> None:
    modules = sorted(PACKAGE.glob("*.py"))
    assert {"tickets.py", "masking.py", "catalogue.py"} <= {m.name for m in modules}
    assert "yaml" in _imported(PACKAGE / "catalogue.py")  # the scan sees imports


def test_no_module_of_the_shared_package_imports_a_framework() -> None:
    for module in sorted(PACKAGE.glob("*.py")):
        assert not _imported(module) & set(FRAMEWORKS), module.name
