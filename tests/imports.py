"""What a module imports, read from its source (for the boundary tests)."""

from __future__ import annotations

import ast
from pathlib import Path

__all__ = ["top_level_imports"]


def top_level_imports(path: Path) -> set[str]:
    """The top-level packages ``path`` imports absolutely ("sqlalchemy" for
    ``from sqlalchemy.orm import x``); relative imports are its own."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names
