"""Facts both processes share are written once, in support_rules.

Every Python module of the bot, the action server, the handoff service and
the benchmarks is parsed; a ticket status, a hand-back intent, a ticket
number prefix or the message limit written there as a literal means the
fact has been copied instead of imported. Migrations are frozen history and
stay as they were written.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from support_rules.limits import MAX_MESSAGE_CHARS
from support_rules.tickets import HANDBACK_INTENTS, TICKET_STATUSES, format_ticket_number

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("bot", "actions", "handoff", "bench")
FROZEN = ("handoff/migrations/",)
PREFIX = format_ticket_number(0).rstrip("0")  # "T-"


def _modules() -> list[Path]:
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if not relative.startswith(FROZEN):
                found.append(path)
    return found


def _copies(source: str) -> list[tuple[int, str]]:
    """(line, what) for every literal that repeats a shared fact."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Constant):
            continue
        value = node.value
        if isinstance(value, str):
            if value in TICKET_STATUSES:
                found.append((node.lineno, f"ticket status {value!r}"))
            elif value in HANDBACK_INTENTS:
                found.append((node.lineno, f"hand-back intent {value!r}"))
            elif value.startswith(PREFIX) and (len(value) == len(PREFIX) or value[len(PREFIX)].isdigit()):
                found.append((node.lineno, f"ticket number format {value!r}"))
        elif isinstance(value, int) and not isinstance(value, bool) and value == MAX_MESSAGE_CHARS:
            found.append((node.lineno, f"message limit {value}"))
    return found


def test_the_scan_sees_the_packages() -> None:
    assert len(_modules()) > 50


def test_the_scan_finds_a_copy() -> None:
    copied = 'OPEN = ("queued", "assigned")\nLIMIT = 4000\nNUMBER = f"T-{1:06d}"\nINTENT = "agent_resolved"\n'
    assert sorted(_copies(copied)) == [
        (1, "ticket status 'assigned'"),
        (1, "ticket status 'queued'"),
        (2, "message limit 4000"),
        (3, "ticket number format 'T-'"),
        (4, "hand-back intent 'agent_resolved'"),
    ]


@pytest.mark.parametrize("path", _modules(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_shared_facts_are_imported_not_copied(path: Path) -> None:
    copies = _copies(path.read_text(encoding="utf-8"))
    assert not copies, "; ".join(f"line {line}: {what} (import it from support_rules)" for line, what in copies)
