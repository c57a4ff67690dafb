"""``threshold``: a metric must satisfy a bound overall, or in every group of the given groupings.

A threshold the user must supply (e.g. the accuracy a provider declares in its instructions for use)
is written ``value: null`` with ``declared:`` saying what is to be declared; until an override gives
the value, the rule is ``not_applicable`` and says how to declare it.

A metric the data cannot give is an ``error`` naming it: one that needs a score column the data lacks,
or one that needs observed outcomes (``accuracy``, ``roc_auc``, ``equalized_odds_difference`` ...) on
data without a label column.

Example::

    - id: PERF-001
      title: Discrimination power is adequate
      kind: threshold
      metric: roc_auc
      op: ">="
      value: 0.75
      severity: high
"""

from __future__ import annotations

from typing import Literal

from pydantic import field_validator, model_validator

from auditkit.metrics.result import GroupResult, MetricReport
from auditkit.policy.evidence import (
    Evidence,
    combine,
    decide,
    finding,
    format_number,
    without_outcomes,
    worst,
)
from auditkit.policy.findings import Finding, GroupOutcome
from auditkit.policy.kinds._groups import group_outcomes
from auditkit.policy.kinds.base import GroupedComparison, groupings_of, known_metric
from auditkit.policy.rule import Rule


class ThresholdRule(GroupedComparison):
    kind: Literal["threshold"]
    metric: str
    """A metric key (``auditkit policy list`` shows them) or a named fairness metric when ``by`` is set."""

    @field_validator("metric")
    @classmethod
    def _known(cls, metric: str) -> str:
        from auditkit.metrics.registry import FAIRNESS_METRICS, METRICS

        return known_metric(metric, [*METRICS, *FAIRNESS_METRICS])

    value: float | None = None  # type: ignore[assignment]
    """Threshold; ``null`` only with ``declared`` (a value the user declares through an override)."""
    declared: str | None = None
    """What the user declares as the threshold when the pack cannot know it, e.g. ``the accuracy
    declared in the instructions for use``."""

    @model_validator(mode="after")
    def _value_or_declared(self) -> ThresholdRule:
        if self.value is None and not self.declared:
            raise ValueError("give value (the threshold), or value: null with declared: ...")
        return self


def evaluate(rule: Rule, evidence: Evidence) -> Finding:
    spec = rule.spec
    assert isinstance(spec, ThresholdRule)
    if spec.value is None:
        return finding(
            rule,
            "not_applicable",
            f"no threshold: {spec.declared} has not been declared; declare it with "
            f"overrides: {{{spec.id}: {{value: ...}}}} where the pack is extended",
            metric=spec.metric,
        )
    report = evidence.metrics_at(rule.confidence)
    if report is None:
        return finding(rule, "error", "no metrics were computed for this run", metric=spec.metric)
    if unjudged := without_outcomes(rule, [spec.metric], report):
        return unjudged
    from auditkit.metrics.registry import FAIRNESS_METRICS

    if spec.metric in FAIRNESS_METRICS:
        return _fairness_metric(rule, spec, report, evidence.sensitive)
    if spec.metric not in report.overall.values:
        why = (
            "it needs a score column"
            if spec.metric in _SCORE_METRICS
            else "it does not apply to this task"
        )
        return finding(
            rule, "error", f"metric {spec.metric} is not available: {why}", metric=spec.metric
        )
    if not spec.by:
        return _overall(rule, spec, report)
    groups: list[GroupOutcome] = []
    for grouping in groupings_of(spec.by, evidence.sensitive):
        groups += group_outcomes(
            rule, report, grouping, _value_of(spec.metric), spec.op, spec.value
        )
    status = combine(groups)
    chosen = worst(groups, spec.op)
    observed = chosen.observed if chosen else None
    where = f" for {chosen.label()}" if chosen else ""
    message = f"{spec.metric}{where} is {format_number(observed, against=spec.value)} (required {spec.op} {spec.value:g})"
    return finding(rule, status, message, observed=observed, groups=groups, metric=spec.metric)


_SCORE_METRICS = frozenset(
    {"roc_auc", "average_precision", "brier", "log_loss", "ks", "ece", "scoring_rate"}
)


def _value_of(metric: str):  # type: ignore[no-untyped-def]
    def value(group: GroupResult) -> tuple[float | None, tuple[float, float] | None, str | None]:
        raw = group.values.get(metric)
        return (
            (None if raw is None else float(raw)),
            group.ci.get(metric),
            group.reasons.get(metric),
        )

    return value


def _overall(rule: Rule, spec: ThresholdRule, report: MetricReport) -> Finding:
    assert spec.value is not None
    raw = report.overall.values.get(spec.metric)
    observed = None if raw is None else float(raw)
    interval = report.overall.ci.get(spec.metric)
    status, why = decide(
        observed, spec.op, spec.value, interval=interval, confident=rule.decision == "confident"
    )
    reason = report.overall.reasons.get(spec.metric) if observed is None else why
    message = f"{spec.metric} is {format_number(observed, against=spec.value)} (required {spec.op} {spec.value:g})"
    if reason:
        message += f": {reason}"
    return finding(rule, status, message, observed=observed, metric=spec.metric)


def _fairness_metric(
    rule: Rule, spec: ThresholdRule, report: MetricReport, sensitive: tuple[str, ...]
) -> Finding:
    assert spec.value is not None
    if not spec.by:
        return finding(
            rule,
            "error",
            f"{spec.metric} compares groups: give the attributes in by:",
            metric=spec.metric,
        )
    groups = []
    for grouping in groupings_of(spec.by, sensitive):
        entry = report.fairness_of(grouping)
        raw = entry.summary.get(spec.metric) if entry else None
        observed = None if raw is None else float(raw)
        status, why = decide(observed, spec.op, spec.value, interval=None, confident=False)
        groups.append(GroupOutcome({"by": " × ".join(grouping)}, status, observed, None, None, why))
    chosen = worst(groups, spec.op)
    observed = chosen.observed if chosen else None
    message = f"{spec.metric} is {format_number(observed, against=spec.value)} (required {spec.op} {spec.value:g})"
    return finding(
        rule, combine(groups), message, observed=observed, groups=groups, metric=spec.metric
    )


EXAMPLE = __doc__.split("Example::", 1)[1] if __doc__ else ""
