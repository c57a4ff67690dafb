"""Reason codes for adverse decisions: the features that pushed each declined row's score down.

A code names a feature and, for a numeric one, the direction of its value against the sample's mean:
``RC-DEBT_RATIO-HIGH``, ``RC-INCOME-LOW``, ``RC-INCOME-MISSING``; a categorical feature's code is
``RC-REGION`` (the value is in the row's reason). Codes depend only on feature names, so they are
stable across runs and models with the same inputs.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy

from auditkit.explain.report import ReasonCount, ReasonPattern, ReasonStability

if TYPE_CHECKING:
    import pandas


@dataclass(frozen=True)
class Reason:
    code: str
    feature: str
    direction: str
    contribution: float
    value: Any


def code_for(feature: str, direction: str) -> str:
    stem = re.sub(r"[^A-Z0-9]+", "_", feature.upper()).strip("_")
    return f"RC-{stem}" if direction == "value" else f"RC-{stem}-{direction.upper()}"


def row_reasons(
    values: numpy.ndarray,
    frame: pandas.DataFrame,
    features: Sequence[str],
    means: dict[str, float],
    k: int,
) -> list[list[Reason]]:
    """For each row, up to ``k`` features with negative attributions, most negative first."""
    import pandas

    result = []
    inputs = frame[list(features)].to_numpy(dtype=object)
    for row, contributions in enumerate(values):
        order = [i for i in numpy.argsort(contributions, kind="stable") if contributions[i] < 0][:k]
        reasons = []
        for i in order:
            feature, value = features[i], inputs[row, i]
            if pandas.isna(value):
                direction = "missing"
            elif feature in means:
                direction = "low" if float(value) < means[feature] else "high"
            else:
                direction = "value"
            reasons.append(
                Reason(
                    code_for(feature, direction), feature, direction, float(contributions[i]), value
                )
            )
        result.append(reasons)
    return result


def count_codes(reasons: list[list[Reason]]) -> tuple[ReasonCount, ...]:
    counts: Counter[tuple[str, str, str]] = Counter(
        (reason.code, reason.feature, reason.direction) for row in reasons for reason in row
    )
    rows = max(1, len(reasons))
    return tuple(
        ReasonCount(code, feature, direction, count, count / rows)
        for (code, feature, direction), count in sorted(
            counts.items(), key=lambda item: (-item[1], item[0])
        )
    )


def count_patterns(reasons: list[list[Reason]]) -> tuple[ReasonPattern, ...]:
    """Rows counted by the ordered features of their reasons, most frequent first."""
    counts = Counter(tuple(reason.feature for reason in row) for row in reasons)
    return tuple(
        ReasonPattern(features, rows)
        for features, rows in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    )


def agreement(
    first: list[list[Reason]], second: list[list[Reason]], seed: int, method: str
) -> ReasonStability:
    """How often two explanations of the same rows name the same principal reasons."""
    pairs = list(zip(first, second, strict=True))
    if not pairs:
        return ReasonStability(0, seed, method, None, None)
    top1 = [bool(a and b and a[0].code == b[0].code) or (not a and not b) for a, b in pairs]
    overlaps = []
    for a, b in pairs:
        codes_a, codes_b = {r.code for r in a}, {r.code for r in b}
        largest = max(len(codes_a), len(codes_b))
        overlaps.append(len(codes_a & codes_b) / largest if largest else 1.0)
    return ReasonStability(
        len(pairs), seed, method, float(numpy.mean(top1)), float(numpy.mean(overlaps))
    )
