"""Statistics for honest decisions: intervals, tests and multiple-testing corrections.

A rate measured on a small group is uncertain, so every rate is reported with a confidence interval,
and a decision about a disparity can require the whole interval to lie on one side of a threshold.
Throughout, z is the two-sided standard normal quantile of the confidence level (1.96 for 95 %).
Anything that cannot be computed (no trials, a ratio 0/0) is ``None``, never NaN.

Wilson score interval for a proportion (Wilson 1927)
    For p = x / n, the interval is the set of true proportions π that a score test would not reject:
        centre     = (p + z²/2n) / (1 + z²/n)
        half-width = z·√(p(1−p)/n + z²/4n²) / (1 + z²/n)
    Unlike the textbook Wald interval p ± z·√(p(1−p)/n), it always lies inside [0, 1], is never
    zero-width (0 successes out of 10 gives 0 to 0.28, not 0 to 0), and keeps close to its nominal
    coverage for small n and for p near 0 or 1. x and n may be non-integer: for weighted data x is the
    weighted proportion times Kish's effective sample size and n is that effective size.

Katz log interval for a ratio of proportions (Katz, Baptista, Azen & Pike 1978)
    For R = (x1/n1) / (x2/n2), ln R is close to normal with variance 1/x1 − 1/n1 + 1/x2 − 1/n2, so
        interval = exp( ln R ± z·√(1/x1 − 1/n1 + 1/x2 − 1/n2) ).
    Zero cells. The log is undefined when x1 or x2 is 0, and the variance collapses to 0 (a falsely
    certain, zero-width interval) when x1 = n1 and x2 = n2. So when any of the four cells of the 2×2
    table (x1, n1 − x1, x2, n2 − x2) is 0, 0.5 is added to each of the four cells (the
    Haldane–Anscombe correction: x → x + 0.5, n → n + 1) before applying the formula. The interval is
    then widened, if needed, to contain the uncorrected ratio: when x1 = 0 the lower bound is 0, and
    when x2 = 0 (x1 > 0) the ratio is infinite and so is the upper bound (``math.inf``). The interval
    is undefined (``None``) when n1 or n2 is 0, or when x1 = x2 = 0 (the ratio is 0/0).

Newcombe hybrid score interval for a difference of proportions (Newcombe 1998, method 10)
    For d = p1 − p2, with Wilson intervals (l1, u1) for p1 and (l2, u2) for p2:
        lower = d − √((p1 − l1)² + (u2 − p2)²)
        upper = d + √((u1 − p1)² + (p2 − l2)²)
    It inherits the Wilson interval's good behaviour at small n and at 0 or 100 %, and always lies
    inside [−1, 1]. Undefined (``None``) when n1 or n2 is 0.

Tests of equal proportions (two-sided)
    The pooled two-proportion z test: with the pooled rate p = (x1 + x2) / (n1 + n2),
        z = (p1 − p2) / √(p(1 − p)(1/n1 + 1/n2)),   p-value = P(|Z| ≥ |z|) = erfc(|z| / √2).
    It relies on a normal approximation, which is poor for small counts. So the test used for
    decisions, ``proportion_difference_test``, switches to Fisher's exact test (Fisher 1922, 1935;
    the two-sided p-value sums the hypergeometric probabilities of all tables with the same margins
    that are no more likely than the one observed) whenever an expected cell count of the 2×2 table,
    (row total × column total) / grand total, is below 5 (Cochran's rule).

Multiple testing
    Comparing every group of an attribute with a reference group is several tests at once, and some
    would come out "significant" by chance alone. Holm's step-down method (Holm 1979) controls the
    family-wise error rate (the chance of any false alarm): with the m p-values sorted,
    p₍₁₎ ≤ … ≤ p₍ₘ₎, the adjusted value of p₍ᵢ₎ is max over j ≤ i of min(1, (m − j + 1)·p₍ⱼ₎).
    The Benjamini–Hochberg method (Benjamini & Hochberg 1995) controls the false discovery rate (the
    expected share of false alarms among the alarms): the adjusted value of p₍ᵢ₎ is
    min over j ≥ i of min(1, m·p₍ⱼ₎ / j). Missing p-values are left out of m.

Weighted data: Kish's effective sample size (Kish 1965)
    With weights w, a weighted proportion is as precise as an unweighted one on
        n_eff = (Σw)² / Σw²
    rows (n_eff = n when all weights are equal, smaller when they vary). Intervals for weighted rates
    use n_eff trials and the weighted proportion; significance tests are not run on weighted data.

References
    Wilson EB (1927). Probable inference, the law of succession, and statistical inference.
    J Am Stat Assoc 22:209-212.
    Katz D, Baptista J, Azen SP, Pike MC (1978). Obtaining confidence intervals for the risk ratio in
    cohort studies. Biometrics 34:469-474.
    Newcombe RG (1998). Interval estimation for the difference between independent proportions:
    comparison of eleven methods. Stat Med 17:873-890.
    Fisher RA (1935). The logic of inductive inference. J R Stat Soc 98:39-82.
    Holm S (1979). A simple sequentially rejective multiple test procedure. Scand J Stat 6:65-70.
    Benjamini Y, Hochberg Y (1995). Controlling the false discovery rate: a practical and powerful
    approach to multiple testing. J R Stat Soc B 57:289-300.
    Kish L (1965). Survey Sampling. Wiley, New York.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Literal

EXPECTED_CELL_MINIMUM = 5.0
"""Below this expected cell count the z test's normal approximation is not trusted (Cochran)."""

_LOG_FLOAT_MAX = math.log(sys.float_info.max)

HALDANE_ANSCOMBE_CORRECTION = 0.5
"""Added to every cell of a 2×2 table that has an empty cell, before the Katz log interval."""


@cache
def z_for_confidence(confidence: float) -> float:
    """Two-sided standard normal quantile: 1.959964 for 0.95, 2.575829 for 0.99.

    Raises ``ValueError`` unless ``0 < confidence < 1`` (the policy loader validates user input).
    """
    from statistics import NormalDist

    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    return NormalDist().inv_cdf(0.5 + confidence / 2.0)


def _finite(*values: float) -> bool:
    return all(math.isfinite(value) for value in values)


def _proportion(successes: float, trials: float) -> float:
    # Weighted counts can overshoot [0, trials] by a rounding error; the rate cannot.
    return min(max(successes / trials, 0.0), 1.0)


def wilson_interval(
    successes: float, trials: float, confidence: float = 0.95
) -> tuple[float, float] | None:
    """Wilson score interval of ``successes / trials``.

    ``None`` when ``trials <= 0`` or an input is not finite. Counts may be non-integer (weighted or
    effective counts); ``successes`` outside ``[0, trials]`` is clamped.
    """
    if not _finite(successes, trials) or trials <= 0:
        return None
    p = _proportion(successes, trials)
    if p > 0.5:
        # Mirror the interval of the failure rate so that the stable branch below does the work.
        failures_lower, failures_upper = _wilson_bounds(1.0 - p, trials, confidence)
        return min(p, 1.0 - failures_upper), max(p, 1.0 - failures_lower)
    return _wilson_bounds(p, trials, confidence)


def _wilson_bounds(p: float, trials: float, confidence: float) -> tuple[float, float]:
    """The Wilson bounds for a rate p <= 0.5, without cancellation in the lower bound."""
    z = z_for_confidence(confidence)
    z2_over_n = z * z / trials
    denominator = 1.0 + z2_over_n
    centre = (p + z2_over_n / 2.0) / denominator
    half = z * math.sqrt(p * (1.0 - p) / trials + z2_over_n / (4.0 * trials)) / denominator
    upper = min(1.0, max(p, centre + half))
    # The bounds are the roots of (1 + z²/n)·π² − (2p + z²/n)·π + p² = 0, so their product is
    # p² / (1 + z²/n); centre − half would lose every digit of a small lower bound to cancellation.
    lower = min(p, p * p / (denominator * upper))
    return lower, upper


def _has_empty_cell(x1: float, n1: float, x2: float, n2: float) -> bool:
    return min(x1, n1 - x1, x2, n2 - x2) <= 0.0


def katz_ratio_interval(
    x1: float, n1: float, x2: float, n2: float, confidence: float = 0.95
) -> tuple[float, float] | None:
    """Katz log interval of ``(x1/n1) / (x2/n2)``.

    ``None`` when n1 or n2 is 0 (or an input is not finite), or when x1 = x2 = 0. With an empty cell
    in the 2×2 table, 0.5 is added to every cell; a zero x1 gives a lower bound of 0 and a zero x2 an
    upper bound of ``math.inf`` (see the module docstring).
    """
    if not _finite(x1, n1, x2, n2, confidence) or n1 <= 0 or n2 <= 0:
        return None
    x1, x2 = min(max(x1, 0.0), n1), min(max(x2, 0.0), n2)
    if x1 <= 0 and x2 <= 0:
        return None
    a, c, m1, m2 = x1, x2, n1, n2
    if _has_empty_cell(x1, n1, x2, n2):
        a, c = x1 + HALDANE_ANSCOMBE_CORRECTION, x2 + HALDANE_ANSCOMBE_CORRECTION
        m1, m2 = n1 + 2 * HALDANE_ANSCOMBE_CORRECTION, n2 + 2 * HALDANE_ANSCOMBE_CORRECTION
    # Logs of each count, not of the quotient: a tiny weighted count must not underflow to log(0).
    log_ratio = math.log(a) - math.log(m1) - math.log(c) + math.log(m2)
    variance = max(1.0 / a - 1.0 / m1 + 1.0 / c - 1.0 / m2, 0.0)
    spread = z_for_confidence(confidence) * math.sqrt(variance)
    lower, upper = _exp_or_inf(log_ratio - spread), _exp_or_inf(log_ratio + spread)
    if x1 <= 0:
        return 0.0, upper
    if x2 <= 0:
        return lower, math.inf
    ratio = (x1 / n1) / (x2 / n2)
    return min(lower, ratio), max(upper, ratio)


def _exp_or_inf(exponent: float) -> float:
    # Near-zero weighted counts give astronomically wide intervals: the bound is then infinite.
    return math.exp(exponent) if exponent < _LOG_FLOAT_MAX else math.inf


def newcombe_difference_interval(
    x1: float, n1: float, x2: float, n2: float, confidence: float = 0.95
) -> tuple[float, float] | None:
    """Newcombe hybrid score interval (method 10) of ``x1/n1 − x2/n2``.

    ``None`` when n1 or n2 is 0 or an input is not finite.
    """
    first = wilson_interval(x1, n1, confidence)
    second = wilson_interval(x2, n2, confidence)
    if first is None or second is None:
        return None
    p1, p2 = _proportion(x1, n1), _proportion(x2, n2)
    (l1, u1), (l2, u2) = first, second
    difference = p1 - p2
    lower = difference - math.hypot(p1 - l1, u2 - p2)
    upper = difference + math.hypot(u1 - p1, p2 - l2)
    return max(-1.0, lower), min(1.0, upper)


@dataclass(frozen=True)
class TestResult:
    """A two-sided test of equal proportions.

    ``statistic`` is z for the z test and the sample odds ratio for Fisher's test; it is ``None``
    when undefined (a z of 0/0, an odds ratio of 0/0 or x/0).
    """

    __test__ = False  # not a pytest test class, despite the name

    method: Literal["z", "fisher"]
    statistic: float | None
    p_value: float


def _check_table(x1: int, n1: int, x2: int, n2: int) -> None:
    if not (0 <= x1 <= n1 and 0 <= x2 <= n2):
        raise ValueError(f"counts must satisfy 0 <= x <= n, got {x1}/{n1} and {x2}/{n2}")


def two_proportion_z_test(x1: int, n1: int, x2: int, n2: int) -> TestResult | None:
    """Pooled two-proportion z test of p1 = p2 (two-sided).

    ``None`` when n1 or n2 is 0. When both rates are 0 or both are 1 the statistic is 0/0
    (``None``) and the p-value is 1: the samples agree exactly. Raises ``ValueError`` when a count
    lies outside ``[0, n]``.
    """
    if n1 <= 0 or n2 <= 0:
        return None
    _check_table(x1, n1, x2, n2)
    pooled = (x1 + x2) / (n1 + n2)
    variance = pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2)
    if variance <= 0:
        return TestResult("z", None, 1.0)
    z = (x1 / n1 - x2 / n2) / math.sqrt(variance)
    # erfc keeps the far tail accurate, where 1 − cdf would round to 0.
    return TestResult("z", z, min(1.0, math.erfc(abs(z) / math.sqrt(2.0))))


def fisher_exact_test(x1: int, n1: int, x2: int, n2: int) -> TestResult:
    """Fisher's exact test on the 2×2 table [[x1, n1−x1], [x2, n2−x2]] (two-sided, scipy).

    Raises ``ValueError`` when a count lies outside ``[0, n]``.
    """
    from scipy.stats import fisher_exact

    _check_table(x1, n1, x2, n2)
    statistic, p_value = fisher_exact([[x1, n1 - x1], [x2, n2 - x2]], alternative="two-sided")
    odds = float(statistic)
    return TestResult("fisher", odds if math.isfinite(odds) else None, min(1.0, float(p_value)))


def proportion_difference_test(x1: int, n1: int, x2: int, n2: int) -> TestResult | None:
    """Test of p1 = p2: Fisher's exact test when an expected cell count is below 5, else the z test.

    ``None`` when n1 or n2 is 0.
    """
    if n1 <= 0 or n2 <= 0:
        return None
    _check_table(x1, n1, x2, n2)
    if _smallest_expected_cell(x1, n1, x2, n2) < EXPECTED_CELL_MINIMUM:
        return fisher_exact_test(x1, n1, x2, n2)
    return two_proportion_z_test(x1, n1, x2, n2)


def _smallest_expected_cell(x1: int, n1: int, x2: int, n2: int) -> float:
    total = n1 + n2
    successes = x1 + x2
    column_totals = (successes, total - successes)
    return min(row * column / total for row in (n1, n2) for column in column_totals)


def _sorted_present(p_values: Sequence[float | None]) -> list[tuple[float, int]]:
    present = [(p, index) for index, p in enumerate(p_values) if p is not None]
    for p, index in present:
        if not 0.0 <= p <= 1.0:  # also rejects NaN
            raise ValueError(f"p-value {p} at position {index} is not in [0, 1]")
    return sorted(present)


def holm_adjust(p_values: Sequence[float | None]) -> list[float | None]:
    """Holm step-down adjusted p-values, in input order (``None`` passes through, not counted).

    Raises ``ValueError`` for a p-value outside ``[0, 1]`` (or NaN).
    """
    present = _sorted_present(p_values)
    m = len(present)
    adjusted: list[float | None] = [None] * len(p_values)
    running = 0.0
    for rank, (p, index) in enumerate(present):
        running = max(running, min(1.0, (m - rank) * p))
        adjusted[index] = running
    return adjusted


def benjamini_hochberg_adjust(p_values: Sequence[float | None]) -> list[float | None]:
    """Benjamini–Hochberg step-up adjusted p-values, in input order (``None`` passes through).

    Raises ``ValueError`` for a p-value outside ``[0, 1]`` (or NaN).
    """
    present = _sorted_present(p_values)
    m = len(present)
    adjusted: list[float | None] = [None] * len(p_values)
    running = 1.0
    for rank in range(m - 1, -1, -1):
        p, index = present[rank]
        running = min(running, m * p / (rank + 1))
        adjusted[index] = running
    return adjusted


def kish_effective_n(sum_w: float, sum_w2: float) -> float | None:
    """Kish's effective sample size (Σw)² / Σw²; ``None`` without positive weights."""
    if not _finite(sum_w, sum_w2) or sum_w2 <= 0 or sum_w <= 0:
        return None
    return sum_w * sum_w / sum_w2
