"""Per-group decisions shared by the kinds that read the metric report."""

from __future__ import annotations

from collections.abc import Callable

from auditkit.metrics.result import GroupResult, MetricReport
from auditkit.policy.evidence import decide
from auditkit.policy.findings import GroupOutcome
from auditkit.policy.rule import Rule

ValueOf = Callable[[GroupResult], tuple[float | None, tuple[float, float] | None, str | None]]
"""(observed, interval, reason-if-undefined) of a group."""


def group_outcomes(
    rule: Rule,
    report: MetricReport,
    grouping: tuple[str, ...],
    value_of: ValueOf,
    op: str,
    threshold: float,
) -> list[GroupOutcome]:
    """Decide every known group of ``grouping``; the unknown group is reported but not judged."""
    outcomes = []
    confident = rule.decision == "confident"
    for group in report.groups_by(grouping):
        label = dict(zip(group.by, group.group, strict=True))
        observed, interval, reason = value_of(group)
        if group.unknown:
            outcomes.append(
                GroupOutcome(
                    label,
                    "not_applicable",
                    observed,
                    group.n,
                    interval,
                    "missing sensitive value: reported, not judged",
                )
            )
            continue
        if group.n < rule.min_group_size:
            outcomes.append(
                GroupOutcome(
                    label,
                    "inconclusive",
                    observed,
                    group.n,
                    interval,
                    f"{'1 row' if group.n == 1 else f'{group.n} rows'}, fewer than the minimum "
                    f"group size {rule.min_group_size}",
                )
            )
            continue
        status, why = decide(observed, op, threshold, interval=interval, confident=confident)
        outcomes.append(
            GroupOutcome(
                label, status, observed, group.n, interval, reason if observed is None else why
            )
        )
    return outcomes
