"""The shared package imports no framework, so both environments can install it."""

from __future__ import annotations

from pathlib import Path

import support_rules
from tests.imports import top_level_imports

PACKAGE = Path(support_rules.__file__).resolve().parent
FRAMEWORKS = ("rasa", "rasa_sdk", "sanic", "sanic_ext", "sqlalchemy", "pydantic", "aiohttp", "httpx")


def test_the_scan_reads_every_module() -> None:
    modules = sorted(PACKAGE.glob("*.py"))
    assert {"tickets.py", "masking.py", "catalogue.py"} <= {m.name for m in modules}
    assert "yaml" in top_level_imports(PACKAGE / "catalogue.py")  # the scan sees imports


def test_no_module_of_the_shared_package_imports_a_framework() -> None:
    for module in sorted(PACKAGE.glob("*.py")):
        assert not top_level_imports(module) & set(FRAMEWORKS), module.name
