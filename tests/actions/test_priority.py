"""support_rules/priority.py: the rules read what they name from the
editors' catalogue (the ``priority`` section of data/catalogue.yml)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml

from actions.core.settings import ROOT
from support_rules.catalogue import Catalogue
from support_rules.priority import PriorityRules, decide_priority, load_priority_rules

CATALOGUE = ROOT / "data" / "catalogue.yml"
TODAY = date(2026, 11, 22)


def _raw() -> dict:
    return yaml.safe_load(CATALOGUE.read_text(encoding="utf-8"))


def test_the_rules_come_from_the_catalogue() -> None:
    rules = load_priority_rules(CATALOGUE)
    assert {"dolandir", "calindi", "fraud", "unauthorised"} <= set(rules.urgent_words)  # folded
    assert rules.money_departments == {"finance"} and rules.recent_days == 3
    assert rules.account_access_topics == {"login", "account_locked", "two_factor"}
    assert rules.general_departments == {"other"}


def test_no_department_topic_or_word_is_named_in_the_code() -> None:
    code = (ROOT / "rules" / "support_rules" / "priority.py").read_text(encoding="utf-8")
    rules = load_priority_rules(CATALOGUE)
    names = rules.money_departments | rules.account_access_topics | rules.general_departments | set(rules.urgent_words)
    names -= {"urgent", "high", "normal", "low"}  # the levels are the code's own words (and the schema's)
    assert [name for name in sorted(names) if f'"{name}"' in code or f"'{name}'" in code] == []


def test_an_editor_changes_what_is_urgent_and_how_recent_counts(tmp_path: Path) -> None:
    raw = _raw()
    raw["priority"]["urgent_words"] = {"tr": ["kayboldu"], "en": ["vanished"]}
    raw["priority"]["recent_days"] = 30
    edited = tmp_path / "catalogue.yml"
    edited.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    rules = load_priority_rules(edited)

    def level(description: str, tx_date: date | None, with_rules: PriorityRules) -> str:
        return decide_priority(
            description=description,
            department="finance",
            topic_id="withdrawal",
            transaction_date=tx_date,
            today=TODAY,
            rules=with_rules,
        ).level

    assert (
        level("param KAYBOLDU", None, rules) == "urgent"
        and level("param kayboldu", None, load_priority_rules(CATALOGUE)) == "normal"
    )
    assert (
        level("dolandırıldım", None, rules) == "normal"
        and level("dolandırıldım", None, load_priority_rules(CATALOGUE)) == "urgent"
    )
    assert level("para gelmedi", date(2026, 11, 1), rules) == "high"
    assert level("para gelmedi", date(2026, 11, 1), load_priority_rules(CATALOGUE)) == "normal"


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("money_departments", ["casino"]),
        ("account_access_topics", ["no_such_topic"]),
        ("general_departments", ["misc"]),
    ],
)
def test_a_priority_section_naming_unknown_ids_is_refused(key: str, value: list[str]) -> None:
    raw = _raw()
    raw["priority"][key] = value
    with pytest.raises(ValueError, match=value[0]):
        PriorityRules.from_catalogue(Catalogue(raw))


def test_a_catalogue_without_the_section_is_refused() -> None:
    raw = _raw()
    del raw["priority"]
    with pytest.raises(ValueError, match="priority"):
        PriorityRules.from_catalogue(Catalogue(raw))
    raw = _raw()
    raw["priority"]["urgent_words"] = {"tr": [], "en": []}
    with pytest.raises(ValueError, match="urgent_words"):
        PriorityRules.from_catalogue(Catalogue(raw))
