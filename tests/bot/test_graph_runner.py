"""bot/graph_runner.py: the model's graph run in order gives what Rasa's
dask runner gives, for the messages' parses, the policies' predictions
and a node's error, on the trained model (models/triage.tar.gz)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from rasa.core.agent import Agent
from rasa.engine.graph import GraphComponent, GraphSchema, SchemaNode
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.shared.core.events import ActionExecuted, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot import graph_runner, installs
from bot.settings import ROOT

MODEL = ROOT / "models" / "triage.tar.gz"
TEXTS = [
    "merhaba",
    "hello",
    "şifremi unuttum",
    "I forgot my password",
    "dün yaptığım para çekme hala hesabıma gelmedi",
    "I want to talk to a human agent",
    "17.08.1985",
    "asdfgh qwerty",
    "",
]


@pytest.fixture(scope="module")
def agent() -> Agent:
    return Agent.load(str(MODEL))


def _with_rasas_runner(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(DaskGraphRunner, "run", graph_runner.RASAS_RUN)


def _with_ours(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(DaskGraphRunner, "run", graph_runner.run)


async def _parses(agent: Agent) -> list[dict[str, Any]]:
    return [await agent.parse_message(text) for text in TEXTS]


async def _predictions(agent: Agent) -> list[tuple[str, list[float], str | None]]:
    """Three predictions after each message, each predicted action appended."""
    processor = agent.processor
    assert processor is not None
    made = []
    for text in TEXTS:
        parse = await agent.parse_message(text)
        tracker = DialogueStateTracker.from_events(
            "graph-runner",
            [
                ActionExecuted("action_session_start"),
                SessionStarted(),
                ActionExecuted("action_listen"),
                UserUttered(text, parse["intent"], parse["entities"], parse),
            ],
            slots=agent.domain.slots,
        )
        for _ in range(3):
            prediction = processor._predict_next_with_tracker(tracker)
            action = agent.domain.action_names_or_texts[prediction.max_confidence_index]
            made.append((action, list(prediction.probabilities), prediction.policy_name))
            tracker.update(ActionExecuted(action))
    return made


def test_the_same_parses_and_predictions_as_rasas_runner(agent: Agent, monkeypatch: pytest.MonkeyPatch) -> None:
    async def both() -> tuple[list[dict[str, Any]], list[tuple[str, list[float], str | None]]]:
        return await _parses(agent), await _predictions(agent)

    _with_rasas_runner(monkeypatch)
    rasas = asyncio.run(both())
    _with_ours(monkeypatch)
    ours = asyncio.run(both())
    assert ours == rasas
    assert {action for action, _, _ in ours[1]} > {"action_listen"}  # more than one path was predicted


class _Failing(GraphComponent):
    @classmethod
    def create(cls, config: dict[str, Any], model_storage: Any, resource: Any, execution_context: Any) -> _Failing:
        return cls()

    def run(self, value: Any) -> Any:
        raise ValueError(f"cannot handle {value!r}")


class _Echo(GraphComponent):
    @classmethod
    def create(cls, config: dict[str, Any], model_storage: Any, resource: Any, execution_context: Any) -> _Echo:
        return cls()

    def run(self, value: Any) -> Any:
        return ("echo", value)


def _runner(tmp_path: Any, failing: bool) -> DaskGraphRunner:
    from rasa.engine.graph import ExecutionContext

    uses = _Failing if failing else _Echo
    schema = GraphSchema(
        {
            "first": SchemaNode(
                needs={"value": "__input__"}, uses=uses, constructor_name="create", fn="run", config={}
            ),
            "second": SchemaNode(
                needs={"value": "first"}, uses=_Echo, constructor_name="create", fn="run", config={}, is_target=True
            ),
        }
    )
    return DaskGraphRunner(schema, LocalModelStorage(tmp_path), ExecutionContext(schema, "test"))


def test_a_nodes_output_and_error_are_rasas(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    outcomes = []
    for run in (graph_runner.RASAS_RUN, graph_runner.run):
        monkeypatch.setattr(DaskGraphRunner, "run", run)
        result = _runner(tmp_path, failing=False).run(inputs={"__input__": 7}, targets=["second"])
        with pytest.raises(Exception) as failed:
            _runner(tmp_path, failing=True).run(inputs={"__input__": 7})
        outcomes.append((result, type(failed.value), str(failed.value), type(failed.value.__cause__)))
    assert outcomes[0] == outcomes[1]
    assert outcomes[1][0] == {"second": ("echo", ("echo", 7))}
    assert outcomes[1][3] is ValueError


def test_install_replaces_the_run_once() -> None:
    installs.install()
    installs.install()
    assert DaskGraphRunner.run is graph_runner.run


def test_a_missing_input_fails_as_with_rasas_runner(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    failures = []
    for run in (graph_runner.RASAS_RUN, graph_runner.run):
        monkeypatch.setattr(DaskGraphRunner, "run", run)
        with pytest.raises(Exception) as failed:
            _runner(tmp_path, failing=False).run(inputs={}, targets=["second"])
        failures.append((type(failed.value), str(failed.value)))
    assert failures[0] == failures[1]
