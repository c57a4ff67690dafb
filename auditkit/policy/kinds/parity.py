"""``parity``: groups must not differ too much on a metric.

``aggregate`` says how groups are compared: ``ratio_to_max`` (each group's rate over the highest group's:
the four-fifths rule and the NYC LL144 impact ratio), ``min_max_ratio``, ``max_min_difference``,
``ratio_to_reference`` / ``difference_to_reference`` (with ``reference_group``), ``ratio_to_overall`` /
``difference_to_overall``.

Selection and scoring rates need only decisions (and scores); a metric that needs observed outcomes
(``fpr``, ``tpr`` ...) on data without a label column is an ``error`` naming it.

Example::

    - id: FAIR-001
      title: Approval rates meet the four-fifths rule for every sex and race group
      kind: parity
      metric: selection_rate
      by: [sex, race]
      aggregate: ratio_to_max
      op: ">="
      value: 0.8
      severity: critical
      references: [{framework: EEOC UGESP, clause: 29 CFR 1607.4(D)}]
"""

from __future__ import annotations

from typing import Any, Literal

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
from auditkit.policy.kinds.base import GroupedComparison, Grouping, groupings_of, known_metric
from auditkit.policy.rule import Rule

Aggregate = Literal[
    "ratio_to_max",
    "min_max_ratio",
    "max_min_difference",
    "ratio_to_reference",
    "difference_to_reference",
    "ratio_to_overall",
    "difference_to_overall",
]
PER_GROUP_AGGREGATES = frozenset(
    {
        "ratio_to_max",
        "ratio_to_reference",
        "difference_to_reference",
        "ratio_to_overall",
        "difference_to_overall",
    }
)


class ParityRule(GroupedComparison):
    kind: Literal["parity"]
    metric: str
    """The metric compared across groups (a rate such as ``selection_rate`` or ``fpr``)."""
    by: list[Grouping]  # required here, optional in the base
    aggregate: Aggregate = "ratio_to_max"
    reference_group: dict[str, Any] | None = None
    """For ``*_to_reference``: the reference value of each attribute, e.g. ``{race: White}``."""

    @field_validator("metric")
    @classmethod
    def _known(cls, metric: str) -> str:
        from auditkit.metrics.registry import METRICS

        return known_metric(metric, METRICS)

    @model_validator(mode="after")
    def _reference_when_needed(self) -> ParityRule:
        if self.aggregate.endswith("_to_reference") and not self.reference_group:
            raise ValueError(
                f"aggregate {self.aggregate} needs reference_group, e.g. {{race: White}}"
            )
        return self


def reference_key(reference: dict[str, Any] | None) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted((reference or {}).items()))


def evaluate(rule: Rule, evidence: Evidence) -> Finding:
    spec = rule.spec
    assert isinstance(spec, ParityRule)
    report = _report_for(rule, spec, evidence)
    if report is None:
        return finding(rule, "error", "no metrics were computed for this run", metric=spec.metric)
    if unjudged := without_outcomes(rule, [spec.metric], report):
        return unjudged
    if spec.metric not in report.overall.values:
        return finding(
            rule,
            "error",
            f"metric {spec.metric} is not available for this data",
            metric=spec.metric,
        )
    groups: list[GroupOutcome] = []
    for grouping in groupings_of(spec.by, evidence.sensitive):
        if spec.aggregate in PER_GROUP_AGGREGATES:
            groups += group_outcomes(
                rule, report, grouping, _disparity_of(spec), spec.op, spec.value
            )
        else:
            groups.append(_across(rule, spec, report, grouping))
    chosen = worst(groups, spec.op)
    observed = chosen.observed if chosen else None
    where = f" for {chosen.label()}" if chosen else ""
    message = (
        f"{spec.metric} {spec.aggregate.replace('_', ' ')}{where} is {format_number(observed, against=spec.value)} "
        f"(required {spec.op} {spec.value:g})"
    )
    return finding(
        rule, combine(groups), message, observed=observed, groups=groups, metric=spec.metric
    )


def _report_for(rule: Rule, spec: ParityRule, evidence: Evidence) -> MetricReport | None:
    sized = rule.min_group_size if spec.aggregate == "ratio_to_max" else None
    main = evidence.metrics_at(rule.confidence, sized)
    if spec.aggregate.endswith("_to_reference") and evidence.reference_metrics is not None:
        key = (reference_key(spec.reference_group), rule.confidence)
        return evidence.reference_metrics.get(key, main)
    return main


def _disparity_of(spec: ParityRule):  # type: ignore[no-untyped-def]
    def value(group: GroupResult) -> tuple[float | None, tuple[float, float] | None, str | None]:
        entry = group.disparity.get(spec.metric, {})
        raw = entry.get(spec.aggregate)
        interval = entry.get("ci", {}).get(spec.aggregate)
        reason = None
        if raw is None:
            reason = (
                group.reasons.get(spec.metric)
                or f"no {spec.aggregate.replace('_', ' ')} for this group"
            )
        return (
            (None if raw is None else float(raw)),
            (tuple(interval) if interval else None),
            reason,
        )

    return value


def _across(
    rule: Rule, spec: ParityRule, report: MetricReport, grouping: tuple[str, ...]
) -> GroupOutcome:
    """min/max ratio or max−min difference over the groups large enough to judge."""
    label = {"by": " × ".join(grouping)}
    members = [group for group in report.groups_by(grouping) if not group.unknown]
    eligible = [
        g for g in members if g.n >= rule.min_group_size and g.values.get(spec.metric) is not None
    ]
    skipped = len(members) - len(eligible)
    if len(eligible) < 2:
        return GroupOutcome(
            label,
            "inconclusive",
            None,
            None,
            None,
            f"fewer than two groups with at least {rule.min_group_size} rows",
        )
    values = [float(group.values[spec.metric] or 0.0) for group in eligible]
    low, high = min(values), max(values)
    observed = (low / high if high else None) if spec.aggregate == "min_max_ratio" else high - low
    status, why = decide(observed, spec.op, spec.value, interval=None, confident=False)
    if skipped and status == "pass":
        why = f"{skipped} small or undefined group(s) not judged"
    return GroupOutcome(label, status, observed, sum(group.n for group in eligible), None, why)


EXAMPLE = __doc__.split("Example::", 1)[1] if __doc__ else ""
