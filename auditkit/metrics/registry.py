"""Every metric auditkit computes, defined once.

Rates are defined by the confusion-matrix cells they sum, so their value, Wilson interval and the
intervals of their disparities are all derived from the same definition. Policy validation, the CLI
listing, the JSON Schema and the docs read these tables.

Each definition also says whether it needs observed outcomes (a label column). Data without a label
(decisions only: a hiring tool's selections, a production log) still gets every metric that does not:
counts of decisions, selection and scoring rates, mean predictions, their disparities and the parity
metrics built on them; the others are null with :data:`NO_LABEL_REASON`. A rate that needs no label sums
whole decision margins (:data:`DECISION_MARGINS`), so without a label it is computed from the decisions
alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Family = Literal["count", "classification", "score", "regression"]
CELLS = ("tp", "fp", "tn", "fn")
DECISION_MARGINS: dict[str, tuple[str, ...]] = {"selected": ("tp", "fp"), "rejected": ("tn", "fn")}
"""Rows by decision alone: the confusion cells each margin sums over both outcomes."""
NO_LABEL_REASON = "the data has no label column (no observed outcomes)"
"""Why a metric that needs observed outcomes is null on data without a label."""


@dataclass(frozen=True)
class MetricDefinition:
    key: str
    title: str
    family: Family
    description: str
    higher_is_better: bool | None = None
    numerator: tuple[str, ...] | None = None
    denominator: tuple[str, ...] | None = None
    undefined: str | None = None
    """Why the metric is null when its denominator is zero."""
    needs_label: bool = True
    """Whether the metric compares decisions or scores with observed outcomes (a label column)."""

    @property
    def is_rate(self) -> bool:
        return self.numerator is not None and self.denominator is not None


def _rate(
    key: str,
    title: str,
    numerator: tuple[str, ...],
    denominator: tuple[str, ...],
    description: str,
    undefined: str,
    higher_is_better: bool | None,
) -> MetricDefinition:
    return MetricDefinition(
        key,
        title,
        "classification",
        description,
        higher_is_better,
        numerator,
        denominator,
        undefined,
        needs_label=decision_margins(numerator) is None or decision_margins(denominator) is None,
    )


def decision_margins(cells: tuple[str, ...]) -> tuple[str, ...] | None:
    """The decision margins whose cells are exactly ``cells``; ``None`` when ``cells`` split a margin by
    outcome (then a rate over them needs a label)."""
    margins = tuple(
        margin for margin, summed in DECISION_MARGINS.items() if set(summed) <= set(cells)
    )
    covered = {cell for margin in margins for cell in DECISION_MARGINS[margin]}
    return margins if covered == set(cells) else None


_ALL = CELLS
METRIC_LIST: tuple[MetricDefinition, ...] = (
    MetricDefinition(
        "n",
        "Rows",
        "count",
        "Rows with a decision (and an observed outcome, when there is a label column).",
        needs_label=False,
    ),
    MetricDefinition("tp", "True positives", "count", "Positive decision, positive outcome."),
    MetricDefinition("fp", "False positives", "count", "Positive decision, negative outcome."),
    MetricDefinition("tn", "True negatives", "count", "Negative decision, negative outcome."),
    MetricDefinition("fn", "False negatives", "count", "Negative decision, positive outcome."),
    _rate(
        "selection_rate",
        "Selection rate",
        ("tp", "fp"),
        _ALL,
        "Share of positive decisions: (tp + fp) / n.",
        "no rows",
        None,
    ),
    _rate(
        "base_rate",
        "Base rate",
        ("tp", "fn"),
        _ALL,
        "Share of positive outcomes: (tp + fn) / n.",
        "no rows",
        None,
    ),
    _rate(
        "accuracy",
        "Accuracy",
        ("tp", "tn"),
        _ALL,
        "Share of correct decisions: (tp + tn) / n.",
        "no rows",
        True,
    ),
    MetricDefinition(
        "balanced_accuracy",
        "Balanced accuracy",
        "classification",
        "Mean of the true positive and true negative rates: (tpr + tnr) / 2.",
        True,
    ),
    _rate(
        "tpr",
        "True positive rate",
        ("tp",),
        ("tp", "fn"),
        "Recall, sensitivity: tp / (tp + fn).",
        "no actual positives (tp + fn = 0)",
        True,
    ),
    _rate(
        "tnr",
        "True negative rate",
        ("tn",),
        ("tn", "fp"),
        "Specificity: tn / (tn + fp).",
        "no actual negatives (tn + fp = 0)",
        True,
    ),
    _rate(
        "fpr",
        "False positive rate",
        ("fp",),
        ("fp", "tn"),
        "fp / (fp + tn).",
        "no actual negatives (fp + tn = 0)",
        False,
    ),
    _rate(
        "fnr",
        "False negative rate",
        ("fn",),
        ("fn", "tp"),
        "fn / (fn + tp).",
        "no actual positives (fn + tp = 0)",
        False,
    ),
    _rate(
        "precision",
        "Precision",
        ("tp",),
        ("tp", "fp"),
        "Positive predictive value: tp / (tp + fp).",
        "no positive decisions (tp + fp = 0)",
        True,
    ),
    _rate(
        "npv",
        "Negative predictive value",
        ("tn",),
        ("tn", "fn"),
        "tn / (tn + fn).",
        "no negative decisions (tn + fn = 0)",
        True,
    ),
    _rate(
        "fdr",
        "False discovery rate",
        ("fp",),
        ("fp", "tp"),
        "fp / (fp + tp).",
        "no positive decisions (fp + tp = 0)",
        False,
    ),
    _rate(
        "for",
        "False omission rate",
        ("fn",),
        ("fn", "tn"),
        "fn / (fn + tn).",
        "no negative decisions (fn + tn = 0)",
        False,
    ),
    MetricDefinition(
        "f1",
        "F1 score",
        "classification",
        "Harmonic mean of precision and recall: 2tp / (2tp + fp + fn).",
        True,
    ),
    MetricDefinition(
        "roc_auc",
        "ROC AUC",
        "score",
        "Probability that a random positive scores above a random negative (ties count one half); "
        "exact, from ranks.",
        True,
    ),
    MetricDefinition(
        "average_precision",
        "Average precision",
        "score",
        "Σ (Rₙ − Rₙ₋₁) Pₙ over the distinct score thresholds, highest first (scikit-learn's definition).",
        True,
    ),
    MetricDefinition(
        "brier",
        "Brier score",
        "score",
        "Mean squared difference between the score and the outcome (scores must lie in [0, 1]).",
        False,
    ),
    MetricDefinition(
        "log_loss",
        "Log loss",
        "score",
        "Mean negative log-likelihood of the outcome, scores clipped to [ε, 1 − ε] with ε the float64 "
        "machine epsilon (scores must lie in [0, 1]).",
        False,
    ),
    MetricDefinition(
        "ks",
        "Kolmogorov–Smirnov statistic",
        "score",
        "Largest distance between the score distributions of positives and negatives.",
        True,
    ),
    MetricDefinition(
        "ece",
        "Expected calibration error",
        "score",
        "Σ over 10 equal-width bins of [0, 1] (the last one closed) of the bin's share of rows times "
        "|mean score − mean outcome|.",
        False,
    ),
    MetricDefinition(
        "scoring_rate",
        "Scoring rate",
        "score",
        "Share of rows whose score is strictly above the median score of the whole sample "
        "(NYC Local Law 144).",
        None,
        ("above_median",),
        ("scored",),
        "no scored rows",
        needs_label=False,
    ),
    MetricDefinition(
        "mae", "Mean absolute error", "regression", "Mean of |label − prediction|.", False
    ),
    MetricDefinition(
        "rmse",
        "Root mean squared error",
        "regression",
        "Square root of the mean squared error.",
        False,
    ),
    MetricDefinition(
        "r2", "R²", "regression", "1 − residual sum of squares / total sum of squares.", True
    ),
    MetricDefinition(
        "mean_prediction",
        "Mean prediction",
        "regression",
        "Mean of the predictions.",
        None,
        needs_label=False,
    ),
)
METRICS: dict[str, MetricDefinition] = {metric.key: metric for metric in METRIC_LIST}
COUNT_KEYS = tuple(key for key, metric in METRICS.items() if metric.family == "count")


@dataclass(frozen=True)
class FairnessMetricDefinition:
    key: str
    title: str
    description: str
    higher_is_better: bool
    needs_label: bool = True
    """Whether the metric compares groups on rates that need observed outcomes (a label column)."""


FAIRNESS_LIST: tuple[FairnessMetricDefinition, ...] = (
    FairnessMetricDefinition(
        "demographic_parity_difference",
        "Demographic parity difference",
        "Highest minus lowest selection rate across the groups.",
        False,
        needs_label=False,
    ),
    FairnessMetricDefinition(
        "demographic_parity_ratio",
        "Demographic parity ratio",
        "Lowest over highest selection rate across the groups.",
        True,
        needs_label=False,
    ),
    FairnessMetricDefinition(
        "equalized_odds_difference",
        "Equalized odds difference",
        "The larger of the true-positive-rate and false-positive-rate differences.",
        False,
    ),
    FairnessMetricDefinition(
        "equalized_odds_ratio",
        "Equalized odds ratio",
        "The smaller of the true-positive-rate and false-positive-rate ratios.",
        True,
    ),
    FairnessMetricDefinition(
        "equal_opportunity_difference",
        "Equal opportunity difference",
        "Highest minus lowest true positive rate across the groups.",
        False,
    ),
    FairnessMetricDefinition(
        "equal_opportunity_ratio",
        "Equal opportunity ratio",
        "Lowest over highest true positive rate across the groups.",
        True,
    ),
    FairnessMetricDefinition(
        "impact_ratio",
        "Impact ratio",
        "Lowest group's selection rate over the highest group's (NYC LL144, EEOC four-fifths).",
        True,
        needs_label=False,
    ),
)
FAIRNESS_METRICS: dict[str, FairnessMetricDefinition] = {
    metric.key: metric for metric in FAIRNESS_LIST
}


def needs_label(key: str) -> bool:
    """Whether a metric or named fairness metric needs observed outcomes (unknown keys: ``False``)."""
    definition = METRICS.get(key) or FAIRNESS_METRICS.get(key)
    return definition is not None and definition.needs_label


def computable_keys(keys: Iterable[str], *, labelled: bool) -> list[str]:
    """The keys among ``keys`` that data with (or without) a label column gives values for."""
    return [key for key in keys if labelled or not needs_label(key)]


def label_free_keys() -> tuple[str, ...]:
    """Metric and named fairness metric keys computed on data without a label column."""
    return tuple(key for key in [*METRICS, *FAIRNESS_METRICS] if not needs_label(key))


DisparityKind = Literal[
    "ratio_to_reference",
    "difference_to_reference",
    "ratio_to_max",
    "ratio_to_overall",
    "difference_to_overall",
]
GROUP_DISPARITIES: dict[str, str] = {
    "ratio_to_reference": "The group's value over the reference group's.",
    "difference_to_reference": "The group's value minus the reference group's.",
    "ratio_to_max": "The group's value over the highest group's (the NYC LL144 impact ratio).",
    "ratio_to_overall": "The group's value over the whole sample's.",
    "difference_to_overall": "The group's value minus the whole sample's.",
}
GROUPING_DISPARITIES: dict[str, str] = {
    "min_max_ratio": "Lowest over highest value across the groups.",
    "max_min_difference": "Highest minus lowest value across the groups.",
}
