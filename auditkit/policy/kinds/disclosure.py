"""``disclosure``: report per-group figures without judging them (no threshold, never a pass or a fail).

For laws that require figures to be computed and published but set no limit, such as the NYC Local Law
144 bias audit: each category's count and rates, optionally its impact ratio (its rate over the highest
category's rate), and the individuals in an unknown category. The finding's outcome is ``reported``;
combine the rule with a ``parity`` rule (e.g. ``builtin:eeoc-four-fifths``) to also judge the figures.

``report: unknown_counts`` reports, per grouping, how many individuals have a missing value and are
therefore left out of the calculations. ``exclude_small_categories`` leaves categories below a share of
the data (at most 2%, as 6 RCNY 5-301(d) allows) out of the impact-ratio calculation; it requires a
written justification, which the finding repeats, and the excluded categories' counts and rates are
still reported.

A metric the data cannot give makes the rule report nothing: without a score column, a scoring rate is
``not_applicable`` (the tool does not score candidates; the NYC LL144 pack holds both the selection-rate
and the scoring-rate rule for that reason); without a label column, a metric that needs observed
outcomes (``tpr``, say) is an ``error``, as in every rule kind.

Example::

    - id: LL144-SELECTION
      title: Selection rates and impact ratios by sex, race/ethnicity and their intersection
      kind: disclosure
      metrics: [selection_rate]
      impact_ratio: true
      by: [sex, race, [sex, race]]
      severity: info
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from auditkit.metrics.result import GroupResult, MetricReport
from auditkit.policy.evidence import Evidence, finding, format_number, without_outcomes
from auditkit.policy.findings import Finding, GroupOutcome
from auditkit.policy.kinds.base import Grouping, groupings_of, known_metric
from auditkit.policy.model import Exclusion, RuleCommon
from auditkit.policy.rule import Rule


class DisclosureRule(RuleCommon):
    kind: Literal["disclosure"]
    by: list[Grouping]
    """Attributes to disaggregate by; each separately, a nested list is an intersection."""
    report: Literal["rates", "unknown_counts"] = "rates"
    """``rates``: each category's count and metrics; ``unknown_counts``: individuals in an unknown category."""
    metrics: list[str] = Field(default_factory=lambda: ["selection_rate"], min_length=1)
    """Metrics reported per category (``report: rates``)."""
    impact_ratio: bool = False
    """Also report each category's impact ratio: its value of the first metric over the highest category's."""
    exclude_small_categories: Exclusion | None = None
    """Leave categories below a share of the data out of the impact ratios, with a justification."""

    @field_validator("metrics")
    @classmethod
    def _known(cls, metrics: list[str]) -> list[str]:
        from auditkit.metrics.registry import METRICS

        return [known_metric(metric, METRICS) for metric in metrics]

    @model_validator(mode="after")
    def _exclusion_needs_impact_ratio(self) -> DisclosureRule:
        if self.exclude_small_categories is not None and not self.impact_ratio:
            raise ValueError("exclude_small_categories applies to impact ratios: set impact_ratio")
        return self


def evaluate(rule: Rule, evidence: Evidence) -> Finding:
    spec = rule.spec
    assert isinstance(spec, DisclosureRule)
    report = evidence.metrics_at(rule.confidence, rule.min_group_size)
    if report is None:
        return finding(rule, "error", "no metrics were computed for this run")
    groupings = groupings_of(spec.by, evidence.sensitive)
    if spec.report == "unknown_counts":
        return _unknown_counts(rule, report, groupings)
    if unjudged := without_outcomes(rule, spec.metrics, report):
        return unjudged
    missing = [metric for metric in spec.metrics if metric not in report.overall.values]
    if missing:
        return finding(
            rule,
            "not_applicable",
            f"{', '.join(missing)} cannot be computed from this data ({_why_unavailable(missing)}); "
            "nothing was reported",
            metric=spec.metrics[0],
        )
    groups: list[GroupOutcome] = []
    for grouping in groupings:
        groups += _rates(spec, report, grouping)
    return finding(
        rule,
        "reported",
        _rates_message(spec, report, groupings, groups),
        observed=_lowest_impact_ratio(groups) if spec.impact_ratio else None,
        groups=groups,
        metric=spec.metrics[0],
    )


def _why_unavailable(metrics: list[str]) -> str:
    from auditkit.metrics.registry import METRICS

    if any(METRICS[metric].family == "score" for metric in metrics):
        return "it needs a score column: scoring rates apply to tools that score candidates"
    return "it does not apply to this task"


def _rates(
    spec: DisclosureRule, report: MetricReport, grouping: tuple[str, ...]
) -> list[GroupOutcome]:
    members = report.groups_by(grouping)
    headline = spec.metrics[0]
    total = report.overall.n
    excluded = _excluded(spec, members, total)
    highest = _highest(members, headline, excluded)
    outcomes = []
    for group in members:
        figures: dict[str, float | int | None] = {
            metric: group.values.get(metric) for metric in spec.metrics
        }
        ratio, reason = None, None
        if group.unknown:
            reason = "unknown category: counted, left out of the impact ratios"
        elif id(group) in excluded:
            reason = _exclusion_reason(spec, group, total)
        elif spec.impact_ratio:
            ratio, reason = _impact_ratio(group, headline, highest)
        if spec.impact_ratio:
            figures["impact_ratio"] = ratio
        observed = ratio if spec.impact_ratio else figures[headline]
        interval = _ratio_interval(group, headline, ratio) if spec.impact_ratio else None
        outcomes.append(
            GroupOutcome(
                _label(group),
                "reported",
                None if observed is None else float(observed),
                group.n,
                interval,
                reason,
                figures,
            )
        )
    return outcomes


def _excluded(spec: DisclosureRule, members: tuple[GroupResult, ...], total: int) -> set[int]:
    """The known categories (by object id) under the exclusion share."""
    exclusion = spec.exclude_small_categories
    if exclusion is None or not total:
        return set()
    return {
        id(group)
        for group in members
        if not group.unknown and group.n / total < exclusion.below_share
    }


def _exclusion_reason(spec: DisclosureRule, group: GroupResult, total: int) -> str:
    exclusion = spec.exclude_small_categories
    assert exclusion is not None
    return (
        f"left out of the impact ratios: {group.n / total:.2%} of the data "
        f"(under {exclusion.below_share * 100:g}%); justification: {exclusion.justification}"
    )


def _highest(members: tuple[GroupResult, ...], metric: str, excluded: set[int]) -> float | None:
    rates = [
        float(value)
        for group in members
        if not group.unknown and id(group) not in excluded
        if (value := group.values.get(metric)) is not None
    ]
    return max(rates) if rates else None


def _impact_ratio(
    group: GroupResult, metric: str, highest: float | None
) -> tuple[float | None, str | None]:
    value = group.values.get(metric)
    if value is None:
        return None, group.reasons.get(metric) or f"{metric} is undefined for this category"
    if not highest:
        return None, f"the highest category's {metric} is 0: no impact ratio"
    return float(value) / highest, None


def _ratio_interval(
    group: GroupResult, metric: str, ratio: float | None
) -> tuple[float, float] | None:
    """The Katz interval of the metric report's ratio to the highest group, when it is the same ratio
    (an exclusion can change which category is highest)."""
    entry = group.disparity.get(metric, {})
    reported = entry.get("ratio_to_max")
    interval = entry.get("ci", {}).get("ratio_to_max")
    if ratio is None or reported is None or interval is None or abs(reported - ratio) > 1e-12:
        return None
    return (float(interval[0]), float(interval[1]))


def _label(group: GroupResult) -> dict[str, Any]:
    return dict(zip(group.by, group.group, strict=True))


def _lowest_impact_ratio(groups: list[GroupOutcome]) -> float | None:
    ratios = [group.observed for group in groups if group.observed is not None]
    return min(ratios) if ratios else None


def _rates_message(
    spec: DisclosureRule,
    report: MetricReport,
    groupings: list[tuple[str, ...]],
    groups: list[GroupOutcome],
) -> str:
    counts = ", ".join(
        f"{sum(1 for g in report.groups_by(grouping) if not g.unknown)} {' × '.join(grouping)}"
        for grouping in groupings
    )
    what = " and ".join(
        [", ".join(metric.replace("_", " ") for metric in spec.metrics)]
        + (["impact ratio"] if spec.impact_ratio else [])
    )
    message = f"{what} reported for {counts} categories"
    if spec.impact_ratio:
        valued = [group for group in groups if group.observed is not None]
        if valued:
            lowest = min(valued, key=lambda group: group.observed or 0.0)
            message += f"; lowest impact ratio {format_number(lowest.observed)} ({lowest.label()})"
    left_out = [group for group in groups if group.reason and group.reason.startswith("left out")]
    if left_out:
        message += f"; {len(left_out)} small categor{'y' if len(left_out) == 1 else 'ies'} left out of the impact ratios with a justification"
    return message + "; a disclosure: no threshold applies, this is not a verdict on fairness"


def _unknown_counts(rule: Rule, report: MetricReport, groupings: list[tuple[str, ...]]) -> Finding:
    groups = []
    for grouping in groupings:
        members = report.groups_by(grouping)
        unknown = sum(group.n for group in members if group.unknown)
        total = sum(group.n for group in members)
        groups.append(
            GroupOutcome(
                {"by": " × ".join(grouping)},
                "reported",
                float(unknown),
                total,
                None,
                f"{unknown} of {total} individuals have no recorded {' or '.join(grouping)}",
                {"unknown": unknown, "total": total},
            )
        )
    most = max((group.observed or 0.0 for group in groups), default=0.0)
    detail = "; ".join(f"{group.group['by']}: {format_number(group.observed)}" for group in groups)
    message = (
        f"{most:.0f} individuals fall within an unknown category ({detail}) and are left out of "
        "the rates and impact ratios"
    )
    return finding(rule, "reported", message, observed=most, groups=groups)


EXAMPLE = __doc__.split("Example::", 1)[1] if __doc__ else ""
