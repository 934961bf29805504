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
- One binary LinearSVC per unit gives a margin per unit. A unit is a label,
  or, with ``label_separator`` set and labels that contain it (``"a+b"``,
  data whose messages carry several intents), each intent of a label: every
  row with an intent then teaches that intent, whatever it comes with. The
  margins are decoded into one score per label seen in training
  (linear_calibration.label_scores); with one unit per label that is the
  multi-class one-vs-rest SVM's ranking.
- Confidences (bot/components/linear_calibration.py): a softmax of the
  scores with a temperature, and the top label's confidence from a
  calibrator of "the top label is right", both fitted by cross-validation
  on the training data, folds that also leave whole labels out so that
  messages of no known label are part of what the confidence is
  calibrated on. A confidence of 0.45 then means about a 45 % chance of
  being right, which is what the FallbackClassifier's threshold assumes.
  Labels with one example stay in every training fold.

Persisted as plain arrays and JSON (no pickle): the vocabularies, IDF
weights, coefficients, intercepts, the units and the calibration.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.svm import LinearSVC

from bot.components.linear_calibration import Calibration, UnitFit, cross_validated, label_scores
from support_rules.text import fold

__all__ = ["ModelConfig", "LinearTextModel", "prefixes"]

_WORD_PATTERN = r"(?u)\b\w+\b"
# up to this many texts are scored one by one (LinearTextModel._margins):
# a message at a time, as the bot asks; more (training, tests) as a matrix
_ONE_BY_ONE = 4


def prefixes(text: str, length: int) -> str:
    """The first ``length`` letters of each folded word."""
    return " ".join(word[:length] for word in fold(text).split())


@dataclass(frozen=True)
class ModelConfig:
    char_ngrams: tuple[int, int] = (2, 5)
    word_ngrams: tuple[int, int] = (1, 2)
    prefix_length: int = 4  # 0: no prefix features
    # each block's weight after its L2 normalisation (0: the block is left out)
    char_weight: float = 1.0
    word_weight: float = 1.0
    prefix_weight: float = 1.0
    c: float = 1.0  # LinearSVC's regularisation
    calibration_folds: int = 5
    random_seed: int = 42
    # labels containing it are combinations of intents ("" : every label is one)
    label_separator: str = ""
    # weight of the messages of labels left out in the calibration (0: none)
    unknown_share: float = 0.0

    @classmethod
    def from_dict(cls, config: dict[str, Any]) -> ModelConfig:
        return cls(
            char_ngrams=(int(config["char_ngrams"][0]), int(config["char_ngrams"][1])),
            word_ngrams=(int(config["word_ngrams"][0]), int(config["word_ngrams"][1])),
            prefix_length=int(config["prefix_length"]),
            char_weight=float(config.get("char_weight", 1.0)),
            word_weight=float(config.get("word_weight", 1.0)),
            prefix_weight=float(config.get("prefix_weight", 1.0)),
            c=float(config["C"]),
            calibration_folds=int(config["calibration_folds"]),
            random_seed=int(config["random_seed"]),
            label_separator=str(config.get("label_separator") or ""),
            unknown_share=float(config.get("unknown_share") or 0.0),
        )


class _Prefixes:
    """A picklable preprocessor (the vectorizer keeps a reference)."""

    def __init__(self, length: int) -> None:
        self.length = length

    def __call__(self, text: str) -> str:
        return prefixes(text, self.length)


def _vectorizers(config: ModelConfig) -> tuple[list[TfidfVectorizer], list[float]]:
    """The feature blocks of the config and the weight of each (blocks of weight 0 left out)."""
    made: list[tuple[TfidfVectorizer, float]] = [
        (
            TfidfVectorizer(analyzer="char_wb", ngram_range=config.char_ngrams, sublinear_tf=True, preprocessor=fold),
            config.char_weight,
        ),
        (
            TfidfVectorizer(
                analyzer="word",
                ngram_range=config.word_ngrams,
                sublinear_tf=True,
                preprocessor=fold,
                token_pattern=_WORD_PATTERN,
            ),
            config.word_weight,
        ),
    ]
    if config.prefix_length > 0:
        made.append(
            (
                TfidfVectorizer(
                    analyzer="word",
                    ngram_range=(1, 2),
                    sublinear_tf=True,
                    preprocessor=_Prefixes(config.prefix_length),
                    token_pattern=_WORD_PATTERN,
                ),
                config.prefix_weight,
            )
        )
    kept = [(vectorizer, weight) for vectorizer, weight in made if weight > 0]
    if not kept:
        raise ValueError("every feature block has weight 0")
    return [v for v, _ in kept], [w for _, w in kept]


def _pattern_features(patterns: Sequence[re.Pattern[str]], texts: Sequence[str]) -> sparse.csr_matrix:
    return sparse.csr_matrix(
        np.array([[1.0 if p.search(t) else 0.0 for p in patterns] for t in texts], dtype=np.float64).reshape(
            len(texts), len(patterns)
        )
    )


def _compile(patterns: Sequence[str]) -> list[re.Pattern[str]]:
    return [re.compile(p, re.IGNORECASE) for p in patterns]


def units_of(labels: Sequence[str], separator: str) -> tuple[list[str], np.ndarray]:
    """The units (intents) of the labels and a labels x units 0/1 matrix."""
    split = [sorted(set(label.split(separator))) if separator else [label] for label in labels]
    units = sorted({unit for parts in split for unit in parts})
    index = {unit: i for i, unit in enumerate(units)}
    matrix = np.zeros((len(labels), len(units)))
    for row, parts in enumerate(split):
        matrix[row, [index[unit] for unit in parts]] = 1.0
    return units, matrix


def _unit_fitter(config: ModelConfig) -> UnitFit:
    def fit(features: sparse.csr_matrix, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One binary LinearSVC per column of ``targets`` (each with both values)."""
        coef = np.zeros((targets.shape[1], features.shape[1]))
        intercept = np.zeros(targets.shape[1])
        for unit in range(targets.shape[1]):
            if targets[:, unit].min() == targets[:, unit].max():  # a unit in every row or in none
                intercept[unit] = 1.0 if targets[0, unit] else -1.0
                continue
            svm = LinearSVC(C=config.c, random_state=config.random_seed).fit(features, targets[:, unit])
            coef[unit], intercept[unit] = svm.coef_[0], svm.intercept_[0]
        return coef, intercept

    return fit


class LinearTextModel:
    def __init__(
        self,
        labels: Sequence[str],
        vectorizers: list[TfidfVectorizer],
        coef: np.ndarray,
        intercept: np.ndarray,
        calibration: Calibration,
        patterns: Sequence[str] = (),
        label_separator: str = "",
        weights: Sequence[float] | None = None,
    ) -> None:
        self.labels = list(labels)
        self.label_separator = label_separator
        self.units, self._label_units = units_of(self.labels, label_separator)
        self.patterns = list(patterns)
        self._compiled = _compile(self.patterns)
        self._vectorizers = vectorizers
        self._weights = [1.0] * len(vectorizers) if weights is None else [float(w) for w in weights]
        self._coef = coef
        # the features' product with it, laid out for a sparse row times a
        # dense matrix (transposed on every message, it took three times as long)
        self._coef_columns = np.ascontiguousarray(coef.T)
        # what ``_margins`` needs of each vectorizer; None: a vectorizer set
        # up otherwise than ``_margins`` computes it (L2-normalised TF-IDF
        # of counts), scored as a matrix
        reproduced = all(v.norm == "l2" and v.use_idf and not v.binary and v.dtype == np.float64 for v in vectorizers)
        self._blocks: list[tuple[Any, dict[str, int], np.ndarray, bool]] | None = (
            [
                (v.build_analyzer(), v.vocabulary_, np.asarray(v.idf_, dtype=np.float64), bool(v.sublinear_tf))
                for v in vectorizers
            ]
            if reproduced
            else None
        )
        self._intercept = intercept
        self.calibration = calibration

    @property
    def temperature(self) -> float:
        return self.calibration.temperature

    # --- training ---------------------------------------------------------

    @classmethod
    def fit(
        cls, texts: Sequence[str], labels: Sequence[str], config: ModelConfig, patterns: Sequence[str] = ()
    ) -> LinearTextModel:
        classes = sorted(set(labels))
        if len(classes) < 2:
            raise ValueError(f"a classifier needs at least two labels, the training data has {len(classes)}")
        separator = config.label_separator if any(config.label_separator in c for c in classes) else ""
        units, label_units = units_of(classes, separator)
        y = np.searchsorted(np.asarray(classes), np.asarray(labels))
        targets = label_units[y].astype(int)
        vectorizers, weights = _vectorizers(config)
        blocks = [v.fit_transform(texts) * w for v, w in zip(vectorizers, weights, strict=True)]
        if patterns:
            blocks.append(_pattern_features(_compile(patterns), texts))
        features = sparse.hstack(blocks).tocsr()
        fit_units = _unit_fitter(config)
        coef, intercept = fit_units(features, targets)
        calibration = cross_validated(
            features,
            y,
            targets,
            label_units,
            fit_units,
            folds=config.calibration_folds,
            unknown_share=config.unknown_share,
            seed=config.random_seed,
        )
        return cls(
            classes,
            vectorizers,
            np.asarray(coef, dtype=np.float32),
            np.asarray(intercept, dtype=np.float32),
            calibration,
            patterns,
            separator,
            weights,
        )

    # --- prediction -------------------------------------------------------

    def features(self, texts: Sequence[str]) -> sparse.csr_matrix:
        blocks = [v.transform(texts) * w for v, w in zip(self._vectorizers, self._weights, strict=True)]
        if self._compiled:
            blocks.append(_pattern_features(self._compiled, texts))
        return sparse.hstack(blocks).tocsr()

    def scores(self, texts: Sequence[str]) -> np.ndarray:
        """One score per text and label (in ``labels``' order), before calibration."""
        if 0 < len(texts) <= _ONE_BY_ONE and self._blocks is not None:
            margins = np.vstack([self._margins(text) for text in texts])
        else:
            margins = np.asarray(self.features(texts) @ self._coef_columns) + self._intercept
        return label_scores(margins, self._label_units)

    def _margins(self, text: str) -> np.ndarray:
        """One text's margins, as ``features([text]) @ coef`` gives them,
        without the sparse matrices: the customer's message, one at a time,
        took 0.7 ms that way (scikit-learn's and SciPy's checks and
        conversions for a matrix of one row) against 0.1 ms here. Each
        block's TF-IDF as the vectorizer computes it (its own analyzer,
        counts, sublinear or not, IDF, L2 norm), times the block's weight, times
        the coefficients of its terms."""
        assert self._blocks is not None
        margins = self._intercept.astype(np.float64)
        offset = 0
        for (analyzer, vocabulary, idf, sublinear), weight in zip(self._blocks, self._weights, strict=True):
            counts: dict[int, int] = {}
            for term in analyzer(text):
                column = vocabulary.get(term)
                if column is not None:
                    counts[column] = counts.get(column, 0) + 1
            if counts:
                columns = np.fromiter(sorted(counts), dtype=np.intp, count=len(counts))
                tf = np.array([counts[c] for c in columns], dtype=np.float64)
                values = (np.log(tf) + 1.0 if sublinear else tf) * idf[columns]
                values *= weight / np.sqrt(values @ values)
                margins = margins + values @ self._coef_columns[offset + columns]
            offset += len(idf)
        hits = [offset + i for i, pattern in enumerate(self._compiled) if pattern.search(text)]
        if hits:
            margins = margins + self._coef_columns[hits].sum(axis=0, dtype=np.float64)
        return margins

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """One row per text, one column per label (in ``labels``' order): the
        calibrated confidences (the top one is the chance of being right; a
        row sums to at most 1)."""
        return self.calibration.confidences(self.scores(texts))

    # --- storage ----------------------------------------------------------

    def to_storage(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """JSON-able metadata and arrays, for :meth:`from_storage`."""
        meta = {
            "labels": self.labels,
            "label_separator": self.label_separator,
            "calibration": {
                "temperature": self.calibration.temperature,
                "weights": list(self.calibration.weights),
                "bias": self.calibration.bias,
            },
            "patterns": self.patterns,
            "vectorizers": [
                {
                    "params": _params(v),
                    "weight": w,
                    "vocabulary": {term: int(i) for term, i in v.vocabulary_.items()},
                }
                for v, w in zip(self._vectorizers, self._weights, strict=True)
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
        stored_calibration = meta["calibration"]
        calibration = Calibration(
            float(stored_calibration["temperature"]),
            (float(stored_calibration["weights"][0]), float(stored_calibration["weights"][1])),
            float(stored_calibration["bias"]),
        )
        return cls(
            meta["labels"],
            vectorizers,
            arrays["coef"],
            arrays["intercept"],
            calibration,
            meta.get("patterns") or [],
            str(meta.get("label_separator") or ""),
            [float(stored.get("weight", 1.0)) for stored in meta["vectorizers"]],
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
