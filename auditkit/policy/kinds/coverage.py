"""``coverage``: every group is large enough to judge, and few rows lack a sensitive value.

``check: min_group_size`` observes the smallest group's row count; ``check: unknown_share`` observes the
share of rows whose sensitive value is missing (the explicit ``unknown`` group).

Example::

    - id: COV-001
      title: Every race group has at least 30 applicants
      kind: coverage
      check: min_group_size
      by: [race]
      op: ">="
      value: 30
      severity: medium
"""

from __future__ import annotations

from typing import Literal

from auditkit.policy.evidence import Evidence, combine, decide, finding, format_number, worst
from auditkit.policy.findings import Finding, GroupOutcome
from auditkit.policy.kinds.base import GroupedComparison, Grouping, groupings_of
from auditkit.policy.rule import Rule


class CoverageRule(GroupedComparison):
    kind: Literal["coverage"]
    check: Literal["min_group_size", "unknown_share"]
    by: list[Grouping]  # required here


def evaluate(rule: Rule, evidence: Evidence) -> Finding:
    spec = rule.spec
    assert isinstance(spec, CoverageRule)
    report = evidence.metrics_at(rule.confidence)
    if report is None:
        return finding(rule, "error", "no metrics were computed for this run")
    groups: list[GroupOutcome] = []
    for grouping in groupings_of(spec.by, evidence.sensitive):
        members = report.groups_by(grouping)
        label = {"by": " × ".join(grouping)}
        if spec.check == "min_group_size":
            known = [group for group in members if not group.unknown]
            smallest = min(known, key=lambda group: group.n) if known else None
            observed = float(smallest.n) if smallest else None
            detail = f"smallest group {smallest.label()}" if smallest else "no groups"
        else:
            rows = sum(group.rows for group in members)
            unknown = sum(group.rows for group in members if group.unknown)
            observed = unknown / rows if rows else None
            detail = f"{unknown} of {rows} rows have no value"
        status, _ = decide(observed, spec.op, spec.value, interval=None, confident=False)
        groups.append(GroupOutcome(label, status, observed, None, None, detail))
    chosen = worst(groups, spec.op)
    observed = chosen.observed if chosen else None
    message = f"{spec.check.replace('_', ' ')} is {format_number(observed, against=spec.value)} (required {spec.op} {spec.value:g})"
    if chosen and chosen.reason:
        message += f": {chosen.reason}"
    return finding(rule, combine(groups), message, observed=observed, groups=groups)


EXAMPLE = __doc__.split("Example::", 1)[1] if __doc__ else ""
