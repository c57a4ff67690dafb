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


SENSITIVE = "$sensitive"
"""In ``by:``, each of the project's sensitive attributes on its own (for packs that cannot know names)."""
INTERSECTION = "$intersection"
"""In ``by:``, the intersection of all the project's sensitive attributes."""


def groupings_of(
    by: list[Grouping] | None, sensitive: tuple[str, ...] = ()
) -> list[tuple[str, ...]]:
    """``[sex, race, [sex, race]]`` -> ``[("sex",), ("race",), ("sex", "race")]``; ``$sensitive`` and
    ``$intersection`` expand to the project's sensitive attributes."""
    result: list[tuple[str, ...]] = []
    for grouping in by or []:
        if grouping == SENSITIVE:
            result += [(column,) for column in sensitive]
        elif grouping == INTERSECTION:
            if len(sensitive) > 1:
                result.append(tuple(sensitive))
        else:
            result.append((grouping,) if isinstance(grouping, str) else tuple(grouping))
    return list(dict.fromkeys(result))


def expand_sensitive(names: list[str], sensitive: tuple[str, ...]) -> list[str]:
    """A feature list with ``$sensitive`` replaced by the project's sensitive attributes:
    ``[$sensitive, region]`` -> ``[sex, race, region]``, each name once, in order."""
    expanded: list[str] = []
    for name in names:
        expanded += list(sensitive) if name == SENSITIVE else [name]
    return list(dict.fromkeys(expanded))


def known_metric(metric: str, allowed: Any) -> str:
    from auditkit.yamlsource import did_you_mean

    if metric not in allowed:
        raise ValueError(f"unknown metric {metric!r}{did_you_mean(metric, allowed)}")
    return metric
