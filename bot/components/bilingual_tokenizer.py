"""A tokenizer that lemmatises each message with its own language's spaCy.

Customers switch between Turkish and English from one message to the next,
so the language is detected per message (support_rules.language_detect) and the
matching blank spaCy pipeline (built by bot.spacy_pipelines) tokenises it
and gives lookup lemmas ("hesabıma" -> "hesap", "withdrawals" ->
"withdrawal"). The featurizers after it count lemmas, so the inflected forms
of one Turkish word share one feature.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.shared.nlu.training_data.message import Message

from support_rules.language import SUPPORTED_LANGUAGES, fallback_language
from support_rules.language_detect import detect_language

__all__ = ["BilingualSpacyTokenizer"]


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class BilingualSpacyTokenizer(Tokenizer):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "intent_tokenization_flag": False,
            "intent_split_symbol": "_",
            "token_pattern": None,
            "prefix_separator_symbol": None,
            # Folder holding one spaCy pipeline per supported language.
            "pipelines_dir": "build/spacy",
        }

    @staticmethod
    def required_packages() -> list[str]:
        return ["spacy"]

    def __init__(self, config: dict[str, Any], pipelines: dict[str, Any]) -> None:
        super().__init__(config)
        self._pipelines = pipelines

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> BilingualSpacyTokenizer:
        import spacy

        root = Path(config["pipelines_dir"])
        pipelines = {}
        for language in SUPPORTED_LANGUAGES:
            path = root / language
            if not path.is_dir():
                raise FileNotFoundError(
                    f"spaCy pipeline {path} is missing: build it with "
                    f"`python -m bot.spacy_pipelines {root}` (make does this)."
                )
            pipelines[language] = spacy.load(path)
        return cls(config, pipelines)

    def _language(self, text: str) -> str:
        return fallback_language(detect_language(text))

    def tokenize(self, message: Message, attribute: str) -> list[Token]:
        text: str | None = message.get(attribute)
        if not text:
            return []
        nlp = self._pipelines[self._language(text)]
        tokens = [Token(t.text, t.idx, lemma=(t.lemma_ or t.text).lower()) for t in nlp(text) if t.text.strip()]
        return self._apply_token_pattern(tokens)
