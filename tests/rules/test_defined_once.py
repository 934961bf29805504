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
from support_rules.tickets import CANCEL_INTENT, HANDBACK_INTENTS, TICKET_STATUSES, format_ticket_number

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("bot", "actions", "handoff", "bench", "stack")
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
    tree = ast.parse(source)
    # an intent name is only a copy where it is compared or assigned, not
    # where the word itself is data (a word list of language detection)
    named = {
        id(side)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Compare, ast.Assign))
        for side in ([node.left, *node.comparators] if isinstance(node, ast.Compare) else [node.value])
    }
    for node in ast.walk(tree):
        if not isinstance(node, ast.Constant):
            continue
        value = node.value
        if isinstance(value, str):
            if value in TICKET_STATUSES:
                found.append((node.lineno, f"ticket status {value!r}"))
            elif value in HANDBACK_INTENTS:
                found.append((node.lineno, f"hand-back intent {value!r}"))
            elif value.startswith(PREFIX) and (len(value) == len(PREFIX) or value[len(PREFIX)] in "0123456789\\"):
                found.append((node.lineno, f"ticket number format {value!r}"))
            elif value == CANCEL_INTENT and id(node) in named:
                found.append((node.lineno, f"cancel intent {value!r}"))
        elif isinstance(value, int) and not isinstance(value, bool) and value == MAX_MESSAGE_CHARS:
            found.append((node.lineno, f"message limit {value}"))
    return found


def test_the_scan_sees_the_packages() -> None:
    assert len(_modules()) > 50


def test_the_scan_finds_a_copy() -> None:
    copied = (
        'OPEN = ("queued", "assigned")\nLIMIT = 4000\nNUMBER = f"T-{1:06d}"\nINTENT = "agent_resolved"\n'
        'FOUND = re.compile(r"T-\\d{6}")\nLEAVE = "cancel"\n'
    )
    assert sorted(_copies(copied)) == [
        (1, "ticket status 'assigned'"),
        (1, "ticket status 'queued'"),
        (2, "message limit 4000"),
        (3, "ticket number format 'T-'"),
        (4, "hand-back intent 'agent_resolved'"),
        (5, "ticket number format 'T-\\\\d{6}'"),
        (6, "cancel intent 'cancel'"),
    ]


@pytest.mark.parametrize("path", _modules(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_shared_facts_are_imported_not_copied(path: Path) -> None:
    copies = _copies(path.read_text(encoding="utf-8"))
    assert not copies, "; ".join(f"line {line}: {what} (import it from support_rules)" for line, what in copies)
