"""Checks of the editors' files before a training: Rasa's, and the project's own content rules.

``rasa data validate`` warns about things this project does on purpose; the
same ones tests/bot/test_training_data.py explains are left out here, by the
same rules: responses that only custom actions or forms send, the intents
only the handoff service triggers (no examples), and the duplicate notice
of a retrieval intent. Every other warning or error becomes a
:class:`Problem` in plain words. The content checks need no Rasa: every
response has Turkish and English, every FAQ has examples in both languages
and an answer, no example is also a held-out test sentence, every FAQ a
catalogue topic lists exists.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from handoff.editor.project import (
    CATALOGUE,
    FAQ_RESPONSES,
    LANGUAGES,
    PlanError,
    ProjectFiles,
    example_keys,
    language_of,
)
from handoff.settings import child_environment
from support_rules.tickets import HANDBACK_INTENTS

__all__ = ["Problem", "content_problems", "rasa_problems", "validate"]

_NAMES = {"tr": "Turkish", "en": "English"}
_UNREADABLE = " (nothing else was checked)"
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_WARNING = re.compile(r"UserWarning: (.*)")
_LOG_ERROR = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+(ERROR|CRITICAL)\s+\S+\s+-\s+(.*)")
_EXCEPTION = re.compile(r"^(?:[\w.]+\.)?(\w*(?:Exception|Error)): (.*)")
_NEW_RECORD = re.compile(r"^(\d{4}-\d\d-\d\d |\S+\.py:\d+: |\s+More info at |You can use https://)")
_FILE = re.compile(r"'([^']+\.ya?ml)'|\"([^\"]+\.ya?ml)\"")
_UNUSED = re.compile(r"The utterance '([^']+)' is not used in any story or rule")
_RETRIEVAL_DUPLICATE = re.compile(r"duplicated intents have been found across multiple domain files: (.*)")
_NO_EXAMPLES = re.compile(r"The intent '([^']+)' is listed in the domain file, but is not found in the NLU")
_SHARED_EXAMPLE = re.compile(
    r"The example '(.*)' was found labeled with multiple different intents.*The example is labeled with: (.*?)\.?$"
)
_NOT_IN_DOMAIN = re.compile(r"labeled with intent '([^']+)'\. This intent is not listed in your domain")


@dataclass(frozen=True)
class Problem:
    """Something to fix before training; ``file`` relative to the project root when known."""

    level: Literal["error", "warning"]
    message: str
    file: str | None = None


async def validate(root: Path, *, rasa: str | None, timeout: float = 120) -> list[Problem]:
    """The project's content checks, then Rasa's (``rasa`` is the rasa program; None: not installed).

    A file that is not valid YAML is the one problem reported for it: the other checks, Rasa's too, need it read.
    """
    root = Path(root)
    problems = content_problems(root)
    if any(problem.message.endswith(_UNREADABLE) for problem in problems):
        return problems  # Rasa would only say the same of the file
    return problems + await rasa_problems(root, rasa=rasa, timeout=timeout)


# Rasa's check


async def rasa_problems(root: Path, *, rasa: str | None, timeout: float = 120) -> list[Problem]:
    program = shutil.which(rasa) if rasa else None
    if program is None:
        return [Problem("error", "Rasa's check could not run: the rasa program was not found.")]
    env = child_environment({"RASA_TELEMETRY_ENABLED": "false", "PYTHONWARNINGS": "default::UserWarning"})
    args = ["data", "validate", "--domain", "domain", "--data", "data", "--config", "config.yml"]
    try:
        process = await asyncio.create_subprocess_exec(
            program, *args, cwd=root, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
        )
    except OSError as error:
        return [Problem("error", f"Rasa's check could not run: {error.strerror or error}.")]
    try:
        output, _ = await asyncio.wait_for(process.communicate(), timeout)
    except asyncio.TimeoutError:
        return [Problem("error", f"Rasa's check could not run: it did not finish within {timeout:g} seconds.")]
    finally:
        if process.returncode is None:  # timed out, or the caller gave up: no rasa left running
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
    return read_rasa_output(root, output.decode("utf-8", errors="replace"), process.returncode or 0)


def read_rasa_output(root: Path, output: str, returncode: int) -> list[Problem]:
    """Rasa's warnings and errors, less the ones this project explains (see the module's docstring)."""
    lines = _ANSI.sub("", output).splitlines()
    accepted = _accepted_warnings(root)
    problems: list[Problem] = []
    for number, line in enumerate(lines):
        if warning := _WARNING.search(line):
            message = _continued(warning.group(1), lines[number + 1 :])
            if not accepted(message):
                problems.append(Problem("warning", _plain(message), _file_named(root, message)))
        elif error := _LOG_ERROR.match(line) or _EXCEPTION.match(line):
            message = _continued(error.group(2), lines[number + 1 :])
            problems.append(Problem("error", _plain(message), _file_named(root, message)))
    if returncode != 0 and not any(problem.level == "error" for problem in problems):
        tail = " ".join(" ".join(lines[-5:]).split())[-500:]
        problems.append(Problem("error", f"Rasa's check failed: {tail}"))
    return problems


def _continued(first: str, following: list[str]) -> str:
    parts = [first.strip()]
    for line in following:
        if not line.strip() or _NEW_RECORD.match(line) or _WARNING.search(line):
            break
        parts.append(line.strip())
    return " ".join(parts)[:1000]


def _file_named(root: Path, message: str) -> str | None:
    match = _FILE.search(message)
    if not match:
        return None
    path = Path(match.group(1) or match.group(2))
    if path.is_absolute():
        with contextlib.suppress(ValueError):
            return path.resolve().relative_to(root.resolve()).as_posix()
    return path.as_posix()


def _plain(message: str) -> str:
    if shared := _SHARED_EXAMPLE.search(message):
        return f'"{shared.group(1)}" is a training example of several intents ({shared.group(2)}): keep it in one.'
    if missing := _NOT_IN_DOMAIN.search(message):
        return f"The intent {missing.group(1)} has examples but is not listed in the domain (domain/)."
    if no_examples := _NO_EXAMPLES.search(message):
        return f"The intent {no_examples.group(1)} is listed in the domain but has no training examples."
    if unused := _UNUSED.search(message):
        return f"The response {unused.group(1)} is never used by a rule or a story."
    return message


def _accepted_warnings(root: Path) -> Any:
    files = ProjectFiles(root)
    responses = {name for name, _, _ in _responses(files)}
    sent_by_code = _responses_named_in_actions(root) | _form_questions(files)
    retrieval_intents = {name.split("/")[0][len("utter_") :] for name in responses if "/" in name}

    def accepted(message: str) -> bool:
        if (unused := _UNUSED.search(message)) and unused.group(1) in sent_by_code:
            return True
        if (no_examples := _NO_EXAMPLES.search(message)) and no_examples.group(1) in HANDBACK_INTENTS:
            return True
        duplicate = _RETRIEVAL_DUPLICATE.search(message)
        return bool(duplicate and duplicate.group(1).strip() in retrieval_intents)

    return accepted


def _responses_named_in_actions(root: Path) -> set[str]:
    names: set[str] = set()
    for path in (root / "actions").rglob("*.py"):
        names |= set(re.findall(r"[\"'](utter_[a-z0-9_]+)[\"']", path.read_text(encoding="utf-8")))
    return names


def _form_questions(files: ProjectFiles) -> set[str]:
    questions: set[str] = set()
    for path in sorted((files.root / "domain").glob("*.yml")):
        try:
            part = files.load(path.relative_to(files.root).as_posix()) or {}
        except PlanError:
            continue
        for form in (part.get("forms") or {}).values():
            questions |= {f"utter_ask_{slot}" for slot in (form or {}).get("required_slots") or []}
    return questions


# the project's own checks


def _responses(files: ProjectFiles) -> list[tuple[str, list[Any], str]]:
    """(name, variations, file) of every response in domain/ and data/."""
    found: list[tuple[str, list[Any], str]] = []
    paths = sorted((files.root / "domain").glob("*.yml")) + sorted((files.root / "data").rglob("*.yml"))
    for path in paths:
        relative = path.relative_to(files.root).as_posix()
        try:
            part = files.load(relative)
        except PlanError:
            continue
        if isinstance(part, dict):
            for name, variations in (part.get("responses") or {}).items():
                found.append((str(name), variations or [], relative))
    return found


def content_problems(root: Path) -> list[Problem]:
    """The project's own rules (no Rasa); a file that is not valid YAML is the only problem reported then."""
    files = ProjectFiles(Path(root))
    unreadable = _unreadable(files)
    if unreadable:
        return unreadable
    answers, problems = _response_problems(files)
    return problems + _faq_problems(files, answers) + _held_out_problems(files) + _catalogue_problems(files, answers)


def _unreadable(files: ProjectFiles) -> list[Problem]:
    problems = []
    for folder in ("domain", "data", "tests/nlu"):
        for file in sorted((files.root / folder).rglob("*.yml")):
            relative = file.relative_to(files.root).as_posix()
            try:
                files.load(relative)
            except PlanError as error:
                problems.append(Problem("error", f"{error}{_UNREADABLE}", relative))
    return problems


def _response_problems(files: ProjectFiles) -> tuple[set[str], list[Problem]]:
    """The FAQ ids that have an answer, and the responses that lack a language."""
    answers: set[str] = set()
    problems = []
    for name, variations, path in _responses(files):
        languages = {
            next((c.get("value") for c in v.get("condition") or [] if c.get("name") == "language"), "en")
            for v in variations
            if isinstance(v, dict) and str(v.get("text") or "").strip()
        }
        for language in LANGUAGES:
            if language not in languages:
                problems.append(Problem("error", f"The response {name} has no {_NAMES[language]} text.", path))
        if name.startswith("utter_faq/"):
            answers.add(name[len("utter_faq/") :])
    return answers, problems


def _faq_problems(files: ProjectFiles, answers: set[str]) -> list[Problem]:
    languages: dict[str, set[str]] = {}
    for path, intent, examples in files.intent_blocks("data"):
        if intent.startswith("faq/") and examples:
            languages.setdefault(intent[len("faq/") :], set()).add(language_of(Path(path)) or "")
    problems = []
    for faq in sorted(answers | set(languages)):
        if faq not in answers:
            message = f"The FAQ faq/{faq} has questions but no answer utter_faq/{faq}."
            problems.append(Problem("error", message, FAQ_RESPONSES))
        for language in LANGUAGES:
            if language not in languages.get(faq, set()):
                # a warning: a new FAQ made from one language's messages is
                # still worth having; the other language's customers reach it
                # once examples in their language are added
                message = (
                    f"The FAQ faq/{faq} has no {_NAMES[language]} examples yet: "
                    f"{_NAMES[language]}-speaking customers will not get it until some are added."
                )
                problems.append(Problem("warning", message, f"data/faq/nlu_{language}.yml"))
    return problems


def _held_out_problems(files: ProjectFiles) -> list[Problem]:
    training = files.example_owners("data")
    problems = []
    for path, _, examples in files.intent_blocks("tests/nlu"):
        for example in examples:
            owner = next((training[k] for k in example_keys(example, language_of(Path(path))) if k in training), None)
            if owner:
                message = f'"{example}" is a training example of {owner} and a held-out test sentence in {path}.'
                problems.append(Problem("error", message, path))
    return problems


def _catalogue_problems(files: ProjectFiles, answers: set[str]) -> list[Problem]:
    problems = []
    for topic in (files.load(CATALOGUE) or {}).get("topics") or []:
        for faq in topic.get("faq") or []:
            if faq not in answers:
                message = f"The topic {topic.get('id')} lists the FAQ {faq}, which has no answer in {FAQ_RESPONSES}."
                problems.append(Problem("error", message, CATALOGUE))
    return problems
