"""A linear text classifier over character and word n-grams, with calibrated
confidences; no Rasa in here (bot/components/linear_intent_classifier.py is
the Rasa glue).

- Text is folded first (support_rules.text.fold: lower case with Turkish
  I/ı/İ rules, Turkish letters folded to ASCII), because customers write
  "şifremi", "sifremi" and "ŞİFREMİ" alike.
- Features, each TF-IDF with sublinear counts, L2-normalised: character
  n-grams within word boundaries (char_wb, 2-5: typos, and Turkish suffixes
  without a morphological analyser), word n-grams (1-2), and the first
  ``prefix_length`` letters of each word (1-2 grams of those): Turkish is
  agglutinative and a word's first letters are its root often enough that
  truncation is a known cheap stemmer for Turkish retrieval ("hesabıma",
  "hesabımı" -> "hesa"); and one feature per regular expression of the
  training data (data/nlu/regex.yml: ticket numbers, usernames, numeric
  dates), 1 when it matches anywhere in the text, case-insensitive.
- A LinearSVC (one-vs-rest) gives a margin per label; softmax over the
  margins divided by a temperature gives the confidences. The temperature
  is fitted on the training data by cross-validation (the margins of each
  held-out fold from a model trained on the other folds, minimum negative
  log-likelihood): temperature scaling keeps the ranking, so accuracy is the
  SVM's, and makes a confidence of 0.45 mean about a 45 % chance of being
  right, which is what the FallbackClassifier's threshold assumes. Labels
  with one example stay in every training fold (sklearn's
  CalibratedClassifierCV refuses labels with fewer examples than folds).

Persisted as plain arrays and JSON (no pickle): the vocabularies, IDF
weights, coefficients, intercepts and the temperature.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import sparse
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax, softmax
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.svm import LinearSVC

from support_rules.text import fold

__all__ = ["ModelConfig", "LinearTextModel", "prefixes"]

_WORD_PATTERN = r"(?u)\b\w+\b"
# log-temperature search range: from 0.0025 to 20
_LOG_T_BOUNDS = (-6.0, 3.0)


def prefixes(text: str, length: int) -> str:
    """The first ``length`` letters of each folded word."""
    return " ".join(word[:length] for word in fold(text).split())


@dataclass(frozen=True)
class ModelConfig:
    char_ngrams: tuple[int, int] = (2, 5)
    word_ngrams: tuple[int, int] = (1, 2)
    prefix_length: int = 4  # 0: no prefix features
    c: float = 1.0  # LinearSVC's regularisation
    calibration_folds: int = 5
    random_seed: int = 42

    @classmethod
    def from_dict(cls, config: dict[str, Any]) -> ModelConfig:
        return cls(
            char_ngrams=(int(config["char_ngrams"][0]), int(config["char_ngrams"][1])),
            word_ngrams=(int(config["word_ngrams"][0]), int(config["word_ngrams"][1])),
            prefix_length=int(config["prefix_length"]),
            c=float(config["C"]),
            calibration_folds=int(config["calibration_folds"]),
            random_seed=int(config["random_seed"]),
        )


class _Prefixes:
    """A picklable preprocessor (the vectorizer keeps a reference)."""

    def __init__(self, length: int) -> None:
        self.length = length

    def __call__(self, text: str) -> str:
        return prefixes(text, self.length)


def _vectorizers(config: ModelConfig) -> list[TfidfVectorizer]:
    made = [
        TfidfVectorizer(analyzer="char_wb", ngram_range=config.char_ngrams, sublinear_tf=True, preprocessor=fold),
        TfidfVectorizer(
            analyzer="word",
            ngram_range=config.word_ngrams,
            sublinear_tf=True,
            preprocessor=fold,
            token_pattern=_WORD_PATTERN,
        ),
    ]
    if config.prefix_length > 0:
        made.append(
            TfidfVectorizer(
                analyzer="word",
                ngram_range=(1, 2),
                sublinear_tf=True,
                preprocessor=_Prefixes(config.prefix_length),
                token_pattern=_WORD_PATTERN,
            )
        )
    return made


def _pattern_features(patterns: Sequence[re.Pattern[str]], texts: Sequence[str]) -> sparse.csr_matrix:
    return sparse.csr_matrix(
        np.array([[1.0 if p.search(t) else 0.0 for p in patterns] for t in texts], dtype=np.float64).reshape(
            len(texts), len(patterns)
        )
    )


def _compile(patterns: Sequence[str]) -> list[re.Pattern[str]]:
    return [re.compile(p, re.IGNORECASE) for p in patterns]


def _margins(coef: np.ndarray, intercept: np.ndarray, features: sparse.csr_matrix) -> np.ndarray:
    scores = np.asarray(features @ coef.T) + intercept
    if coef.shape[0] == 1:  # two labels: LinearSVC keeps one hyperplane
        scores = np.hstack([-scores, scores])
    return scores


def _fit_svm(features: sparse.csr_matrix, labels: np.ndarray, config: ModelConfig) -> LinearSVC:
    return LinearSVC(C=config.c, random_state=config.random_seed).fit(features, labels)


class LinearTextModel:
    def __init__(
        self,
        labels: Sequence[str],
        vectorizers: list[TfidfVectorizer],
        coef: np.ndarray,
        intercept: np.ndarray,
        temperature: float,
        patterns: Sequence[str] = (),
    ) -> None:
        self.labels = list(labels)
        self.patterns = list(patterns)
        self._compiled = _compile(self.patterns)
        self._vectorizers = vectorizers
        self._coef = coef
        self._intercept = intercept
        self.temperature = temperature

    # --- training ---------------------------------------------------------

    @classmethod
    def fit(
        cls, texts: Sequence[str], labels: Sequence[str], config: ModelConfig, patterns: Sequence[str] = ()
    ) -> LinearTextModel:
        y = np.asarray(labels)
        classes = np.unique(y)
        if len(classes) < 2:
            raise ValueError(f"a classifier needs at least two labels, the training data has {len(classes)}")
        vectorizers = _vectorizers(config)
        blocks = [v.fit_transform(texts) for v in vectorizers]
        if patterns:
            blocks.append(_pattern_features(_compile(patterns), texts))
        features = sparse.hstack(blocks).tocsr()
        svm = _fit_svm(features, y, config)
        temperature = _fit_temperature(features, y, classes, config)
        coef = np.asarray(svm.coef_, dtype=np.float32)
        intercept = np.asarray(svm.intercept_, dtype=np.float32)
        return cls([str(c) for c in svm.classes_], vectorizers, coef, intercept, temperature, patterns)

    # --- prediction -------------------------------------------------------

    def features(self, texts: Sequence[str]) -> sparse.csr_matrix:
        blocks = [v.transform(texts) for v in self._vectorizers]
        if self._compiled:
            blocks.append(_pattern_features(self._compiled, texts))
        return sparse.hstack(blocks).tocsr()

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """One row per text, one column per label (in ``labels``' order)."""
        margins = _margins(self._coef, self._intercept, self.features(texts))
        return np.asarray(softmax(margins / self.temperature, axis=1))

    # --- storage ----------------------------------------------------------

    def to_storage(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """JSON-able metadata and arrays, for :meth:`from_storage`."""
        meta = {
            "labels": self.labels,
            "temperature": self.temperature,
            "patterns": self.patterns,
            "vectorizers": [
                {
                    "params": _params(v),
                    "vocabulary": {term: int(i) for term, i in v.vocabulary_.items()},
                }
                for v in self._vectorizers
            ],
        }
        arrays = {"coef": self._coef, "intercept": self._intercept}
        for i, v in enumerate(self._vectorizers):
            arrays[f"idf_{i}"] = np.asarray(v.idf_, dtype=np.float64)
        return meta, arrays

    @classmethod
    def from_storage(cls, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> LinearTextModel:
        vectorizers = []
        for i, stored in enumerate(meta["vectorizers"]):
            params = dict(stored["params"])
            length = params.pop("prefix_length", None)
            params["preprocessor"] = _Prefixes(int(length)) if length else fold
            params["ngram_range"] = tuple(params["ngram_range"])
            vectorizer = TfidfVectorizer(**params)
            vectorizer.vocabulary_ = dict(stored["vocabulary"])
            vectorizer.idf_ = arrays[f"idf_{i}"]
            vectorizers.append(vectorizer)
        return cls(
            meta["labels"],
            vectorizers,
            arrays["coef"],
            arrays["intercept"],
            float(meta["temperature"]),
            meta.get("patterns") or [],
        )


def _params(vectorizer: TfidfVectorizer) -> dict[str, Any]:
    params: dict[str, Any] = {
        "analyzer": vectorizer.analyzer,
        "ngram_range": list(vectorizer.ngram_range),
        "sublinear_tf": vectorizer.sublinear_tf,
        "token_pattern": vectorizer.token_pattern,
    }
    if isinstance(vectorizer.preprocessor, _Prefixes):
        params["prefix_length"] = vectorizer.preprocessor.length
    return params


def _fit_temperature(features: sparse.csr_matrix, y: np.ndarray, classes: np.ndarray, config: ModelConfig) -> float:
    """The softmax temperature that minimises the held-out negative
    log-likelihood of cross-validated margins (1.0 when no label has two
    examples to hold one out)."""
    rng = np.random.RandomState(config.random_seed)
    fold_of = np.full(len(y), -1)
    for label in classes:
        where = np.flatnonzero(y == label)
        if len(where) >= 2:
            rng.shuffle(where)
            fold_of[where] = np.arange(len(where)) % config.calibration_folds
    held_margins, held_labels = [], []
    for fold_index in range(config.calibration_folds):
        held = fold_of == fold_index
        kept = ~held
        if not held.any() or len(np.unique(y[kept])) < 2:
            continue
        svm = _fit_svm(features[kept], y[kept], config)
        margins = _margins(svm.coef_, svm.intercept_, features[held])
        full = np.full((int(held.sum()), len(classes)), -1e3)  # a label missing from the fold never wins
        full[:, np.searchsorted(classes, svm.classes_)] = margins
        held_margins.append(full)
        held_labels.append(np.searchsorted(classes, y[held]))
    if not held_margins:
        return 1.0
    margins_all = np.vstack(held_margins)
    gold = np.concatenate(held_labels)
    rows = np.arange(len(gold))

    def loss(log_t: float) -> float:
        return float(-log_softmax(margins_all / np.exp(log_t), axis=1)[rows, gold].mean())

    best = minimize_scalar(loss, bounds=_LOG_T_BOUNDS, method="bounded")
    return float(np.exp(best.x))
