"""Intents and FAQ answers from one linear model (bot/components/linear_text_model.py).

One classifier learns every intent and every retrieval intent's sub-intent
("faq/login_problem") as its own label. A message's intent is the base name
("faq"), its confidence the sum of its labels' confidences, and for a
retrieval intent the component writes what Rasa's ResponseSelector writes
(``response_selector.<intent>``: the sub-intent, its ``utter_`` action and
the ranking, confidences renormalised within that intent), so Rasa's
retrieval action (``utter_faq``) and our actions read it unchanged. No
TensorFlow: the whole NLU trains in seconds and loads in well under one.

It reads the message text itself (folded, n-grams, and, with
``regex_features``, the regular expressions of the training data: see the
model's module); no tokenizer or
featurizer has to run before it. Rasa warns at training that no
ResponseSelector and no RegexFeaturizer are in the pipeline: it checks
their classes, and this component does both jobs.
"""

from __future__ import annotations

import json
import zlib
from collections import defaultdict
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers import LABEL_RANKING_LENGTH
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.constants import (
    RESPONSE_SELECTOR_PREDICTION_KEY,
    RESPONSE_SELECTOR_PROPERTY_NAME,
    RESPONSE_SELECTOR_RANKING_KEY,
    RESPONSE_SELECTOR_RESPONSES_KEY,
    RESPONSE_SELECTOR_RETRIEVAL_INTENTS,
    RESPONSE_SELECTOR_UTTER_ACTION_KEY,
)
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    INTENT_RESPONSE_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from rasa.shared.nlu.training_data.util import intent_response_key_to_template_key

from bot.components.linear_text_model import LinearTextModel, ModelConfig

__all__ = ["LinearIntentClassifier"]

_META = "model.json"
_ARRAYS = "arrays.npz"
_RETRIEVAL_SEPARATOR = "/"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class LinearIntentClassifier(GraphComponent, IntentClassifier):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        defaults = ModelConfig()
        return {
            "char_ngrams": list(defaults.char_ngrams),
            "word_ngrams": list(defaults.word_ngrams),
            "prefix_length": defaults.prefix_length,
            # weight of each feature block (0: left out)
            "char_weight": defaults.char_weight,
            "word_weight": defaults.word_weight,
            "prefix_weight": defaults.prefix_weight,
            "C": defaults.c,
            "calibration_folds": defaults.calibration_folds,
            "random_seed": defaults.random_seed,
            # one feature per regular expression of the training data
            "regex_features": True,
            # intent names containing it are combinations of intents, each
            # learnt on its own ("" : every intent name is one intent)
            "label_separator": defaults.label_separator,
            # weight of messages of no known intent in the confidence's
            # calibration (0: calibrated on known intents only)
            "unknown_share": defaults.unknown_share,
        }

    @staticmethod
    def required_packages() -> list[str]:
        return ["sklearn", "scipy"]

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: LinearTextModel | None = None,
        responses: dict[str, list[dict[str, Any]]] | None = None,
    ) -> None:
        self.component_config = config
        self._model_storage = model_storage
        self._resource = resource
        self._model = model
        self._responses = responses or {}

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LinearIntentClassifier:
        return cls(config, model_storage, resource)

    # --- training ---------------------------------------------------------

    def train(self, training_data: TrainingData) -> Resource:
        texts, labels = [], []
        for example in training_data.intent_examples:
            text = example.get(TEXT)
            label = example.get(INTENT_RESPONSE_KEY) or example.get(INTENT)
            if text and label:
                texts.append(text)
                labels.append(str(label))
        patterns = (
            [str(regex["pattern"]) for regex in training_data.regex_features]
            if self.component_config.get("regex_features", True)
            else []
        )
        self._model = LinearTextModel.fit(texts, labels, ModelConfig.from_dict(self.component_config), patterns)
        self._responses = {
            key: list(value) for key, value in training_data.responses.items() if _RETRIEVAL_SEPARATOR in key
        }
        self.persist()
        return self._resource

    def persist(self) -> None:
        if self._model is None:
            return
        meta, arrays = self._model.to_storage()
        with self._model_storage.write_to(self._resource) as folder:
            (folder / _META).write_text(
                json.dumps({**meta, "responses": self._responses}, ensure_ascii=False), encoding="utf-8"
            )
            np.savez_compressed(folder / _ARRAYS, **arrays)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> LinearIntentClassifier:
        try:
            with model_storage.read_from(resource) as folder:
                meta = json.loads((folder / _META).read_text(encoding="utf-8"))
                with np.load(folder / _ARRAYS, allow_pickle=False) as stored:
                    arrays = {name: stored[name] for name in stored.files}
        except ValueError:  # nothing persisted: trained on no intents
            return cls(config, model_storage, resource)
        return cls(config, model_storage, resource, LinearTextModel.from_storage(meta, arrays), meta["responses"])

    # --- prediction -------------------------------------------------------

    def process(self, messages: list[Message]) -> list[Message]:
        texts = [message.get(TEXT) or "" for message in messages]
        if self._model is None or not any(texts):
            for message in messages:
                message.set(INTENT, {INTENT_NAME_KEY: None, PREDICTED_CONFIDENCE_KEY: 0.0}, add_to_output=True)
                message.set(INTENT_RANKING_KEY, [], add_to_output=True)
            return messages
        probabilities = self._model.predict_proba(texts)
        for message, text, row in zip(messages, texts, probabilities, strict=True):
            if not text:
                message.set(INTENT, {INTENT_NAME_KEY: None, PREDICTED_CONFIDENCE_KEY: 0.0}, add_to_output=True)
                message.set(INTENT_RANKING_KEY, [], add_to_output=True)
                continue
            self._annotate(message, row)
        return messages

    def _annotate(self, message: Message, row: np.ndarray) -> None:
        by_intent: dict[str, float] = defaultdict(float)
        by_retrieval: dict[str, list[tuple[str, float]]] = defaultdict(list)
        for label, confidence in zip(self._model.labels if self._model else [], row, strict=True):
            intent, separator, _ = label.partition(_RETRIEVAL_SEPARATOR)
            by_intent[intent] += float(confidence)
            if separator:
                by_retrieval[intent].append((label, float(confidence)))
        ranking = sorted(by_intent.items(), key=lambda item: -item[1])[:LABEL_RANKING_LENGTH]
        name, confidence = ranking[0]
        message.set(INTENT, {INTENT_NAME_KEY: name, PREDICTED_CONFIDENCE_KEY: confidence}, add_to_output=True)
        message.set(
            INTENT_RANKING_KEY,
            [{INTENT_NAME_KEY: n, PREDICTED_CONFIDENCE_KEY: c} for n, c in ranking],
            add_to_output=True,
        )
        if not by_retrieval:
            return
        selector: dict[str, Any] = {RESPONSE_SELECTOR_RETRIEVAL_INTENTS: sorted(by_retrieval)}
        for intent, labels in by_retrieval.items():
            total = sum(c for _, c in labels) or 1.0
            ordered = sorted(labels, key=lambda item: -item[1])
            key, best = ordered[0]
            selector[intent] = {
                RESPONSE_SELECTOR_PREDICTION_KEY: {
                    RESPONSE_SELECTOR_RESPONSES_KEY: self._responses.get(intent_response_key_to_template_key(key), []),
                    PREDICTED_CONFIDENCE_KEY: best / total,
                    INTENT_RESPONSE_KEY: key,
                    RESPONSE_SELECTOR_UTTER_ACTION_KEY: intent_response_key_to_template_key(key),
                },
                RESPONSE_SELECTOR_RANKING_KEY: [
                    {"id": zlib.crc32(k.encode()), PREDICTED_CONFIDENCE_KEY: c / total, INTENT_RESPONSE_KEY: k}
                    for k, c in ordered[:LABEL_RANKING_LENGTH]
                ],
            }
        message.set(RESPONSE_SELECTOR_PROPERTY_NAME, selector, add_to_output=True)
