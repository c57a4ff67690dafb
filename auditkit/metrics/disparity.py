"""Disparities between groups, and the named fairness metrics (fairlearn's definitions).

Per group: ratio and difference to a reference group, ratio to the highest group (the NYC LL144 impact
ratio), ratio and difference to the whole sample. Rates also get intervals (Katz log for ratios, Newcombe
for differences) and a test against the reference group (z or Fisher exact), Holm-adjusted across the
groups of the attribute. Across a grouping: the min/max ratio and the max−min difference of each metric.

The ``unknown`` group (missing sensitive value) is reported but left out of ``ratio_to_max`` and of the
across-grouping aggregates: it is not a demographic group. Small groups stay in the aggregates (as in
fairlearn); they are marked inconclusive instead. The highest group that ``ratio_to_max`` divides by is
the highest of the groups large enough to judge (at least the minimum group size, when any group is): a
group of a dozen rows has a rate too uncertain to be the yardstick of every other group. With a minimum
group size of 1 (NYC LL144's impact ratio) every group counts.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from auditkit.metrics.derive import Derived
from auditkit.metrics.registry import FAIRNESS_METRICS, METRICS, NO_LABEL_REASON
from auditkit.metrics.stats import (
    TestResult,
    holm_adjust,
    katz_ratio_interval,
    newcombe_difference_interval,
    proportion_difference_test,
)


@dataclass
class GroupState:
    """A group while its disparities are being computed."""

    values: tuple[Any, ...]
    derived: Derived
    unknown: bool
    disparity: dict[str, dict[str, Any]] = field(default_factory=dict)


def _ratio(value: float | None, base: float | None) -> float | None:
    if value is None or base is None or base == 0:
        return None
    return value / base


def _difference(value: float | None, base: float | None) -> float | None:
    if value is None or base is None:
        return None
    return value - base


def _numeric(derived: Derived, key: str) -> float | None:
    value = derived.values.get(key)
    return None if value is None else float(value)


def add_group_disparities(
    groups: Sequence[GroupState],
    overall: Derived,
    reference: GroupState | None,
    keys: Sequence[str],
    confidence: float,
    tests: bool,
    min_group_size: int = 1,
) -> None:
    """Fill ``group.disparity`` for every group of one grouping."""
    for key in keys:
        if METRICS[key].family == "count":
            continue
        top = _highest(groups, key, min_group_size)
        highest = _numeric(top.derived, key) if top is not None else None
        for group in groups:
            group.disparity[key] = _one(group, key, overall, reference, top, highest, confidence)
        if tests and reference is not None and METRICS[key].is_rate:
            _add_tests(groups, reference, key)


def _highest(groups: Sequence[GroupState], key: str, min_group_size: int) -> GroupState | None:
    """The known group with the highest value of ``key``, among those of at least ``min_group_size``
    rows when there are any (the first in group order on a tie)."""
    known = [
        (value, group)
        for group in groups
        if not group.unknown
        if (value := _numeric(group.derived, key)) is not None
    ]
    judged = [(value, group) for value, group in known if _size(group) >= min_group_size]
    candidates = judged or known
    if not candidates:
        return None
    highest = max(value for value, _group in candidates)
    return next(group for value, group in candidates if value == highest)


def _size(group: GroupState) -> int:
    return int(group.derived.values.get("n") or 0)


def _one(
    group: GroupState,
    key: str,
    overall: Derived,
    reference: GroupState | None,
    top: GroupState | None,
    highest: float | None,
    confidence: float,
) -> dict[str, Any]:
    value = _numeric(group.derived, key)
    entry: dict[str, Any] = {}
    if reference is not None:
        base = _numeric(reference.derived, key)
        entry["ratio_to_reference"] = _ratio(value, base)
        entry["difference_to_reference"] = _difference(value, base)
    entry["ratio_to_max"] = None if group.unknown else _ratio(value, highest)
    base_overall = _numeric(overall, key)
    entry["ratio_to_overall"] = _ratio(value, base_overall)
    entry["difference_to_overall"] = _difference(value, base_overall)
    intervals = _intervals(group, key, reference, None if group.unknown else top, confidence)
    if intervals:
        entry["ci"] = intervals
    return entry


def _intervals(
    group: GroupState,
    key: str,
    reference: GroupState | None,
    top: GroupState | None,
    confidence: float,
) -> dict[str, list[float]]:
    counts = group.derived.rate_counts.get(key)
    if counts is None:
        return {}
    result: dict[str, list[float]] = {}
    if reference is not None and (base := reference.derived.rate_counts.get(key)) is not None:
        ratio = katz_ratio_interval(*counts, *base, confidence)
        difference = newcombe_difference_interval(*counts, *base, confidence)
        # A zero reference rate leaves the ratio unbounded above; JSON has no infinity, so no interval.
        if ratio is not None and math.isfinite(ratio[1]):
            result["ratio_to_reference"] = list(ratio)
        if difference is not None:
            result["difference_to_reference"] = list(difference)
    if top is not None and (best := top.derived.rate_counts.get(key)) is not None:
        ratio = katz_ratio_interval(*counts, *best, confidence)
        # Near-zero weighted counts can make the bound overflow to infinity: then no interval either.
        if ratio is not None and math.isfinite(ratio[1]):
            result["ratio_to_max"] = list(ratio)
    return result


def _add_tests(groups: Sequence[GroupState], reference: GroupState, key: str) -> None:
    base = reference.derived.rate_counts.get(key)
    compared = [group for group in groups if group is not reference]
    results: list[TestResult | None] = []
    for group in compared:
        counts = group.derived.rate_counts.get(key)
        if counts is None or base is None:
            results.append(None)
            continue
        results.append(
            proportion_difference_test(
                round(counts[0]), round(counts[1]), round(base[0]), round(base[1])
            )
        )
    adjusted = holm_adjust([result.p_value if result else None for result in results])
    for group, result, p_adjusted in zip(compared, results, adjusted, strict=True):
        if result is None:
            continue
        group.disparity[key]["test"] = {
            "method": result.method,
            "statistic": result.statistic,
            "p_value": result.p_value,
            "p_adjusted": p_adjusted,
        }


def grouping_summary(
    groups: Sequence[GroupState], keys: Sequence[str], *, labelled: bool = True
) -> dict[str, Any]:
    """Across-grouping aggregates and the named fairness metrics (without a label, those that need
    observed outcomes are null with the reason)."""
    min_max_ratio: dict[str, float | None] = {}
    max_min_difference: dict[str, float | None] = {}
    reasons: dict[str, str] = {}
    for key in keys:
        if METRICS[key].family == "count":
            continue
        values = [
            value
            for group in groups
            if not group.unknown
            if (value := _numeric(group.derived, key)) is not None
        ]
        if not values:
            min_max_ratio[key] = max_min_difference[key] = None
            reasons[key] = (
                NO_LABEL_REASON
                if not labelled and METRICS[key].needs_label
                else "no group has a value"
            )
            continue
        low, high = min(values), max(values)
        max_min_difference[key] = high - low
        min_max_ratio[key] = low / high if high != 0 else None
        if high == 0:
            reasons[key] = "the highest value is 0"
    summary: dict[str, Any] = _named(min_max_ratio, max_min_difference)
    if not labelled:
        reasons |= {
            key: NO_LABEL_REASON
            for key, value in summary.items()
            if value is None and FAIRNESS_METRICS[key].needs_label
        }
    summary["min_max_ratio"] = min_max_ratio
    summary["max_min_difference"] = max_min_difference
    if reasons:
        summary["reasons"] = reasons
    return summary


def _named(
    ratios: dict[str, float | None], differences: dict[str, float | None]
) -> dict[str, float | None]:
    def worst(values: Sequence[float | None], pick: Any) -> float | None:
        present = [value for value in values if value is not None]
        return pick(present) if len(present) == len(values) and present else None

    named: dict[str, float | None] = {}
    if "selection_rate" in ratios:
        named["demographic_parity_difference"] = differences["selection_rate"]
        named["demographic_parity_ratio"] = ratios["selection_rate"]
        named["impact_ratio"] = ratios["selection_rate"]
    if "tpr" in ratios and "fpr" in ratios:
        named["equalized_odds_difference"] = worst([differences["tpr"], differences["fpr"]], max)
        named["equalized_odds_ratio"] = worst([ratios["tpr"], ratios["fpr"]], min)
    if "tpr" in ratios:
        named["equal_opportunity_difference"] = differences["tpr"]
        named["equal_opportunity_ratio"] = ratios["tpr"]
    return named
