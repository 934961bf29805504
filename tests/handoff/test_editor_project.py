"""The editor's changes to data/ (handoff.editor.project, .branch, .validation).

Every test works on a copy of the repository's data/, domain/, config.yml,
tests/nlu and actions/ in a temporary git repository, never on the
repository's own files.
"""

from __future__ import annotations

import difflib
import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from handoff.editor.branch import branch_name
from handoff.editor.project import (
    FAQ_RESPONSES,
    BranchError,
    Change,
    Decision,
    Plan,
    PlanError,
    ProjectFiles,
    apply,
    commit_to_branch,
    unified_patch,
)
from handoff.editor.validation import Problem, content_problems, read_rasa_output, validate
from handoff.settings import REPO_ROOT

RASA = REPO_ROOT / ".venv" / "bot" / "bin" / "rasa"
BOT_PYTHON = RASA.with_name("python")
HELD_OUT_REASON = "is one of the held-out test sentences (tests/nlu): it must stay unseen"
# texts YAML or Rasa could misread if written carelessly
TRICKY = [
    "hesabım: kilitli mi",
    "#hashtag ile yazdım",
    "- tire ile başlıyor",
    "'tek tırnak' içinde",
    '"çift tırnak": burada',
    "@kullanici adına bakar mısın",
    "* yıldız, & ve ! ile | ve > de",
    "%50 bonus {kod} nerede",
    "[köşeli] parantez",
    "yüzde 100 emin değilim ? ne yapayım",
]


def _git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    for folder in ("data", "domain", "tests/nlu", "actions"):
        shutil.copytree(REPO_ROOT / folder, root / folder, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO_ROOT / "config.yml", root / "config.yml")
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", ".")
    _git(root, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-qm", "start")
    return root


def _snapshot(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.parts
    }


def _added_and_removed(plan: Plan) -> tuple[list[str], list[str]]:
    added, removed = [], []
    for change in plan.changes:
        for line in difflib.ndiff(change.before.splitlines(), change.after.splitlines()):
            if line.startswith("+ "):
                added.append(line[2:])
            elif line.startswith("- "):
                removed.append(line[2:])
    return added, removed


def _examples(root: Path, path: str, intent: str) -> list[str]:
    data = yaml.safe_load((root / path).read_text(encoding="utf-8"))
    block = next(item["examples"] for item in data["nlu"] if item["intent"] == intent)
    return [line[2:] for line in block.splitlines()]


def test_a_plan_that_adds_nothing_changes_nothing(project: Path) -> None:
    files = ProjectFiles(project)
    before = _snapshot(project)
    plan = files.plan(Decision("faq", "login_problem", [("tr", "giriş yapamıyorum"), ("en", "   ")]))
    assert plan.changes == [] and plan.added == []
    assert [(s.text, s.reason) for s in plan.skipped] == [
        ("giriş yapamıyorum", "already a training example of faq/login_problem"),
        ("   ", "empty"),
    ]
    assert unified_patch(plan) == ""
    apply(plan)
    assert _snapshot(project) == before


def test_examples_join_the_file_that_holds_the_intent_and_only_those_lines_change(project: Path) -> None:
    files = ProjectFiles(project)
    assert "greet" in files.intents() and "faq" not in files.intents()
    plan = files.plan(Decision("intent", "greet", [("tr", "selamlar  millet nasılsınız"), ("en", "hey there folks")]))
    assert sorted(plan.paths) == ["data/nlu/en/core.yml", "data/nlu/tr/core.yml"]
    added, removed = _added_and_removed(plan)
    assert removed == [] and sorted(added) == ["    - hey there folks", "    - selamlar millet nasılsınız"]
    before = _snapshot(project)
    apply(plan)
    after = _snapshot(project)
    assert {path for path in after if after[path] != before[path]} == set(plan.paths)
    assert _examples(project, "data/nlu/tr/core.yml", "greet")[-1] == "selamlar millet nasılsınız"
    assert "hey there folks" in files.examples()


def test_faq_examples_that_yaml_or_rasa_could_misread_are_written_to_read_back_exactly(project: Path) -> None:
    files = ProjectFiles(project)
    plan = files.plan(Decision("faq", "faq/login_problem", [("tr", text) for text in TRICKY]))
    assert plan.skipped == [] and plan.paths == ["data/faq/nlu_tr.yml"]
    added, removed = _added_and_removed(plan)
    assert removed == [] and added == [f"    - {text}" for text in TRICKY]
    apply(plan)
    assert _examples(project, "data/faq/nlu_tr.yml", "faq/login_problem")[-len(TRICKY) :] == TRICKY
    assert BOT_PYTHON.exists(), "the bot's environment is missing: make test builds it (make bot-setup)"
    # Rasa's own reader: the training messages' texts are the editor's texts
    script = (
        "import json, sys\n"
        "from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader\n"
        "data = RasaYAMLReader().read(sys.argv[1])\n"
        "print(json.dumps([m.get('text') for m in data.training_examples]))\n"
    )
    result = subprocess.run(
        [str(BOT_PYTHON), "-c", script, str(project / "data/faq/nlu_tr.yml")],
        capture_output=True,
        text=True,
        check=True,
    )
    texts = json.loads(result.stdout.strip().splitlines()[-1])
    assert TRICKY[0] in texts
    assert texts[texts.index(TRICKY[0]) :][: len(TRICKY)] == TRICKY


def test_a_new_faq_gets_its_questions_answer_and_topic_in_the_files_own_style(project: Path) -> None:
    files = ProjectFiles(project)
    decision = Decision(
        "new_faq",
        "bonus_cancel",
        [("tr", "bonusumu iptal etmek istiyorum"), ("tr", "bonus iptali nasıl olur"), ("en", "cancel my bonus")],
        answer_tr='Bonusu "Hesabım > Bonuslar" sayfasından iptal edebilirsiniz: çevrim silinir.',
        answer_en="You can cancel a bonus under My Account > Bonuses.\nThe wagering is removed.",
        topic="bet_settlement",
    )
    plan = files.plan(decision)
    assert sorted(plan.paths) == ["data/catalogue.yml", "data/faq/nlu_en.yml", "data/faq/nlu_tr.yml", FAQ_RESPONSES]
    _, removed = _added_and_removed(plan)
    assert removed == []
    responses = next(change for change in plan.changes if change.path == FAQ_RESPONSES)
    assert responses.after.startswith(responses.before + "\n  utter_faq/bonus_cancel:\n  - condition:\n")
    apply(plan)
    assert _examples(project, "data/faq/nlu_tr.yml", "faq/bonus_cancel") == [
        "bonusumu iptal etmek istiyorum",
        "bonus iptali nasıl olur",
    ]
    assert _examples(project, "data/faq/nlu_en.yml", "faq/bonus_cancel") == ["cancel my bonus"]
    variations = yaml.safe_load((project / FAQ_RESPONSES).read_text(encoding="utf-8"))["responses"][
        "utter_faq/bonus_cancel"
    ]
    assert variations == [
        {"condition": [{"type": "slot", "name": "language", "value": "tr"}], "text": decision.answer_tr},
        {"text": decision.answer_en},
    ]
    assert files.faqs()["bonus_cancel"] == {"tr": decision.answer_tr, "en": decision.answer_en}
    topics = yaml.safe_load((project / "data/catalogue.yml").read_text(encoding="utf-8"))["topics"]
    assert next(t for t in topics if t["id"] == "bet_settlement")["faq"] == ["bonus_cancel"]
    assert content_problems(project) == []
    # a second new FAQ on a topic that lists some already
    plan = files.plan(
        Decision("new_faq", "bonus_expiry", [("en", "when does my bonus expire")], "tr", "en", "promotion")
    )
    apply(plan)
    topics = yaml.safe_load((project / "data/catalogue.yml").read_text(encoding="utf-8"))["topics"]
    assert next(t for t in topics if t["id"] == "promotion")["faq"] == ["promotion_terms", "bonus_expiry"]
    assert [(p.level, p.message) for p in content_problems(project)] == [
        (
            "warning",
            "The FAQ faq/bonus_expiry has no Turkish examples yet: "
            "Turkish-speaking customers will not get it until some are added.",
        )
    ]


def test_duplicates_held_out_sentences_and_unreadable_texts_are_skipped_with_reasons(project: Path) -> None:
    files = ProjectFiles(project)
    held_out_tr = yaml.safe_load((project / "tests/nlu/tr.yml").read_text(encoding="utf-8"))["nlu"][0]
    held_out = held_out_tr["examples"].splitlines()[0][2:]
    blind_en = yaml.safe_load((project / "tests/nlu/blind_en.yml").read_text(encoding="utf-8"))["nlu"][0]
    blind = blind_en["examples"].splitlines()[0][2:]
    assert held_out.casefold() in files.held_out()
    decision = Decision(
        "faq",
        "password_reset",
        [
            ("tr", "  GİRİŞ   YAPAMIYORUM "),
            ("tr", held_out.upper()),
            ("en", blind),
            ("tr", "[şifre](secret) unuttum"),
            ("tr", "şifre\x07 unuttum"),
            ("tr", "yeni bir cümle"),
            ("tr", "Yeni  bir cümle"),
            ("en", ""),
        ],
    )
    plan = files.plan(decision)
    assert [s.code for s in plan.skipped] == [
        "duplicate",
        "held_out",
        "held_out",
        "entity_markup",
        "unprintable",
        "repeated",
        "empty",
    ]
    assert [s.reason for s in plan.skipped] == [
        "already a training example of faq/login_problem",
        HELD_OUT_REASON,
        HELD_OUT_REASON,
        "contains [..](..) or [..]{..}, which Rasa reads as an entity mark-up",
        "contains characters a YAML file cannot hold (control characters)",
        "given twice",
        "empty",
    ]
    assert plan.added == [("tr", "yeni bir cümle")]


@pytest.mark.parametrize(
    ("decision", "message"),
    [
        (Decision("intent", "no_such_intent", [("tr", "x y")]), "There is no intent 'no_such_intent'"),
        (Decision("intent", "faq/login_problem", [("tr", "x y")]), "an FAQ question goes to its FAQ"),
        (Decision("faq", "no_such_faq", [("tr", "x y")]), "There is no FAQ 'no_such_faq'"),
        (Decision("new_faq", "login_problem", [("tr", "x y")], "a", "b"), "exists already"),
        (Decision("new_faq", "Bad-Id", [("tr", "x y")], "a", "b"), "lowercase letters, digits and _"),
        (Decision("new_faq", "fresh", [("tr", "x y")], "a", " "), "needs its English answer"),
        (Decision("new_faq", "fresh", [("tr", "x y")], None, "b"), "needs its Turkish answer"),
        (Decision("new_faq", "fresh", [("tr", "x y")], "a", "b", "no_topic"), "There is no topic 'no_topic'"),
        (Decision("new_faq", "fresh", [("tr", "giriş yapamıyorum")], "a", "b"), "at least one example"),
        (Decision("faq", "login_problem", [("de", "x y")]), "Unknown language"),
        (Decision("right", "x", []), "Unknown kind"),  # type: ignore[arg-type]  # a kind the type does not allow
    ],
)
def test_decisions_that_cannot_be_planned_say_why(project: Path, decision: Decision, message: str) -> None:
    before = _snapshot(project)
    with pytest.raises(PlanError, match=message.replace("(", r"\(").replace(")", r"\)")):
        ProjectFiles(project).plan(decision)
    assert _snapshot(project) == before


def test_a_file_whose_layout_cannot_be_kept_is_refused_and_a_stale_plan_is_not_written(project: Path) -> None:
    files = ProjectFiles(project)
    path = project / "data/nlu/tr/core.yml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("- intent: greet", "- intent:   greet", 1), encoding="utf-8")
    with pytest.raises(PlanError, match="cannot keep unchanged"):
        files.plan(Decision("intent", "greet", [("tr", "selamlar dostlar")]))
    path.write_text(text, encoding="utf-8")
    plan = files.plan(Decision("intent", "greet", [("tr", "selamlar dostlar")]))
    path.write_text(text + "\n", encoding="utf-8")
    with pytest.raises(PlanError, match="changed since"):
        apply(plan)
    assert path.read_text(encoding="utf-8") == text + "\n"
    held_out = (project / "tests/nlu/tr.yml").read_text(encoding="utf-8")
    for forged in ("tests/nlu/tr.yml", "data/../tests/nlu/tr.yml"):
        with pytest.raises(PlanError, match="not one of the editors' files"):
            apply(Plan(project, [Change(forged, held_out, held_out + "x")], [], []))
    assert (project / "tests/nlu/tr.yml").read_text(encoding="utf-8") == held_out


def test_the_patch_applies_with_git_apply(project: Path) -> None:
    plan = ProjectFiles(project).plan(
        Decision(
            "new_faq", "bonus_cancel", [("tr", "bonus iptal"), ("en", "cancel bonus")], "iptal", "cancel", "promotion"
        )
    )
    patch = unified_patch(plan)
    assert patch.startswith("diff --git a/data/catalogue.yml b/data/catalogue.yml\n--- a/data/catalogue.yml\n")
    subprocess.run(["git", "apply", "--check", "-"], cwd=project, input=patch, text=True, check=True)
    subprocess.run(["git", "apply", "-"], cwd=project, input=patch, text=True, check=True)
    for change in plan.changes:
        assert (project / change.path).read_text(encoding="utf-8") == change.after


def test_a_commit_on_the_editors_branch_leaves_the_working_tree_and_branch_alone(project: Path) -> None:
    files = ProjectFiles(project)
    head = _git(project, "rev-parse", "HEAD").strip()
    before = _snapshot(project)
    first = files.plan(Decision("faq", "login_problem", [("tr", "giriş butonu çalışmıyor hiç")]))
    identity = {"author_name": "Ayşe Editor", "author_email": "ayse@example.org"}
    sha = commit_to_branch(project, first, branch="ayşe.yılmaz", message="login_problem: 1 example", **identity)
    assert branch_name("ayşe.yılmaz") == "editor/ayse-yilmaz"
    assert _git(project, "rev-parse", "editor/ayse-yilmaz").strip() == sha
    assert _git(project, "show", "editor/ayse-yilmaz:data/faq/nlu_tr.yml") == first.changes[0].after
    assert _git(project, "log", "-1", "--format=%an <%ae>|%P|%s", sha).strip() == (
        f"Ayşe Editor <ayse@example.org>|{head}|login_problem: 1 example"
    )
    assert _snapshot(project) == before
    assert _git(project, "rev-parse", "HEAD").strip() == head
    assert _git(project, "symbolic-ref", "HEAD").strip() == "refs/heads/main"
    assert _git(project, "status", "--porcelain") == ""
    # a second change planned on the same working tree goes on the branch's tip, both kept
    second = files.plan(Decision("faq", "two_factor", [("tr", "doğrulama kodu hiç gelmedi bugün")]))
    again = commit_to_branch(project, second, branch="editor/ayşe.yılmaz", message="two_factor", **identity)
    assert _git(project, "rev-parse", f"{again}^").strip() == sha
    committed = _git(project, "show", "editor/ayse-yilmaz:data/faq/nlu_tr.yml")
    assert "giriş butonu çalışmıyor hiç" in committed and "doğrulama kodu hiç gelmedi bugün" in committed
    # the same change again adds no commit; one the tip contradicts is refused
    assert commit_to_branch(project, second, branch="ayşe.yılmaz", message="again", **identity) == again
    apply(first)
    clash = files.plan(Decision("faq", "login_problem", [("tr", "başka bir giriş sorunu")]))
    with pytest.raises(BranchError, match="differs from the version"):
        commit_to_branch(project, clash, branch="other", message="x", **identity)
    assert _git(project, "branch", "--list", "editor/other") == ""


def test_content_checks_find_planted_problems(project: Path) -> None:
    assert content_problems(project) == []
    responses = project / FAQ_RESPONSES
    data = yaml.safe_load(responses.read_text(encoding="utf-8"))
    del data["responses"]["utter_faq/login_problem"][1]
    responses.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    held_out = yaml.safe_load((project / "tests/nlu/en.yml").read_text(encoding="utf-8"))["nlu"][0]
    sentence = held_out["examples"].splitlines()[0][2:]
    with (project / "data/faq/nlu_en.yml").open("a", encoding="utf-8") as file:
        file.write(f"    - {sentence.upper()}\n")
    catalogue = project / "data/catalogue.yml"
    catalogue.write_text(catalogue.read_text(encoding="utf-8").replace("[login_problem]", "[login_problem, gone]"))
    problems = content_problems(project)
    assert Problem("error", "The response utter_faq/login_problem has no English text.", FAQ_RESPONSES) in problems
    assert any(p.message.startswith(f'"{sentence}" is a training example of faq/support_hours') for p in problems)
    assert (
        Problem(
            "error",
            f"The topic login lists the FAQ gone, which has no answer in {FAQ_RESPONSES}.",
            "data/catalogue.yml",
        )
        in problems
    )


def test_rasa_output_becomes_plain_problems_less_the_explained_warnings(project: Path) -> None:
    output = (
        "\x1b[93m/x/rasa/shared/utils/io.py:100: UserWarning: The following duplicated intents have been found "
        "across multiple domain files: faq\n  More info at https://rasa.com/docs/rasa/domain\n"
        "\x1b[0m/x/io.py:100: UserWarning: The intent 'agent_resolved' is listed in the domain file, but is not "
        "found in the NLU training data.\n"
        "/x/io.py:100: UserWarning: The utterance 'utter_handoff_failed' is not used in any story or rule.\n"
        "/x/io.py:100: UserWarning: The utterance 'utter_nobody_sends' is not used in any story or rule.\n"
        "/x/io.py:100: UserWarning: The example 'merhaba' was found labeled with multiple different intents in the "
        "training data. Each annotated message should only appear with one intent. You should fix that conflict "
        "The example is labeled with: goodbye, greet.\n"
        "2026-12-04 01:12:47 INFO     rasa.validator  - Validating utterances...\n"
        "YamlSyntaxException: Failed to read 'data/nlu/tr/core.yml'. while parsing a flow node\n"
        "expected the node content, but found '<stream end>'\n\n"
        "You can use https://yamlchecker.com/ to validate the YAML syntax of your file.\n"
    )
    assert read_rasa_output(project, output, 1) == [
        Problem("warning", "The response utter_nobody_sends is never used by a rule or a story."),
        Problem("warning", '"merhaba" is a training example of several intents (goodbye, greet): keep it in one.'),
        Problem(
            "error",
            "Failed to read 'data/nlu/tr/core.yml'. while parsing a flow node expected the node content, "
            "but found '<stream end>'",
            "data/nlu/tr/core.yml",
        ),
    ]
    assert read_rasa_output(project, "Traceback\nboom\n", 2) == [
        Problem("error", "Rasa's check failed: Traceback boom")
    ]


async def test_validate_says_when_rasa_cannot_run(project: Path) -> None:
    assert await validate(project, rasa=None) == [
        Problem("error", "Rasa's check could not run: the rasa program was not found.")
    ]
    assert await validate(project, rasa=str(project / "no-rasa")) == [
        Problem("error", "Rasa's check could not run: the rasa program was not found.")
    ]
    sleeper = project / "slow-rasa"
    sleeper.write_text("#!/bin/sh\nexec sleep 30\n")
    sleeper.chmod(0o755)
    assert await validate(project, rasa=str(sleeper), timeout=0.5) == [
        Problem("error", "Rasa's check could not run: it did not finish within 0.5 seconds.")
    ]


async def test_rasa_validate_passes_on_the_pristine_copy_and_after_a_new_faq(project: Path) -> None:
    assert RASA.exists(), "the bot's environment is missing: make test builds it (make bot-setup)"
    files = ProjectFiles(project)
    apply(
        files.plan(
            Decision("new_faq", "bonus_cancel", [("tr", "bonusu iptal et"), ("en", "cancel my bonus")], "tr", "en")
        )
    )
    assert await validate(project, rasa=str(RASA)) == []
    faq = project / "data/faq/nlu_en.yml"
    faq.write_text(faq.read_text(encoding="utf-8") + "  bad: [\n", encoding="utf-8")
    problems = await validate(project, rasa=str(RASA))
    assert [(p.level, p.file) for p in problems] == [("error", "data/faq/nlu_en.yml")]
    assert problems[0].message.startswith("data/faq/nlu_en.yml is not valid YAML: ")
