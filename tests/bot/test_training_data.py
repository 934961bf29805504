"""`rasa data validate` must pass with no warning of substance.

Rasa warns that a response "is not used in any story or rule" when a custom
action or a form sends it, because it cannot see inside actions. This test
runs the real command and accepts exactly those warnings, for responses the
actions or forms really use, and fails on every other warning. It also
checks the reverse: every response an action names exists in the domain.

One more warning is Rasa's own: the retrieval intent `faq` must be listed in
the domain for rules to use it, and Rasa merges it in again from the NLU
data, warning of a duplicate. That warning is accepted for retrieval
intents only. So is "listed in the domain but not in the NLU training data"
for the intents only the handoff service triggers (actions/session.py).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

from support_rules.tickets import HANDBACK_INTENTS

ROOT = Path(__file__).resolve().parents[2]
RASA = Path(sys.executable).with_name("rasa")
_UNUSED = re.compile(r"The utterance '([^']+)' is not used in any story or rule")
_WARNING = re.compile(r"UserWarning: (.*)")
_RETRIEVAL_DUPLICATE = re.compile(r"duplicated intents have been found across multiple domain files: (.*)")
_NO_EXAMPLES = re.compile(r"The intent '([^']+)' is listed in the domain file, but is not found in the NLU")


def _domain() -> dict:
    merged: dict = {"responses": {}, "forms": {}}
    for path in sorted((ROOT / "domain").glob("*.yml")):
        part = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        merged["responses"].update(part.get("responses") or {})
        merged["forms"].update(part.get("forms") or {})
    for path in (ROOT / "data").rglob("*.yml"):
        part = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if isinstance(part, dict):
            merged["responses"].update(part.get("responses") or {})
    return merged


def _responses_named_in_actions() -> set[str]:
    names: set[str] = set()
    for path in (ROOT / "actions").rglob("*.py"):
        names |= set(re.findall(r"[\"'](utter_[a-z0-9_]+)[\"']", path.read_text(encoding="utf-8")))
    return names


def _form_questions(domain: dict) -> set[str]:
    return {f"utter_ask_{slot}" for form in domain["forms"].values() for slot in form["required_slots"]}


def test_every_response_an_action_names_exists() -> None:
    domain = _domain()
    missing = _responses_named_in_actions() - set(domain["responses"])
    assert not missing, f"actions name responses the domain lacks: {sorted(missing)}"


def test_every_form_question_exists_in_both_languages() -> None:
    domain = _domain()
    for name in _form_questions(domain):
        variations = domain["responses"][name]
        assert any(v.get("condition") for v in variations), name
        assert any(not v.get("condition") for v in variations), name


def test_every_response_has_turkish_and_english() -> None:
    for name, variations in _domain()["responses"].items():
        languages = {
            next((c["value"] for c in v.get("condition") or [] if c.get("name") == "language"), "en")
            for v in variations
        }
        assert languages == {"tr", "en"}, name


def test_rasa_data_validate_has_no_unexplained_warning() -> None:
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "PYTHONWARNINGS": "default::UserWarning"}
    result = subprocess.run(
        [str(RASA), "data", "validate", "--domain", "domain", "--data", "data", "--config", "config.yml"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    sent_by_code = _responses_named_in_actions() | _form_questions(_domain())
    retrieval_intents = {name.split("/")[0][len("utter_") :] for name in _domain()["responses"] if "/" in name}
    unexplained = []
    for line in output.splitlines():
        warning = _WARNING.search(line)
        if not warning:
            continue
        unused = _UNUSED.search(line)
        if unused and unused.group(1) in sent_by_code:
            continue
        no_examples = _NO_EXAMPLES.search(line)
        if no_examples and no_examples.group(1) in HANDBACK_INTENTS:
            continue
        duplicate = _RETRIEVAL_DUPLICATE.search(line)
        if duplicate and duplicate.group(1).strip() in retrieval_intents:
            continue
        unexplained.append(warning.group(1))
    assert not unexplained, "\n".join(unexplained)


def _examples(path: Path) -> set[str]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    found = set()
    for item in data.get("nlu") or []:
        for line in (item.get("examples") or "").splitlines():
            if line.strip().startswith("- "):
                found.add(line.strip()[2:].strip().lower())
    return found


def test_the_held_out_sets_share_no_example_with_the_training_data() -> None:
    training = set().union(*(_examples(path) for path in sorted((ROOT / "data").rglob("*.yml"))))
    held_out = sorted((ROOT / "tests" / "nlu").glob("*.yml"))
    assert {path.name for path in held_out} >= {"tr.yml", "en.yml", "blind_tr.yml", "blind_en.yml"}
    for path in held_out:
        shared = sorted(_examples(path) & training)
        assert not shared, f"{path.name} repeats training examples: {shared[:10]}"
