"""The custom tokenizer, created the way Rasa creates it."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.constants import TOKENS_NAMES
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.components.bilingual_tokenizer import BilingualSpacyTokenizer

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory) -> BilingualSpacyTokenizer:
    storage = LocalModelStorage(tmp_path_factory.mktemp("model"))
    config = {**BilingualSpacyTokenizer.get_default_config(), "pipelines_dir": str(ROOT / "build" / "spacy")}
    return BilingualSpacyTokenizer.create(
        config, storage, Resource("tokenizer"), ExecutionContext(GraphSchema({}), "test")
    )


def _lemmas(tokenizer: BilingualSpacyTokenizer, text: str) -> list[str]:
    message = Message({TEXT: text})
    tokenizer.process([message])
    return [token.lemma for token in message.get(TOKENS_NAMES[TEXT])]


def test_turkish_is_lemmatised_with_and_without_turkish_letters(tokenizer) -> None:
    assert _lemmas(tokenizer, "hesabıma giremiyorum") == ["hesap", "gir"]
    assert _lemmas(tokenizer, "hesabima giremiyorum") == ["hesap", "gir"]
    assert _lemmas(tokenizer, "şifremi unuttum")[0] == "sifre"


def test_english_is_lemmatised_as_english(tokenizer) -> None:
    assert _lemmas(tokenizer, "my withdrawals are pending") == ["my", "withdrawal", "be", "pend"]


def test_a_missing_pipeline_folder_is_explained(tmp_path) -> None:
    storage = LocalModelStorage(tmp_path / "model")
    config = {**BilingualSpacyTokenizer.get_default_config(), "pipelines_dir": str(tmp_path / "nowhere")}
    with pytest.raises(FileNotFoundError, match="bot.spacy_pipelines"):
        BilingualSpacyTokenizer.create(config, storage, Resource("t"), ExecutionContext(GraphSchema({}), "t"))
