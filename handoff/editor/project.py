"""The editor's changes to the project's files: training examples, FAQ questions and answers.

An editor's :class:`Decision` becomes a :class:`Plan` (the new texts of the
files, nothing written yet) that can be shown as a patch, written with
:func:`apply` or committed to an ``editor/<name>`` branch with
:func:`commit_to_branch` (both in handoff.editor.branch, re-exported here).

Files are edited with ruamel.yaml's round trip, so comments, key order,
quoting and the ``examples: |`` blocks stay as the editors wrote them; a
file whose layout the round trip would change is refused rather than
rewritten. Every change is read back (PyYAML, then Rasa's reading of an
``examples`` block) and compared with what was meant.

Examples are compared case-folded and whitespace-collapsed, the Turkish way
(``I`` = ``ı``, ``İ`` = ``i``) and the plain way, so a message equal to a
training example or to a held-out test sentence (tests/nlu) either way is
refused with the reason.

Errors::

    PlanError    a decision that cannot be planned (unknown intent, bad FAQ id, ...),
                 or a plan whose files changed before apply()
    BranchError  a plan that cannot be committed to the editor's branch
"""

from __future__ import annotations

import io
import os
import re
import tempfile
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, LiteralScalarString

from handoff.editor.branch import BranchError, commit_to_branch, unified_patch

__all__ = [
    "LANGUAGES",
    "BranchError",
    "Change",
    "Decision",
    "Plan",
    "PlanError",
    "ProjectFiles",
    "SkipCode",
    "Skipped",
    "apply",
    "commit_to_branch",
    "example_keys",
    "language_of",
    "normalise",
    "unified_patch",
]

LANGUAGES = ("tr", "en")
Language = Literal["tr", "en"]
DecisionKind = Literal["intent", "faq", "new_faq"]

FAQ_NLU = "data/faq/nlu_{language}.yml"
FAQ_RESPONSES = "data/faq/responses.yml"
CATALOGUE = "data/catalogue.yml"
_INTENT_DIR = "data/nlu/{language}"
_HELD_OUT_DIR = "tests/nlu"

_FAQ_ID = re.compile(r"[a-z0-9_]+")
# Rasa's entity mark-up in an example (rasa.shared.nlu.training_data.entities_parser.ENTITY_REGEX)
_ENTITY = re.compile(
    r"\[(?P<entity_text>[^\]]+?)\](\((?P<entity>[^:)]+?)(?:\:(?P<value>[^)]+))?\)|\{(?P<entity_dict>[^}]+?)\}|\[(?P<list_entity_dicts>.*?)\])"
)
# what YAML can hold in a file as it is (YAML 1.2, 5.1), less the byte order mark
_UNPRINTABLE = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]")
# layouts (mapping, sequence, offset) tried for a file's round trip: the nlu files', the catalogue's
_LAYOUTS = ((2, 2, 0), (2, 4, 2), (4, 4, 2), (4, 6, 4))


_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class PlanError(ValueError):
    """A decision that cannot become a change; the message is for the editor."""


@dataclass(frozen=True)
class Decision:
    """What an editor decided about customer messages.

    ``kind`` "intent": ``examples`` go to the intent ``target``; "faq": to the
    FAQ ``target`` (its id, without "faq/"); "new_faq": a new FAQ ``target``
    with its answers in both languages and, optionally, the catalogue
    ``topic`` whose ``faq:`` list gains it.
    """

    kind: DecisionKind
    target: str
    examples: list[tuple[str, str]] = field(default_factory=list)
    answer_tr: str | None = None
    answer_en: str | None = None
    topic: str | None = None


@dataclass(frozen=True)
class Change:
    """One file's text before and after; ``path`` relative to the project root, with "/"."""

    path: str
    before: str
    after: str


SkipCode = Literal["empty", "unprintable", "entity_markup", "held_out", "duplicate", "repeated"]


@dataclass(frozen=True)
class Skipped:
    """An example not added, and why: ``reason`` in plain (English) words, ``code`` for a page to translate."""

    language: str
    text: str
    reason: str
    code: SkipCode


@dataclass(frozen=True)
class Plan:
    root: Path
    changes: list[Change]
    skipped: list[Skipped]
    added: list[tuple[str, str]]

    @property
    def paths(self) -> list[str]:
        return [change.path for change in self.changes]


def normalise(text: str, language: str | None = None) -> str:
    """Case-folded and whitespace-collapsed; Turkish case rules unless ``language`` is "en"."""
    text = unicodedata.normalize("NFC", text).replace("İ", "i")
    if language != "en":
        text = text.replace("I", "ı")
    return " ".join(text.casefold().replace("i\u0307", "i").split())


def example_keys(text: str, language: str | None) -> set[str]:
    # the Turkish way and the plain way (tests/bot/test_training_data.py compares str.lower())
    return {normalise(text, language), normalise(text, "en")}


def language_of(path: Path) -> str | None:
    for part in reversed(path.with_suffix("").parts):
        for language in LANGUAGES:
            if part == language or part.endswith(f"_{language}"):
                return language
    return None


def _examples_of(block: Any) -> list[str]:
    """The examples Rasa reads from an intent's ``examples`` (a ``|`` block or a list of ``text:``)."""
    if isinstance(block, str):
        lines = [line[1:].strip("\n\r ") for line in block.splitlines() if line.startswith("-")]
    elif isinstance(block, list):
        lines = [str(item.get("text", "")).strip("\n\r ") for item in block if isinstance(item, dict)]
    else:
        return []
    return [_ENTITY.sub(lambda match: match.group("entity_text"), line) for line in lines]


@dataclass
class _Document:
    """One YAML file loaded for a round trip, with the layout that gives it back unchanged."""

    path: str
    before: str
    yaml: YAML
    data: Any

    def text(self) -> str:
        out = io.StringIO()
        self.yaml.dump(self.data, out)
        return out.getvalue()


def _round_trip(path: str, text: str) -> _Document:
    for mapping, sequence, offset in _LAYOUTS:
        handler = YAML()
        handler.preserve_quotes = True
        handler.width = 1_000_000
        handler.indent(mapping=mapping, sequence=sequence, offset=offset)
        document = _Document(path, text, handler, handler.load(text))
        if document.text() == text:
            return document
    raise PlanError(f"{path} is laid out in a way the editor cannot keep unchanged; edit it by hand.")


class ProjectFiles:
    """The editors' files of one project (a checkout of this repository)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._parsed: dict[str, tuple[tuple[int, int], Any]] = {}

    # reading

    def read(self, path: str) -> str:
        with open(self.root / path, encoding="utf-8", newline="") as file:
            return file.read()

    def load(self, path: str) -> Any:
        """The file's data (PyYAML), parsed again only when the file changed."""
        try:
            stat = (self.root / path).stat()
        except FileNotFoundError:
            return None
        stamp = (stat.st_mtime_ns, stat.st_size)
        cached = self._parsed.get(path)
        if cached is None or cached[0] != stamp:
            try:
                cached = (stamp, yaml.load(self.read(path), Loader=_Loader))
            except yaml.YAMLError as error:
                raise PlanError(f"{path} is not valid YAML: {' '.join(str(error).split())}") from None
            self._parsed[path] = cached
        return cached[1]

    def _yml(self, folder: str) -> list[str]:
        return sorted(path.relative_to(self.root).as_posix() for path in (self.root / folder).rglob("*.yml"))

    def intent_blocks(self, folder: str) -> Iterator[tuple[str, str, list[str]]]:
        """(file, intent, examples) of every intent block under ``folder``."""
        for path in self._yml(folder):
            data = self.load(path)
            if not isinstance(data, dict):
                continue
            for item in data.get("nlu") or []:
                if isinstance(item, dict) and item.get("intent"):
                    yield path, str(item["intent"]), _examples_of(item.get("examples"))

    def example_owners(self, folder: str) -> dict[str, str]:
        """Normalised example -> the intent (or held-out file) that has it."""
        owners: dict[str, str] = {}
        for path, intent, examples in self.intent_blocks(folder):
            language = language_of(Path(path))
            owner = intent if folder == "data" else path
            for example in examples:
                for key in example_keys(example, language):
                    owners.setdefault(key, owner)
        return owners

    def intents(self) -> list[str]:
        """Intents with examples in data/nlu (FAQ questions are the FAQs', not intents)."""
        return sorted(
            {
                intent
                for _, intent, examples in self.intent_blocks("data/nlu")
                if examples and intent != "faq" and not intent.startswith("faq/")
            }
        )

    def _intent_file(self, intent: str, language: str) -> str | None:
        for path, name, _ in self.intent_blocks(_INTENT_DIR.format(language=language)):
            if name == intent:
                return path
        return None

    def faqs(self) -> dict[str, dict[str, str]]:
        """FAQ id -> its answer per language ("tr", "en"; a language without an answer is left out)."""
        responses = (self.load(FAQ_RESPONSES) or {}).get("responses") or {}
        found: dict[str, dict[str, str]] = {}
        for name, variations in responses.items():
            if not str(name).startswith("utter_faq/"):
                continue
            answers: dict[str, str] = {}
            for variation in variations or []:
                language = next(
                    (c.get("value") for c in variation.get("condition") or [] if c.get("name") == "language"), "en"
                )
                answers.setdefault(str(language), str(variation.get("text", "")))
            found[str(name)[len("utter_faq/") :]] = answers
        return found

    def topics(self) -> list[str]:
        return [str(topic["id"]) for topic in (self.load(CATALOGUE) or {}).get("topics") or []]

    def examples(self) -> set[str]:
        """Every training example under data/, normalised (both ways, see :func:`normalise`)."""
        return set(self.example_owners("data"))

    def held_out(self) -> set[str]:
        """Every held-out test sentence of tests/nlu, normalised like :meth:`examples`."""
        return set(self.example_owners(_HELD_OUT_DIR))

    # planning

    def plan(self, decision: Decision) -> Plan:
        """The changes ``decision`` makes, computed without writing anything."""
        return _Planner(self).plan(decision)


class _Planner:
    def __init__(self, files: ProjectFiles) -> None:
        self.files = files
        self.documents: dict[str, _Document] = {}
        self.owners = files.example_owners("data")
        self.held_out = files.example_owners(_HELD_OUT_DIR)
        self.skipped: list[Skipped] = []
        self.added: list[tuple[str, str]] = []
        # what the read-back must find: (file, intent) -> examples added; (file, response) -> texts
        self.expected_examples: dict[tuple[str, str], list[str]] = {}
        self.expected_answer: tuple[str, dict[str, str]] | None = None

    def plan(self, decision: Decision) -> Plan:
        examples = self._accepted(decision.examples)
        if decision.kind == "intent":
            self._add_to_intent(decision.target, examples)
        elif decision.kind == "faq":
            self._add_to_faq(decision.target, examples)
        elif decision.kind == "new_faq":
            self._new_faq(decision, examples)
        else:
            raise PlanError(f"Unknown kind of decision {decision.kind!r}: intent, faq or new_faq.")
        changes = []
        for path, document in sorted(self.documents.items()):
            after = document.text()
            if after != document.before:
                changes.append(Change(path, document.before, after))
        plan = Plan(self.files.root, changes, self.skipped, self.added)
        self._read_back(plan)
        return plan

    def _accepted(self, examples: list[tuple[str, str]]) -> list[tuple[str, str]]:
        accepted: list[tuple[str, str]] = []
        seen: set[str] = set()
        for language, text in examples:
            if language not in LANGUAGES:
                raise PlanError(f"Unknown language {language!r}: tr or en.")
            clean = " ".join(str(text).split())
            keys = example_keys(clean, language)
            skip: tuple[SkipCode, str] | None = None
            if not clean:
                skip = ("empty", "empty")
            elif _UNPRINTABLE.search(clean):
                skip = ("unprintable", "contains characters a YAML file cannot hold (control characters)")
            elif _ENTITY.search(clean):
                skip = ("entity_markup", "contains [..](..) or [..]{..}, which Rasa reads as an entity mark-up")
            elif any(k in self.held_out for k in keys):
                skip = ("held_out", f"is one of the held-out test sentences ({_HELD_OUT_DIR}): it must stay unseen")
            elif owner := next((self.owners[k] for k in keys if k in self.owners), None):
                skip = ("duplicate", f"already a training example of {owner}")
            elif keys & seen:
                skip = ("repeated", "given twice")
            if skip:
                self.skipped.append(Skipped(language, str(text), skip[1], skip[0]))
                continue
            seen |= keys
            accepted.append((language, clean))
        return accepted

    def _document(self, path: str) -> _Document:
        _editors_file(path)
        if path not in self.documents:
            if not (self.files.root / path).is_file():
                raise PlanError(f"{path} does not exist in the project.")
            self.documents[path] = _round_trip(path, self.files.read(path))
        return self.documents[path]

    def _add_examples(self, path: str, intent: str, texts: list[str]) -> None:
        if not texts:
            return
        document = self._document(path)
        nlu = document.data.get("nlu")
        if not isinstance(nlu, CommentedSeq):
            raise PlanError(f"{path} has no nlu: list to add {intent} to.")
        item = next((i for i in nlu if isinstance(i, dict) and i.get("intent") == intent), None)
        lines = "".join(f"- {text}\n" for text in texts)
        if item is None:
            item = CommentedMap([("intent", intent), ("examples", LiteralScalarString(lines))])
            nlu.append(item)
            if not document.before.endswith("\n\n"):
                nlu.yaml_set_comment_before_after_key(len(nlu) - 1, before="")
        else:
            block = item.get("examples")
            if not isinstance(block, str):
                raise PlanError(f"The examples of {intent} in {path} are not a `|` block; edit them by hand.")
            if block and not block.endswith("\n"):
                block += "\n"
            item["examples"] = LiteralScalarString(block + lines)
        self.expected_examples.setdefault((path, intent), []).extend(texts)
        self.added.extend((language_of(Path(path)) or "", text) for text in texts)

    def _add_to_intent(self, intent: str, examples: list[tuple[str, str]]) -> None:
        known = self.files.intents()
        if intent not in known:
            hint = " (an FAQ question goes to its FAQ)" if intent.startswith("faq") else ""
            raise PlanError(f"There is no intent {intent!r} with examples in data/nlu{hint}.")
        for language in LANGUAGES:
            texts = [text for lang, text in examples if lang == language]
            if not texts:
                continue
            path = self.files._intent_file(intent, language)
            if path is None:
                # the intent has no examples in this language yet: the file of the same name as the other language's
                other = next(p for lang in LANGUAGES if (p := self.files._intent_file(intent, lang)))
                path = f"{_INTENT_DIR.format(language=language)}/{Path(other).name}"
            self._add_examples(path, intent, texts)

    def _faq_id(self, target: str) -> str:
        return target[len("faq/") :] if target.startswith("faq/") else target

    def _add_to_faq(self, target: str, examples: list[tuple[str, str]]) -> None:
        faq = self._faq_id(target)
        if faq not in self.files.faqs():
            raise PlanError(f"There is no FAQ {faq!r} (no answer utter_faq/{faq} in {FAQ_RESPONSES}).")
        for language in LANGUAGES:
            texts = [text for lang, text in examples if lang == language]
            self._add_examples(FAQ_NLU.format(language=language), f"faq/{faq}", texts)

    def _new_faq(self, decision: Decision, examples: list[tuple[str, str]]) -> None:
        faq = self._faq_id(decision.target)
        if not _FAQ_ID.fullmatch(faq):
            raise PlanError(f"A new FAQ's id is lowercase letters, digits and _ only; {faq!r} is not.")
        existing_intents = {intent for _, intent, _ in self.files.intent_blocks("data")}
        if faq in self.files.faqs() or f"faq/{faq}" in existing_intents:
            raise PlanError(f"The FAQ {faq!r} exists already; add the examples to it instead.")
        answers = {"tr": (decision.answer_tr or "").strip(), "en": (decision.answer_en or "").strip()}
        for language, name in (("tr", "Turkish"), ("en", "English")):
            if not answers[language]:
                raise PlanError(f"A new FAQ needs its {name} answer.")
            if _UNPRINTABLE.search(answers[language]):
                raise PlanError(f"The {name} answer contains characters a YAML file cannot hold (control characters).")
        if decision.topic is not None and decision.topic not in self.files.topics():
            raise PlanError(f"There is no topic {decision.topic!r} in {CATALOGUE}.")
        if not examples:
            reasons = "; ".join(f'"{s.text}" {s.reason}' for s in self.skipped) or "none was given"
            raise PlanError(f"A new FAQ needs at least one example that can be added ({reasons}).")
        for language in LANGUAGES:
            texts = [text for lang, text in examples if lang == language]
            self._add_examples(FAQ_NLU.format(language=language), f"faq/{faq}", texts)
        self._add_answer(faq, answers)
        if decision.topic is not None:
            self._add_to_topic(decision.topic, faq)

    def _add_answer(self, faq: str, answers: dict[str, str]) -> None:
        document = self._document(FAQ_RESPONSES)
        responses = document.data.get("responses")
        if not isinstance(responses, CommentedMap):
            raise PlanError(f"{FAQ_RESPONSES} has no responses: to add the answer to.")
        condition = CommentedSeq([CommentedMap([("type", "slot"), ("name", "language"), ("value", "tr")])])
        turkish = CommentedMap([("condition", condition), ("text", DoubleQuotedScalarString(answers["tr"]))])
        english = CommentedMap([("text", DoubleQuotedScalarString(answers["en"]))])
        name = f"utter_faq/{faq}"
        responses[name] = CommentedSeq([turkish, english])
        if not document.before.endswith("\n\n"):
            responses.yaml_set_comment_before_after_key(name, before="")
        self.expected_answer = (name, answers)

    def _add_to_topic(self, topic: str, faq: str) -> None:
        document = self._document(CATALOGUE)
        entry = next(t for t in document.data["topics"] if str(t.get("id")) == topic)
        listed = entry.get("faq")
        if listed is None:
            listed = CommentedSeq()
            listed.fa.set_flow_style()
            entry.insert(1, "faq", listed)
        if faq not in listed:
            listed.append(faq)

    def _read_back(self, plan: Plan) -> None:
        """Each changed file parsed again: it must hold exactly what was meant (a guard, never expected to fire)."""
        after = {change.path: change.after for change in plan.changes}
        for (path, intent), texts in self.expected_examples.items():
            before = yaml.safe_load(self.documents[path].before) or {}
            data = yaml.safe_load(after[path]) or {}

            if _intent_examples(data, intent) != _intent_examples(before, intent) + texts:
                raise PlanError(f"The change to {path} would not read back as written; nothing was changed.")
        if self.expected_answer:
            name, answers = self.expected_answer
            variations = (yaml.safe_load(after[FAQ_RESPONSES]) or {})["responses"][name]
            if [v["text"] for v in variations] != [answers["tr"], answers["en"]]:
                raise PlanError(f"The answer in {FAQ_RESPONSES} would not read back as written; nothing was changed.")


def _editors_file(path: str) -> None:
    """Only data/ is the editors' (tests/nlu, the held-out sets, never is)."""
    parts = Path(path).parts
    if Path(path).is_absolute() or not parts or parts[0] != "data" or ".." in parts:
        raise PlanError(f"{path} is not one of the editors' files (data/).")


def _intent_examples(data: dict, intent: str) -> list[str]:
    blocks = [item.get("examples") for item in data.get("nlu") or [] if item.get("intent") == intent]
    return [example for block in blocks for example in _examples_of(block)]


def apply(plan: Plan) -> None:
    """Writes the plan's files, each replaced at once (a temporary file, then os.replace).

    Refuses when a file is no longer what the plan was made from.
    """
    for change in plan.changes:
        _editors_file(change.path)
        target = plan.root / change.path
        with open(target, encoding="utf-8", newline="") as file:
            if file.read() != change.before:
                raise PlanError(f"{change.path} changed since this change was prepared; prepare it again.")
    for change in plan.changes:
        target = plan.root / change.path
        mode = target.stat().st_mode & 0o777
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        try:
            with os.fdopen(handle, "w", encoding="utf-8", newline="") as file:
                file.write(change.after)
                file.flush()
                os.fsync(file.fileno())
            os.chmod(temporary, mode)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
