"""Import paths shared by every test run (bot and handoff environments)."""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT, ROOT / "tests"):  # the project, and tests/live_stack.py
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))
