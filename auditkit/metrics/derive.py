"""Metric values from the aggregate tables: every value has either a number or a reason it has none."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from auditkit.metrics.registry import (
    CELLS,
    DECISION_MARGINS,
    METRICS,
    MetricDefinition,
    decision_margins,
)
from auditkit.metrics.stats import kish_effective_n, wilson_interval


@dataclass
class Derived:
    """Metric values of one group, with reasons for the nulls and intervals for the rates."""

    values: dict[str, float | int | None] = field(default_factory=dict)
    reasons: dict[str, str] = field(default_factory=dict)
    ci: dict[str, tuple[float, float]] = field(default_factory=dict)
    rate_counts: dict[str, tuple[float, float]] = field(default_factory=dict)
    """For each rate: (successes, trials) on the effective-sample scale, for disparity intervals."""

    def set(self, key: str, value: float | None, reason: str | None = None) -> None:
        if value is not None and not math.isfinite(value):
            value, reason = None, reason or "not a finite number"
        self.values[key] = value
        if value is None:
            self.reasons[key] = reason or "not available"


def _number(record: Mapping[str, Any], key: str) -> float:
    value = record.get(key)
    return 0.0 if value is None else float(value)


def cell_totals(record: Mapping[str, Any], weighted: bool) -> dict[str, float]:
    """The confusion cells the rates are computed from: weighted sums when a weight column is set."""
    return {cell: _number(record, f"w_{cell}" if weighted else cell) for cell in CELLS}


def derive_decisions(
    record: Mapping[str, Any],
    weighted: bool,
    confidence: float,
    keys: Sequence[str],
    derived: Derived,
) -> None:
    """Without a label: the rates that sum whole decision margins (the selection rate), from the
    margins' counts; ``keys`` holds only metrics that need no label."""
    margins = {
        margin: _number(record, f"w_{margin}" if weighted else margin)
        for margin in DECISION_MARGINS
    }
    derived.values["n"] = int(record.get("n") or 0)
    for key in keys:
        metric = METRICS[key]
        if metric.family == "classification" and metric.is_rate:
            assert metric.numerator is not None and metric.denominator is not None
            numerator = decision_margins(metric.numerator) or ()
            denominator = decision_margins(metric.denominator) or ()
            successes = sum(margins[margin] for margin in numerator)
            trials = sum(margins[margin] for margin in denominator)
            squares = sum(_number(record, f"w2_{margin}") for margin in denominator)
            _proportion(
                metric, successes, trials, squares if weighted else None, confidence, derived
            )


def derive_classification(
    record: Mapping[str, Any],
    weighted: bool,
    confidence: float,
    keys: Sequence[str],
    derived: Derived,
) -> None:
    cells = cell_totals(record, weighted)
    for cell in CELLS:
        derived.values[cell] = int(record.get(cell) or 0)
    derived.values["n"] = int(record.get("n") or 0)
    for key in keys:
        metric = METRICS[key]
        if metric.family == "classification" and metric.is_rate:
            _rate(metric, cells, record, weighted, confidence, derived)
    if "balanced_accuracy" in keys:
        _balanced_accuracy(derived, cells)
    if "f1" in keys:
        denominator = 2 * cells["tp"] + cells["fp"] + cells["fn"]
        derived.set(
            "f1",
            2 * cells["tp"] / denominator if denominator else None,
            "no positive decisions and no actual positives (2tp + fp + fn = 0)",
        )


def _rate(
    metric: MetricDefinition,
    cells: Mapping[str, float],
    record: Mapping[str, Any],
    weighted: bool,
    confidence: float,
    derived: Derived,
) -> None:
    assert metric.numerator is not None and metric.denominator is not None
    successes = sum(cells[cell] for cell in metric.numerator)
    trials = sum(cells[cell] for cell in metric.denominator)
    squares = sum(_number(record, f"w2_{cell}") for cell in metric.denominator)
    _proportion(metric, successes, trials, squares if weighted else None, confidence, derived)


def _proportion(
    metric: MetricDefinition,
    successes: float,
    trials: float,
    weight_squares: float | None,
    confidence: float,
    derived: Derived,
) -> None:
    """A rate with its Wilson interval; weighted (``weight_squares`` given) on Kish's effective n."""
    if trials <= 0:
        derived.set(metric.key, None, metric.undefined)
        return
    value = successes / trials
    derived.set(metric.key, value)
    effective = trials
    if weight_squares is not None:
        effective = kish_effective_n(trials, weight_squares) or 0.0
    _attach_interval(metric.key, value, effective, confidence, derived)


def _attach_interval(
    key: str, value: float, trials: float, confidence: float, derived: Derived
) -> None:
    interval = wilson_interval(value * trials, trials, confidence)
    if interval is not None:
        derived.ci[key] = interval
        derived.rate_counts[key] = (value * trials, trials)


def _balanced_accuracy(derived: Derived, cells: Mapping[str, float]) -> None:
    positives, negatives = cells["tp"] + cells["fn"], cells["tn"] + cells["fp"]
    if positives <= 0 or negatives <= 0:
        missing = "actual positives" if positives <= 0 else "actual negatives"
        derived.set("balanced_accuracy", None, f"no {missing}: one of the two rates is undefined")
        return
    derived.set("balanced_accuracy", (cells["tp"] / positives + cells["tn"] / negatives) / 2)


def derive_regression(
    record: Mapping[str, Any], weighted: bool, keys: Sequence[str], derived: Derived
) -> None:
    derived.values["n"] = int(record.get("n") or 0)
    weight = _number(record, "w_n")
    empty = "no rows with both a label and a prediction"
    if "mae" in keys:
        derived.set("mae", _number(record, "abs_error_sum") / weight if weight > 0 else None, empty)
    if "rmse" in keys:
        derived.set(
            "rmse",
            math.sqrt(_number(record, "squared_error_sum") / weight) if weight > 0 else None,
            empty,
        )
    if "mean_prediction" in keys:
        derived.set(
            "mean_prediction",
            _number(record, "prediction_sum") / weight if weight > 0 else None,
            empty,
        )
    if "r2" in keys:
        total = _total_sum_of_squares(record, weighted, weight)
        if weight <= 0:
            derived.set("r2", None, empty)
        elif total <= 0:
            derived.set("r2", None, "the label is constant (total sum of squares = 0)")
        else:
            derived.set("r2", 1.0 - _number(record, "squared_error_sum") / total)


def _total_sum_of_squares(record: Mapping[str, Any], weighted: bool, weight: float) -> float:
    if not weighted:
        return _number(record, "label_variance") * weight
    if weight <= 0:
        return 0.0
    mean = _number(record, "label_sum") / weight
    return max(_number(record, "label_square_sum") - weight * mean * mean, 0.0)


def derive_score_sums(
    record: Mapping[str, Any],
    weighted: bool,
    keys: Sequence[str],
    probabilities: bool,
    derived: Derived,
) -> None:
    weight = _number(record, "w_scored_labelled")
    not_probability = "scores outside [0, 1] are not probabilities"
    empty = "no rows with both a label and a score"
    for key, total in (("brier", "brier_sum"), ("log_loss", "log_loss_sum")):
        if key not in keys:
            continue
        if not probabilities:
            derived.set(key, None, not_probability)
        else:
            derived.set(key, _number(record, total) / weight if weight > 0 else None, empty)


def derive_scoring_rate(
    record: Mapping[str, Any], weighted: bool, confidence: float, derived: Derived
) -> None:
    scored = _number(record, "w_scored" if weighted else "scored")
    above = _number(record, "w_above_median" if weighted else "above_median")
    if scored <= 0:
        derived.set("scoring_rate", None, "no scored rows")
        return
    value = above / scored
    derived.set("scoring_rate", value)
    effective = (
        kish_effective_n(scored, _number(record, "w2_scored")) or 0.0 if weighted else scored
    )
    _attach_interval("scoring_rate", value, effective, confidence, derived)


def derive_ranks(record: Mapping[str, Any] | None, keys: Sequence[str], derived: Derived) -> None:
    positives = _number(record or {}, "rank_positives")
    negatives = _number(record or {}, "rank_negatives")
    if "roc_auc" in keys:
        if positives <= 0 or negatives <= 0:
            derived.set("roc_auc", None, "needs both positive and negative outcomes")
        else:
            derived.set("roc_auc", _number(record or {}, "auc_numerator") / (positives * negatives))
    if "average_precision" in keys:
        derived.set(
            "average_precision",
            _number(record or {}, "ap_numerator") / positives if positives > 0 else None,
            "no positive outcomes",
        )
    if "ks" in keys:
        if positives <= 0 or negatives <= 0:
            derived.set("ks", None, "needs both positive and negative outcomes")
        else:
            derived.set("ks", _number(record or {}, "ks_statistic"))


def derive_calibration(
    record: Mapping[str, Any] | None, probabilities: bool, derived: Derived
) -> None:
    if not probabilities:
        derived.set("ece", None, "scores outside [0, 1] are not probabilities")
        return
    value = (
        None if record is None or record.get("ece_value") is None else float(record["ece_value"])
    )
    derived.set("ece", value, "no rows with both a label and a score")
