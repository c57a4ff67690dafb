"""What every rule kind provides: its pydantic model, a documented example, and its evaluation."""

from __future__ import annotations

from typing import Any

from pydantic import field_validator

from auditkit.policy.model import Operator, RuleCommon

Grouping = str | list[str]


class Comparison(RuleCommon):
    """A rule that compares an observed number with a threshold."""

    op: Operator
    """Comparison operator: >=, >, <=, <, ==, !=."""
    value: float
    """Threshold."""


class GroupedComparison(Comparison):
    by: list[Grouping] | None = None
    """Sensitive attributes; each is evaluated separately, a nested list is an intersection."""

    @field_validator("by")
    @classmethod
    def _non_empty_groupings(cls, groupings: list[Grouping] | None) -> list[Grouping] | None:
        for grouping in groupings or []:
            if isinstance(grouping, list) and not grouping:
                raise ValueError("an intersection needs at least one column")
        return groupings


def groupings_of(by: list[Grouping] | None) -> list[tuple[str, ...]]:
    """``[sex, race, [sex, race]]`` -> ``[("sex",), ("race",), ("sex", "race")]``."""
    return [(grouping,) if isinstance(grouping, str) else tuple(grouping) for grouping in by or []]


def known_metric(metric: str, allowed: Any) -> str:
    from auditkit.yamlsource import did_you_mean

    if metric not in allowed:
        raise ValueError(f"unknown metric {metric!r}{did_you_mean(metric, allowed)}")
    return metric
