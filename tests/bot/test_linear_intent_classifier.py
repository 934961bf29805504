"""The intent classifier of config.yml, created, trained, persisted and
loaded the way Rasa does it, on a small set and on data/ itself."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.importers.importer import TrainingDataImporter
from rasa.shared.nlu.constants import INTENT, INTENT_RESPONSE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from sklearn.metrics import f1_score

from bot.components.linear_intent_classifier import LinearIntentClassifier
from bot.components.linear_text_model import _ONE_BY_ONE, LinearTextModel, ModelConfig

ROOT = Path(__file__).resolve().parents[2]
COMPONENT = "bot.components.linear_intent_classifier.LinearIntentClassifier"
# intent F1 (weighted, "faq" as one intent, as `rasa test nlu` counts it) of
# the DIET pipeline this classifier replaced, and issue 18's floors
FLOORS = {"tr": 0.919, "en": 0.910, "blind_tr": 0.855, "blind_en": 0.850}

SMALL = {
    "greet": ["hello", "hi there", "merhaba", "selam", "good morning", "iyi günler"],
    "goodbye": ["bye", "see you", "görüşürüz", "hoşça kal", "good night", "bay bay"],
    "faq/password_reset": ["i forgot my password", "reset password", "şifremi unuttum", "şifre sıfırlama"],
    "faq/support_hours": ["when are you open", "support hours", "kaçta açıksınız", "destek saatleri"],
    "ticket_status": ["T-123 ne oldu", "status of T-99"],  # few examples
    "bot_challenge": ["are you a bot"],  # one example: no calibration fold can hold it out
}


def _context() -> ExecutionContext:
    return ExecutionContext(GraphSchema({}), "test")


def _training_data(examples: dict[str, list[str]]) -> TrainingData:
    messages = []
    for label, texts in examples.items():
        intent = label.split("/")[0]
        for text in texts:
            data = {TEXT: text, INTENT: intent}
            if "/" in label:
                data[INTENT_RESPONSE_KEY] = label
            messages.append(Message(data=data))
    responses = {f"utter_{label}": [{"text": f"answer {label}"}] for label in examples if "/" in label}
    return TrainingData(training_examples=messages, responses=responses)


def _trained(tmp_path: Path, examples: dict[str, list[str]]) -> tuple[LinearIntentClassifier, LocalModelStorage]:
    (tmp_path / "model").mkdir()
    storage = LocalModelStorage(tmp_path / "model")
    config = LinearIntentClassifier.get_default_config()
    classifier = LinearIntentClassifier.create(config, storage, Resource("intents"), _context())
    classifier.train(_training_data(examples))
    return classifier, storage


def _parse(classifier: LinearIntentClassifier, text: str) -> dict:
    message = Message({TEXT: text})
    classifier.process([message])
    return message.as_dict_nlu()


def test_intents_and_faq_answers_come_from_one_model(tmp_path) -> None:
    classifier, _ = _trained(tmp_path, SMALL)
    parsed = _parse(classifier, "şifremi unuttum yardım")
    assert parsed["intent"]["name"] == "faq"
    ranking = parsed["intent_ranking"]
    assert ranking[0]["name"] == "faq" and {r["name"] for r in ranking} >= {"greet", "goodbye"}
    # the top confidence is the calibrated chance of being right, the rest
    # share the softmax: a ranking sums to at most 1, in order
    assert sum(r["confidence"] for r in ranking) <= 1.0 + 1e-9
    assert [r["confidence"] for r in ranking] == sorted((r["confidence"] for r in ranking), reverse=True)
    assert parsed["intent"]["confidence"] == ranking[0]["confidence"]
    selected = parsed["response_selector"]["faq"]
    assert selected["response"]["intent_response_key"] == "faq/password_reset"
    assert selected["response"]["utter_action"] == "utter_faq/password_reset"
    assert selected["response"]["responses"] == [{"text": "answer faq/password_reset"}]
    assert sum(r["confidence"] for r in selected["ranking"]) == pytest.approx(1.0)
    assert parsed["response_selector"]["all_retrieval_intents"] == ["faq"]
    greeting = _parse(classifier, "Merhaba")
    assert greeting["intent"]["name"] == "greet"
    assert greeting["response_selector"]["faq"]["response"]["confidence"] <= 1.0


def test_the_persisted_model_loads_and_answers_the_same(tmp_path) -> None:
    classifier, storage = _trained(tmp_path, SMALL)
    loaded = LinearIntentClassifier.load(
        LinearIntentClassifier.get_default_config(), storage, Resource("intents"), _context()
    )
    for text in ("SELAM", "destek saatleri nedir", "bye bye", "T-555 durumu", "are u a bot"):
        assert _parse(loaded, text) == _parse(classifier, text)
    folder = next((tmp_path / "model").rglob("model.json")).parent
    assert sorted(p.name for p in folder.iterdir()) == ["arrays.npz", "model.json"]  # no pickle


def test_an_empty_message_has_no_intent(tmp_path) -> None:
    classifier, _ = _trained(tmp_path, SMALL)
    message = Message({TEXT: ""})
    classifier.process([message])
    assert message.get(INTENT)["name"] is None
    assert message.get("intent_ranking") == []


def test_turkish_capitals_and_missing_turkish_letters_read_alike() -> None:
    model = LinearTextModel.fit(
        ["şifremi unuttum", "şifre sıfırla", "hesabım kilitlendi", "hesabıma giremiyorum"],
        ["password", "password", "locked", "locked"],
        ModelConfig(calibration_folds=2),
    )
    rows = model.predict_proba(["ŞİFREMİ UNUTTUM", "sifremi unuttum", "HESABIM KİLİTLENDİ", "hesabim kilitlendi"])
    assert np.allclose(rows[0], rows[1]) and np.allclose(rows[2], rows[3])
    assert [model.labels[i] for i in rows.argmax(axis=1)] == ["password", "password", "locked", "locked"]


HOTEL = {
    "booking__make": ["i want to book a room", "can i book a room for friday", "book me a room please"],
    "booking__change": ["i need to change my booking", "change my room booking", "can you change the booking"],
    "booking__cancel": ["cancel my booking", "please cancel the room booking", "i want to cancel my booking"],
    "restaurant__make": ["i want to book a table", "book a table for two", "reserve a table tonight"],
    "restaurant__change": ["change my table for tonight", "i need to change the table", "can you change my table"],
    "greet": ["hello", "hi there", "good morning"],
}


def test_combined_intents_are_learnt_one_by_one() -> None:
    texts = [text for texts in HOTEL.values() for text in texts]
    labels = [label for label, texts in HOTEL.items() for _ in texts]
    model = LinearTextModel.fit(texts, labels, ModelConfig(calibration_folds=2, label_separator="__"))
    assert model.units == ["booking", "cancel", "change", "greet", "make", "restaurant"]
    # "cancel" is learnt from the bookings only, "table" from the restaurant's
    # two labels: the known combination with both wins
    rows = model.predict_proba(["cancel the table booking", "change my table booking please"])
    assert [model.labels[i] for i in rows.argmax(axis=1)] == ["booking__cancel", "restaurant__change"]
    meta, arrays = model.to_storage()
    again = LinearTextModel.from_storage(meta, arrays)
    assert again.units == model.units and np.allclose(again.predict_proba(["hi"]), model.predict_proba(["hi"]))
    plain = LinearTextModel.fit(texts, labels, ModelConfig(calibration_folds=2))
    assert plain.units == sorted(HOTEL)  # no separator set: each name is one intent


def test_unknown_messages_lower_the_confidence_they_are_calibrated_on() -> None:
    texts = [text for texts in SMALL.values() for text in texts] * 2
    labels = [label for label, texts in SMALL.items() for _ in texts] * 2
    known = LinearTextModel.fit(texts, labels, ModelConfig(calibration_folds=3))
    with_unknown = LinearTextModel.fit(texts, labels, ModelConfig(calibration_folds=3, unknown_share=0.3))
    strange = ["the weather in paris is lovely", "kedim balkondan atladı"]
    assert (with_unknown.predict_proba(strange).max(axis=1) < known.predict_proba(strange).max(axis=1)).all()
    assert with_unknown.predict_proba(strange).max(axis=1).max() < 0.45
    rows = with_unknown.predict_proba(["şifremi unuttum", "good morning"])
    assert [with_unknown.labels[i] for i in rows.argmax(axis=1)] == ["faq/password_reset", "greet"]


def test_one_label_is_refused_with_a_reason() -> None:
    with pytest.raises(ValueError, match="at least two labels"):
        LinearTextModel.fit(["a", "b"], ["x", "x"], ModelConfig())


def _held_out(name: str) -> tuple[list[str], list[str]]:
    texts, labels = [], []
    for item in yaml.safe_load((ROOT / "tests" / "nlu" / f"{name}.yml").read_text(encoding="utf-8"))["nlu"]:
        for line in item["examples"].splitlines():
            if line.strip().startswith("- "):
                texts.append(line.strip()[2:])
                labels.append(item["intent"])
    return texts, labels


@pytest.fixture(scope="module")
def ours(tmp_path_factory) -> LinearIntentClassifier:
    """config.yml's classifier with config.yml's settings, trained on data/."""
    config = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))
    given = next(c for c in config["pipeline"] if c["name"] == COMPONENT)
    settings = {**LinearIntentClassifier.get_default_config(), **{k: v for k, v in given.items() if k != "name"}}
    importer = TrainingDataImporter.load_from_config(
        str(ROOT / "config.yml"), str(ROOT / "domain"), [str(ROOT / "data")]
    )
    storage = LocalModelStorage(tmp_path_factory.mktemp("model"))
    classifier = LinearIntentClassifier.create(settings, storage, Resource("intents"), _context())
    classifier.train(importer.get_nlu_data())
    return classifier


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_held_out_intent_f1_stays_above_the_floor(ours, name) -> None:
    texts, labels = _held_out(name)
    messages = [Message({TEXT: text}) for text in texts]
    ours.process(messages)
    predicted = [m.get(INTENT)["name"] for m in messages]
    gold = [label.split("/")[0] for label in labels]
    f1 = f1_score(gold, predicted, average="weighted")
    assert f1 >= FLOORS[name], f"{name}: intent F1 {f1:.3f} below {FLOORS[name]}"
    faq = [
        (label, m.get("response_selector")["faq"]["response"]["intent_response_key"])
        for label, m in zip(labels, messages, strict=True)
        if label.startswith("faq/")
    ]
    assert sum(g == p for g, p in faq) / len(faq) >= 0.9, f"{name}: FAQ answers"


def test_confidences_are_calibrated_on_held_out_messages(ours) -> None:
    """Expected calibration error (10 bins of top confidence) on both blind
    sets: a confidence of 0.45 means about 45 % right."""
    texts, labels = (sum(parts, []) for parts in zip(_held_out("blind_tr"), _held_out("blind_en"), strict=True))
    messages = [Message({TEXT: text}) for text in texts]
    ours.process(messages)
    confidence = np.array([m.get(INTENT)["confidence"] for m in messages])
    right = np.array([m.get(INTENT)["name"] == label.split("/")[0] for m, label in zip(messages, labels, strict=True)])
    bins = np.minimum((confidence * 10).astype(int), 9)
    error = sum(abs(confidence[bins == b].mean() - right[bins == b].mean()) * (bins == b).mean() for b in set(bins))
    assert error < 0.08, f"expected calibration error {error:.3f}"


def _scored_alone_and_together(model: LinearTextModel, texts: list[str]) -> None:
    """A message alone (what the bot asks: LinearTextModel._margins, no
    sparse matrices) scores as it does among many (the matrix product)."""
    assert len(texts) > _ONE_BY_ONE
    alone = np.vstack([model.scores([text]) for text in texts])
    together = model.scores(texts)
    np.testing.assert_allclose(alone, together, rtol=0, atol=1e-9)
    assert (alone.argmax(axis=1) == together.argmax(axis=1)).all()


def test_a_message_alone_scores_as_among_many(ours) -> None:
    texts = [text for name in sorted(FLOORS) for text in _held_out(name)[0]]
    _scored_alone_and_together(ours._model, [*texts, "", "ŞİFREMİ UNUTTUM!!!", "zzzz qqqq"])


def test_a_message_alone_scores_as_among_many_with_patterns_and_plain_counts() -> None:
    texts = ["where is my ticket", "my ticket please", "what about T-4521", "hello", "hi", "hey there hey"]
    labels = ["ticket", "ticket", "ticket", "greet", "greet", "greet"]
    model = LinearTextModel.fit(texts, labels, ModelConfig(calibration_folds=2), [r"\bT-?\d{3,9}\b"])
    _scored_alone_and_together(model, [*texts, "t-98765", "hey hey hey ticket"])
    for vectorizer in model._vectorizers:
        vectorizer.sublinear_tf = False
    plain = LinearTextModel.from_storage(*model.to_storage())
    assert not any(v.sublinear_tf for v in plain._vectorizers)
    _scored_alone_and_together(plain, [*texts, "hey hey hey ticket ticket"])


def test_the_training_datas_regular_expressions_are_features(tmp_path) -> None:
    texts = ["where is my ticket", "my ticket please", "what about T-4521", "hello", "hi", "hey there"]
    labels = ["ticket", "ticket", "ticket", "greet", "greet", "greet"]
    plain = LinearTextModel.fit(texts, labels, ModelConfig(calibration_folds=2))
    with_pattern = LinearTextModel.fit(texts, labels, ModelConfig(calibration_folds=2), [r"\bT-?\d{3,9}\b"])
    rows = with_pattern.features(["t-98765", "hey"])
    assert rows.shape[1] == plain.features(["hey"]).shape[1] + 1
    assert rows[:, -1].toarray().ravel().tolist() == [1.0, 0.0]  # matched case-insensitively
    meta, arrays = with_pattern.to_storage()
    again = LinearTextModel.from_storage(meta, arrays)
    assert np.allclose(again.predict_proba(["t-98765", "hey"]), with_pattern.predict_proba(["t-98765", "hey"]))


@pytest.mark.parametrize("enabled", [True, False])
def test_regex_features_follow_the_setting(tmp_path, enabled) -> None:
    (tmp_path / "model").mkdir()
    storage = LocalModelStorage(tmp_path / "model")
    config = {**LinearIntentClassifier.get_default_config(), "regex_features": enabled}
    classifier = LinearIntentClassifier.create(config, storage, Resource("intents"), _context())
    data = _training_data(SMALL)
    data.regex_features = [{"name": "ticket_number", "pattern": r"\bT-?\d{1,9}\b"}]
    classifier.train(data)
    loaded = LinearIntentClassifier.load(config, storage, Resource("intents"), _context())
    assert loaded._model is not None
    assert loaded._model.patterns == ([r"\bT-?\d{1,9}\b"] if enabled else [])


def test_feature_blocks_have_the_weights_of_the_config() -> None:
    texts = ["şifremi unuttum", "şifre sıfırla", "hesabım kilitlendi", "hesabıma giremiyorum"]
    labels = ["password", "password", "locked", "locked"]
    full = LinearTextModel.fit(texts, labels, ModelConfig(calibration_folds=2))
    weighted = LinearTextModel.fit(
        texts, labels, ModelConfig(calibration_folds=2, word_weight=0.0, prefix_length=5, prefix_weight=0.5)
    )
    # each block is L2-normalised, then weighed: char n-grams 1, no words, prefixes 0.5
    assert full.features(["şifremi unuttum"]).power(2).sum() == pytest.approx(3.0)
    assert weighted.features(["şifremi unuttum"]).power(2).sum() == pytest.approx(1.25)
    meta, arrays = weighted.to_storage()
    assert [v["weight"] for v in meta["vectorizers"]] == [1.0, 0.5]
    again = LinearTextModel.from_storage(meta, arrays)
    probe = ["SIFREMI unuttum", "hesap kilitli"]
    assert np.allclose(again.predict_proba(probe), weighted.predict_proba(probe))
    assert [weighted.labels[i] for i in weighted.predict_proba(probe).argmax(axis=1)] == ["password", "locked"]
    with pytest.raises(ValueError, match="weight 0"):
        LinearTextModel.fit(texts, labels, ModelConfig(char_weight=0.0, word_weight=0.0, prefix_length=0))


def test_vectorizers_set_up_otherwise_are_scored_as_a_matrix() -> None:
    texts = ["where is my ticket", "my ticket please", "what about T-4521", "hello", "hi", "hey there hey"]
    labels = ["ticket", "ticket", "ticket", "greet", "greet", "greet"]
    model = LinearTextModel.fit(texts, labels, ModelConfig(calibration_folds=2))
    assert model._blocks is not None
    for vectorizer in model._vectorizers:
        vectorizer.norm = "l1"
    l1 = LinearTextModel(model.labels, model._vectorizers, model._coef, model._intercept, model.calibration)
    assert l1._blocks is None  # not what _margins computes
    _scored_alone_and_together(l1, [*texts, "ticket hey"])
