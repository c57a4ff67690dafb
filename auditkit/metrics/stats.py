"""Statistics for honest decisions: intervals, tests and multiple-testing corrections.

Every rate is reported with a confidence interval, and decisions about disparities can require the
whole interval to be on one side of a threshold. The methods:

Wilson score interval (Wilson 1927) for a proportion p = x / n:
    centre = (p + z²/2n) / (1 + z²/n),  half-width = z·sqrt(p(1−p)/n + z²/4n²) / (1 + z²/n),
    where z is the two-sided normal quantile of the confidence level. Unlike the Wald interval it stays
    inside [0, 1] and behaves well for small n and for p near 0 or 1.

Katz log interval (Katz et al. 1978) for a ratio of proportions R = (x1/n1) / (x2/n2):
    exp( ln R ± z·sqrt(1/x1 − 1/n1 + 1/x2 − 1/n2) ).
    When x1 or x2 is 0 the log is undefined; then 0.5 is added to x1, x2, n1 − x1 and n2 − x2
    (the Haldane–Anscombe correction) for the interval only. Undefined (None) when n1 or n2 is 0,
    or when both x1 and x2 are 0 (0/0).

Newcombe hybrid score interval (Newcombe 1998, method 10) for a difference d = p1 − p2, from the
    Wilson intervals (l1, u1) and (l2, u2):
    lower = d − sqrt((p1 − l1)² + (u2 − p2)²),  upper = d + sqrt((u1 − p1)² + (p2 − l2)²).

Two-proportion tests of p1 = p2: the pooled z test (two-sided) when every expected cell count of the
    2×2 table is at least 5, otherwise Fisher's exact test (two-sided), which is exact for small counts.

Multiple testing: Holm (1979) step-down adjustment controls the family-wise error rate across the groups
    of one attribute; Benjamini–Hochberg (1995) controls the false discovery rate. Adjusted p-values are
    monotone and capped at 1.

Weighted data: intervals use Kish's (1965) effective sample size n_eff = (Σw)² / Σw², with the weighted
    proportion as the point estimate.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Literal

EXPECTED_CELL_MINIMUM = 5.0


@cache
def z_for_confidence(confidence: float) -> float:
    """Two-sided standard normal quantile: 1.959964 for 0.95."""
    from statistics import NormalDist

    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    return NormalDist().inv_cdf(0.5 + confidence / 2.0)


def wilson_interval(
    successes: float, trials: float, confidence: float = 0.95
) -> tuple[float, float] | None:
    """Wilson score interval of ``successes / trials``; ``None`` when there are no trials."""
    if trials <= 0:
        return None
    z = z_for_confidence(confidence)
    p = min(max(successes / trials, 0.0), 1.0)
    z2 = z * z
    denominator = 1.0 + z2 / trials
    centre = (p + z2 / (2.0 * trials)) / denominator
    half = (
        z * math.sqrt(max(p * (1.0 - p) / trials + z2 / (4.0 * trials * trials), 0.0)) / denominator
    )
    # At p = 0 (or 1) the bound is exactly 0 (or 1); rounding would otherwise leave it a hair inside.
    lower = 0.0 if p <= 0.0 else max(0.0, centre - half)
    upper = 1.0 if p >= 1.0 else min(1.0, centre + half)
    return lower, upper


def katz_ratio_interval(
    x1: float, n1: float, x2: float, n2: float, confidence: float = 0.95
) -> tuple[float, float] | None:
    """Katz log interval of ``(x1/n1) / (x2/n2)``; see the module docstring for zero cells."""
    if n1 <= 0 or n2 <= 0 or (x1 <= 0 and x2 <= 0):
        return None
    if x1 <= 0 or x2 <= 0:
        x1, x2, n1, n2 = x1 + 0.5, x2 + 0.5, n1 + 1.0, n2 + 1.0
    ratio = (x1 / n1) / (x2 / n2)
    variance = 1.0 / x1 - 1.0 / n1 + 1.0 / x2 - 1.0 / n2
    spread = z_for_confidence(confidence) * math.sqrt(max(variance, 0.0))
    log_ratio = math.log(ratio)
    return math.exp(log_ratio - spread), math.exp(log_ratio + spread)


def newcombe_difference_interval(
    x1: float, n1: float, x2: float, n2: float, confidence: float = 0.95
) -> tuple[float, float] | None:
    """Newcombe hybrid score interval of ``x1/n1 − x2/n2``; ``None`` when a side has no trials."""
    first = wilson_interval(x1, n1, confidence)
    second = wilson_interval(x2, n2, confidence)
    if first is None or second is None:
        return None
    p1, p2 = x1 / n1, x2 / n2
    (l1, u1), (l2, u2) = first, second
    difference = p1 - p2
    lower = difference - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    upper = difference + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return max(-1.0, lower), min(1.0, upper)


@dataclass(frozen=True)
class TestResult:
    """A two-sided test of equal proportions."""

    method: Literal["z", "fisher"]
    statistic: float | None
    p_value: float


def two_proportion_z_test(x1: int, n1: int, x2: int, n2: int) -> TestResult | None:
    """Pooled two-proportion z test; ``None`` when a side is empty or the pooled rate is 0 or 1."""
    if n1 <= 0 or n2 <= 0:
        return None
    pooled = (x1 + x2) / (n1 + n2)
    variance = pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2)
    if variance <= 0:
        return TestResult("z", 0.0, 1.0)
    z = (x1 / n1 - x2 / n2) / math.sqrt(variance)
    # erfc keeps the far tail accurate, where 1 - cdf would round to 0.
    return TestResult("z", z, min(1.0, math.erfc(abs(z) / math.sqrt(2.0))))


def fisher_exact_test(x1: int, n1: int, x2: int, n2: int) -> TestResult:
    """Fisher's exact test on the 2×2 table [[x1, n1−x1], [x2, n2−x2]] (two-sided)."""
    from scipy.stats import fisher_exact

    statistic, p_value = fisher_exact([[x1, n1 - x1], [x2, n2 - x2]], alternative="two-sided")
    odds = float(statistic)
    return TestResult("fisher", odds if math.isfinite(odds) else None, float(p_value))


def proportion_difference_test(x1: int, n1: int, x2: int, n2: int) -> TestResult | None:
    """Fisher's exact test when an expected cell count is below 5, otherwise the pooled z test."""
    if n1 <= 0 or n2 <= 0:
        return None
    total = n1 + n2
    successes, failures = x1 + x2, total - x1 - x2
    expected = [n * k / total for n in (n1, n2) for k in (successes, failures)]
    if min(expected) < EXPECTED_CELL_MINIMUM:
        return fisher_exact_test(x1, n1, x2, n2)
    return two_proportion_z_test(x1, n1, x2, n2)


def holm_adjust(p_values: Sequence[float | None]) -> list[float | None]:
    """Holm step-down adjusted p-values (``None`` entries pass through and do not count)."""
    present = sorted((p, index) for index, p in enumerate(p_values) if p is not None)
    m = len(present)
    adjusted: list[float | None] = [None] * len(p_values)
    running = 0.0
    for rank, (p, index) in enumerate(present):
        running = max(running, min(1.0, (m - rank) * p))
        adjusted[index] = running
    return adjusted


def benjamini_hochberg_adjust(p_values: Sequence[float | None]) -> list[float | None]:
    """Benjamini–Hochberg step-up adjusted p-values (``None`` entries pass through)."""
    present = sorted((p, index) for index, p in enumerate(p_values) if p is not None)
    m = len(present)
    adjusted: list[float | None] = [None] * len(p_values)
    running = 1.0
    for rank in range(m - 1, -1, -1):
        p, index = present[rank]
        running = min(running, m * p / (rank + 1))
        adjusted[index] = min(1.0, running)
    return adjusted


def kish_effective_n(sum_w: float, sum_w2: float) -> float | None:
    """Kish's effective sample size (Σw)² / Σw²; ``None`` without positive weights."""
    if sum_w2 <= 0:
        return None
    return sum_w * sum_w / sum_w2
