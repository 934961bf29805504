"""How bot/components/linear_text_model.py turns label scores into
confidences, learnt from the training data alone by cross-validation; no
Rasa in here.

The scores come from one binary LinearSVC per *unit* (an intent; for data
whose labels are combinations of intents, ``"a+b"``, each of its intents)
and are decoded into one score per known label (:func:`label_scores`).

Two things are fitted on held-out margins (:func:`cross_validated`):

- a softmax temperature over the label scores (minimum negative
  log-likelihood of the right label), which spreads the confidence over the
  ranking;
- the confidence of the top label itself: a logistic regression on the top
  score and the log of its share of the scores' softmax, predicting "the top label is right".
  Its held-out rows include rows of labels that the fold's model never saw
  (each fold leaves out a share of the labels as well as a share of the
  rows), which the top label can never get right: so a message unlike any
  label gets a low confidence, and the FallbackClassifier's threshold
  means a probability of being right that counts unknown requests too.
  ``unknown_share`` is the weight of those rows in the fit (0: only rows of
  known labels, the in-scope calibration).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.optimize import minimize_scalar
from scipy.special import expit, log_softmax
from sklearn.linear_model import LogisticRegression

__all__ = ["Calibration", "UnitFit", "cross_validated", "label_scores", "top_features"]

# log-temperature search range: from 0.0025 to 20
_LOG_T_BOUNDS = (-6.0, 3.0)
# a label the fold's model does not know never wins
_MISSING = -1e3

UnitFit = Callable[[sparse.csr_matrix, np.ndarray], tuple[np.ndarray, np.ndarray]]


def label_scores(unit_margins: np.ndarray, label_units: np.ndarray) -> np.ndarray:
    """One score per label from one margin per unit: the margins of the
    label's units minus the positive margins of the other units (a unit
    that fires and is not in the label counts against it). With one unit per
    label the ranking is the margins'."""
    inside = unit_margins @ label_units.T
    outside = np.maximum(unit_margins, 0.0) @ (1.0 - label_units).T
    return np.asarray(inside - outside)


def top_features(scores: np.ndarray) -> np.ndarray:
    """The calibrator's inputs per row: the top score and the log of the top
    label's share of the softmax of the scores (how far it leads them all)."""
    return np.column_stack([scores.max(axis=1), log_softmax(scores, axis=1).max(axis=1)])


@dataclass(frozen=True)
class Calibration:
    temperature: float = 1.0
    # logistic regression of "the top label is right" on top_features; all
    # zero: no calibrator (the top confidence is the softmax's)
    weights: tuple[float, float] = (0.0, 0.0)
    bias: float = 0.0

    @property
    def fitted(self) -> bool:
        return any(self.weights)

    def confidences(self, scores: np.ndarray) -> np.ndarray:
        """Per row, the softmax of the scores over the temperature, scaled so
        that the top label's confidence is the calibrator's probability."""
        probabilities = np.exp(log_softmax(scores / self.temperature, axis=1))
        if not self.fitted:
            return probabilities
        right = expit(top_features(scores) @ np.asarray(self.weights) + self.bias)
        top = probabilities.max(axis=1)
        return np.asarray(probabilities * (right / top)[:, None])


def _folds(labels: np.ndarray, folds: int, rng: np.random.RandomState) -> tuple[np.ndarray, np.ndarray]:
    """A fold per row (stratified; -1 for a label with one row: always trained
    on) and a fold per label (the fold that leaves the label out)."""
    classes = np.unique(labels)
    row_fold = np.full(len(labels), -1)
    for label in classes:
        where = np.flatnonzero(labels == label)
        if len(where) >= 2:
            rng.shuffle(where)
            row_fold[where] = (np.arange(len(where)) + rng.randint(folds)) % folds
    label_fold = dict(zip(classes, rng.permutation(len(classes)) % folds, strict=True))
    return row_fold, np.array([label_fold[label] for label in labels])


def cross_validated(
    features: sparse.csr_matrix,
    labels: np.ndarray,
    unit_targets: np.ndarray,
    label_units: np.ndarray,
    fit_units: UnitFit,
    *,
    folds: int,
    unknown_share: float,
    seed: int,
) -> Calibration:
    """The temperature and the top-confidence calibrator from ``folds``-fold
    cross-validation (see the module's docstring); ``labels`` index the rows
    of ``label_units``."""
    rng = np.random.RandomState(seed)
    row_fold, label_fold = _folds(labels, folds, rng)
    known_scores, known_gold, all_features, all_right, unknown = [], [], [], [], []
    for fold in range(folds):
        # one model per fold: trained without the fold's rows, nor, with
        # unknown_share, any row of the fold's labels; the rows of those
        # labels are the unknown ones
        unknown_rows = (label_fold == fold) if unknown_share > 0 else np.zeros(len(labels), dtype=bool)
        known_rows = (row_fold == fold) & ~unknown_rows
        train = (row_fold != fold) & ~unknown_rows
        held = known_rows | unknown_rows
        seen = unit_targets[train].any(axis=0) & ~unit_targets[train].all(axis=0)
        if not known_rows.any() or not seen.any() or len(np.unique(labels[train])) < 2:
            continue
        coef, intercept = fit_units(features[train], unit_targets[train][:, seen])
        margins = np.where(unit_targets[train].all(axis=0), 1.0, -1.0) * np.ones((int(held.sum()), len(seen)))
        margins[:, seen] = np.asarray(features[held] @ coef.T) + intercept
        scores = label_scores(margins, label_units)
        scores[:, np.setdiff1d(np.arange(len(label_units)), labels[train])] = _MISSING
        gold = labels[held]
        is_known = known_rows[held]
        known_scores.append(scores[is_known])
        known_gold.append(gold[is_known])
        all_features.append(top_features(scores))
        all_right.append(scores.argmax(axis=1) == gold)
        unknown.append(~is_known)
    if not known_scores:
        return Calibration()
    temperature = _temperature(np.vstack(known_scores), np.concatenate(known_gold))
    x, y, is_unknown = np.vstack(all_features), np.concatenate(all_right), np.concatenate(unknown)
    if len(np.unique(y)) < 2:
        return Calibration(temperature)
    weight = np.ones(len(y))
    if unknown_share > 0 and is_unknown.any():
        # the unknown rows weigh unknown_share of the whole
        weight[is_unknown] = unknown_share / (1 - unknown_share) * (~is_unknown).sum() / is_unknown.sum()
    model = LogisticRegression(C=1.0).fit(x, y, sample_weight=weight)
    return Calibration(temperature, (float(model.coef_[0, 0]), float(model.coef_[0, 1])), float(model.intercept_[0]))


def _temperature(scores: np.ndarray, gold: np.ndarray) -> float:
    rows = np.arange(len(gold))

    def loss(log_t: float) -> float:
        return float(-log_softmax(scores / np.exp(log_t), axis=1)[rows, gold].mean())

    return float(np.exp(minimize_scalar(loss, bounds=_LOG_T_BOUNDS, method="bounded").x))
