"""Statistics against statsmodels, scipy, hand computation and published worked examples."""

from __future__ import annotations

import dataclasses
import math

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from auditkit.metrics.stats import (
    TestResult,
    benjamini_hochberg_adjust,
    fisher_exact_test,
    holm_adjust,
    katz_ratio_interval,
    kish_effective_n,
    newcombe_difference_interval,
    proportion_difference_test,
    two_proportion_z_test,
    wilson_interval,
    z_for_confidence,
)

CONFIDENCES = st.sampled_from([0.8, 0.9, 0.95, 0.99])


@st.composite
def binomial_pairs(draw: st.DrawFn, max_n: int = 200) -> tuple[int, int, int, int]:
    """Two integer (successes, trials) pairs with 0 <= x <= n and n >= 1."""
    n1, n2 = draw(st.integers(1, max_n)), draw(st.integers(1, max_n))
    return draw(st.integers(0, n1)), n1, draw(st.integers(0, n2)), n2


@st.composite
def weighted_counts(draw: st.DrawFn) -> tuple[float, float]:
    """A non-integer (successes, trials) pair, as weighted or effective counts are."""
    trials = draw(st.floats(1e-3, 1e7, allow_nan=False))
    share = draw(st.floats(0.0, 1.0, allow_nan=False))
    return share * trials, trials


# z quantile ------------------------------------------------------------------------------------


def test_normal_quantile_equals_scipy() -> None:
    from scipy.stats import norm

    for confidence in (0.5, 0.8, 0.9, 0.95, 0.99, 0.999):
        expected = norm.ppf(0.5 + confidence / 2)
        assert z_for_confidence(confidence) == pytest.approx(expected, rel=1e-14)
    assert z_for_confidence(0.95) == pytest.approx(1.959963984540054, abs=1e-12)


@pytest.mark.parametrize("confidence", [0.0, 1.0, -0.5, 1.5, math.nan])
def test_normal_quantile_rejects_impossible_confidence(confidence: float) -> None:
    with pytest.raises(ValueError, match="confidence"):
        z_for_confidence(confidence)


# Wilson ----------------------------------------------------------------------------------------


def test_wilson_hand_computed() -> None:
    # 0/10 at 95 %: upper = z² / (n + z²) = 3.8415 / 13.8415.
    z2 = 1.959963984540054**2
    assert wilson_interval(0, 10) == pytest.approx((0.0, z2 / (10 + z2)), abs=1e-15)
    # 10/10 mirrors it.
    assert wilson_interval(10, 10) == pytest.approx((10 / (10 + z2), 1.0), abs=1e-15)


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 500), st.integers(1, 500), CONFIDENCES)
def test_wilson_equals_statsmodels(successes: int, trials: int, confidence: float) -> None:
    from statsmodels.stats.proportion import proportion_confint  # type: ignore[import-untyped]

    successes = min(successes, trials)
    low, high = proportion_confint(successes, trials, alpha=1 - confidence, method="wilson")
    ours = wilson_interval(successes, trials, confidence)
    assert ours is not None
    assert ours == pytest.approx((low, high), abs=1e-12)


@settings(max_examples=150, deadline=None)
@given(weighted_counts(), CONFIDENCES)
def test_wilson_with_non_integer_counts_equals_statsmodels(
    counts: tuple[float, float], confidence: float
) -> None:
    from statsmodels.stats.proportion import proportion_confint

    successes, trials = counts
    low, high = proportion_confint(successes, trials, alpha=1 - confidence, method="wilson")
    ours = wilson_interval(successes, trials, confidence)
    assert ours is not None
    assert ours == pytest.approx((low, high), abs=1e-12)


@settings(max_examples=300, deadline=None)
@given(weighted_counts())
def test_wilson_contains_the_rate_stays_in_range_and_widens_with_confidence(
    counts: tuple[float, float],
) -> None:
    successes, trials = counts
    rate = min(successes / trials, 1.0)
    previous: tuple[float, float] | None = None
    for confidence in (0.5, 0.8, 0.9, 0.95, 0.99, 0.999):
        interval = wilson_interval(successes, trials, confidence)
        assert interval is not None
        low, high = interval
        assert not math.isnan(low) and not math.isnan(high)
        assert 0.0 <= low <= rate <= high <= 1.0
        if previous is not None:
            assert low <= previous[0] and high >= previous[1]
        previous = interval


@pytest.mark.parametrize(
    ("successes", "trials"), [(0, 0), (0, -3), (1, math.nan), (math.nan, 5), (1, math.inf)]
)
def test_wilson_undefined(successes: float, trials: float) -> None:
    assert wilson_interval(successes, trials) is None


def test_wilson_clamps_weighted_rounding_overshoot() -> None:
    # A weighted numerator can exceed its denominator by a rounding error.
    assert wilson_interval(10.000000000001, 10) == wilson_interval(10, 10)
    assert wilson_interval(-1e-12, 10) == wilson_interval(0, 10)


# Newcombe --------------------------------------------------------------------------------------

# Newcombe (1998), Statistics in Medicine 17:873-890, Table II, examples (a)-(h), method 10.
NEWCOMBE_TABLE_II = [
    ((56, 70, 48, 80), (0.0524, 0.3339)),
    ((9, 10, 3, 10), (0.1705, 0.8090)),
    ((6, 7, 2, 7), (0.0582, 0.8062)),
    ((5, 56, 0, 29), (-0.0381, 0.1926)),
    ((0, 10, 0, 20), (-0.1611, 0.2775)),
    ((0, 10, 0, 10), (-0.2775, 0.2775)),
    ((10, 10, 0, 20), (0.6791, 1.0000)),
    ((10, 10, 0, 10), (0.6075, 1.0000)),
]


@pytest.mark.parametrize(("counts", "published"), NEWCOMBE_TABLE_II)
def test_newcombe_published_examples(
    counts: tuple[int, int, int, int], published: tuple[float, float]
) -> None:
    interval = newcombe_difference_interval(*counts)
    assert interval is not None
    assert interval == pytest.approx(published, abs=5e-5)


@settings(max_examples=150, deadline=None)
@given(binomial_pairs(), CONFIDENCES)
def test_newcombe_equals_statsmodels(counts: tuple[int, int, int, int], confidence: float) -> None:
    from statsmodels.stats.proportion import confint_proportions_2indep

    x1, n1, x2, n2 = counts
    low, high = confint_proportions_2indep(
        x1, n1, x2, n2, method="newcomb", compare="diff", alpha=1 - confidence
    )
    ours = newcombe_difference_interval(x1, n1, x2, n2, confidence)
    assert ours is not None
    assert ours == pytest.approx((low, high), abs=1e-12)


@settings(max_examples=300, deadline=None)
@given(weighted_counts(), weighted_counts())
def test_newcombe_contains_the_difference_stays_in_range_and_widens(
    first: tuple[float, float], second: tuple[float, float]
) -> None:
    (x1, n1), (x2, n2) = first, second
    difference = min(x1 / n1, 1.0) - min(x2 / n2, 1.0)
    previous: tuple[float, float] | None = None
    for confidence in (0.8, 0.95, 0.99):
        interval = newcombe_difference_interval(x1, n1, x2, n2, confidence)
        assert interval is not None
        low, high = interval
        assert not math.isnan(low) and not math.isnan(high)
        assert -1.0 <= low <= difference + 1e-12 and difference - 1e-12 <= high <= 1.0
        if previous is not None:
            assert low <= previous[0] + 1e-15 and high >= previous[1] - 1e-15
        previous = interval


def test_newcombe_undefined_without_trials() -> None:
    assert newcombe_difference_interval(0, 0, 3, 10) is None
    assert newcombe_difference_interval(3, 10, 0, 0) is None


# Katz ------------------------------------------------------------------------------------------


def test_katz_hand_computed() -> None:
    # (30/100) / (20/100) = 1.5; SE(ln R) = sqrt(1/30 - 1/100 + 1/20 - 1/100) = sqrt(0.0633...).
    spread = 1.959963984540054 * math.sqrt(1 / 30 - 1 / 100 + 1 / 20 - 1 / 100)
    expected = (1.5 * math.exp(-spread), 1.5 * math.exp(spread))
    assert katz_ratio_interval(30, 100, 20, 100) == pytest.approx(expected, rel=1e-13)
    assert expected == pytest.approx((0.9160, 2.4564), abs=5e-5)


@settings(max_examples=150, deadline=None)
@given(binomial_pairs(), CONFIDENCES)
def test_katz_equals_statsmodels_without_empty_cells(
    counts: tuple[int, int, int, int], confidence: float
) -> None:
    from statsmodels.stats.contingency_tables import Table2x2  # type: ignore[import-untyped]
    from statsmodels.stats.proportion import confint_proportions_2indep

    x1, n1, x2, n2 = counts
    assume(0 < x1 < n1 and 0 < x2 < n2)
    alpha = 1 - confidence
    table = Table2x2([[x1, n1 - x1], [x2, n2 - x2]], shift_zeros=False)
    low, high = table.riskratio_confint(alpha=alpha)
    log_low, log_high = confint_proportions_2indep(
        x1, n1, x2, n2, method="log", compare="ratio", alpha=alpha
    )
    assert (low, high) == pytest.approx((log_low, log_high), rel=1e-10)  # the oracles agree
    ours = katz_ratio_interval(x1, n1, x2, n2, confidence)
    assert ours is not None
    assert ours == pytest.approx((low, high), rel=1e-10)


@st.composite
def pairs_with_an_empty_cell(draw: st.DrawFn) -> tuple[int, int, int, int]:
    """Binomial pairs with at least one empty cell of the 2x2 table and not both rates zero."""
    x1, n1, x2, n2 = draw(binomial_pairs(max_n=60))
    cells = [x1, n1 - x1, x2, n2 - x2]
    emptied = draw(st.sampled_from(range(4)))  # drawn, not filtered: filtering trips health checks
    if emptied == 0:
        x1 = 0
    elif emptied == 1:
        x1 = n1
    elif emptied == 2:
        x2 = 0
    else:
        x2 = n2
    if x1 == 0 and x2 == 0:
        x1 = n1 if cells[0] == 0 else cells[0]
    return x1, n1, x2, n2


@settings(max_examples=150, deadline=None)
@given(pairs_with_an_empty_cell(), CONFIDENCES)
def test_katz_with_an_empty_cell_adds_one_half_to_every_cell(
    counts: tuple[int, int, int, int], confidence: float
) -> None:
    from statsmodels.stats.contingency_tables import Table2x2

    x1, n1, x2, n2 = counts
    assert min(x1, n1 - x1, x2, n2 - x2) == 0 and (x1 > 0 or x2 > 0)
    corrected = Table2x2([[x1 + 0.5, n1 - x1 + 0.5], [x2 + 0.5, n2 - x2 + 0.5]], shift_zeros=False)
    low, high = corrected.riskratio_confint(alpha=1 - confidence)
    ours = katz_ratio_interval(x1, n1, x2, n2, confidence)
    assert ours is not None
    # The corrected interval, widened to reach the uncorrected ratio (0 or infinity at the ends).
    ratio = math.inf if x2 == 0 else (x1 / n1) / (x2 / n2)
    assert ours[0] == pytest.approx(min(low, ratio), rel=1e-10)
    assert ours[1] == pytest.approx(max(high, ratio), rel=1e-10)


def test_katz_zero_cells() -> None:
    assert katz_ratio_interval(0, 10, 0, 12) is None, "0/0 has no ratio"
    assert katz_ratio_interval(3, 0, 5, 12) is None
    assert katz_ratio_interval(3, 10, 5, 0) is None
    low, high = katz_ratio_interval(0, 10, 5, 12)  # type: ignore[misc]
    assert low == 0.0 and 0.0 < high < math.inf, "a zero numerator keeps 0 inside the interval"
    low, high = katz_ratio_interval(5, 12, 0, 10)  # type: ignore[misc]
    assert low > 0.0 and high == math.inf, "a zero reference rate leaves the ratio unbounded"
    low, high = katz_ratio_interval(5, 5, 3, 3)  # type: ignore[misc]
    assert low < 1.0 < high, "5/5 against 3/3 is far from certain: never a zero-width interval"


@settings(max_examples=300, deadline=None)
@given(weighted_counts(), weighted_counts())
def test_katz_contains_the_ratio_and_widens_with_confidence(
    first: tuple[float, float], second: tuple[float, float]
) -> None:
    (x1, n1), (x2, n2) = first, second
    previous: tuple[float, float] | None = None
    for confidence in (0.8, 0.95, 0.99):
        interval = katz_ratio_interval(x1, n1, x2, n2, confidence)
        if x1 <= 0 and x2 <= 0:
            assert interval is None
            return
        assert interval is not None
        low, high = interval
        assert not math.isnan(low) and not math.isnan(high)
        assert 0.0 <= low <= high
        if x2 > 0:
            ratio = (min(x1, n1) / n1) / (min(x2, n2) / n2)
            assert low <= ratio * (1 + 1e-12) and ratio <= high * (1 + 1e-12)
        else:
            assert high == math.inf
        if previous is not None:
            assert low <= previous[0] * (1 + 1e-12) and high >= previous[1] * (1 - 1e-12)
        previous = interval


# Tests of equal proportions --------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(binomial_pairs(max_n=2000))
def test_z_test_equals_statsmodels(counts: tuple[int, int, int, int]) -> None:
    from statsmodels.stats.proportion import proportions_ztest

    x1, n1, x2, n2 = counts
    assume(0 < x1 + x2 < n1 + n2)
    statistic, p_value = proportions_ztest([x1, x2], [n1, n2])
    ours = two_proportion_z_test(x1, n1, x2, n2)
    assert ours is not None and ours.method == "z"
    assert ours.statistic == pytest.approx(statistic, rel=1e-9, abs=1e-12)
    assert ours.p_value == pytest.approx(p_value, rel=1e-9, abs=1e-15)


def test_z_test_far_tail_is_not_rounded_to_zero() -> None:
    from scipy.stats import norm

    ours = two_proportion_z_test(900, 1000, 100, 1000)
    assert ours is not None and ours.statistic is not None
    assert ours.p_value == pytest.approx(2 * norm.sf(abs(ours.statistic)), rel=1e-9)
    assert ours.p_value > 0.0


def test_z_test_edge_cases() -> None:
    assert two_proportion_z_test(0, 0, 1, 5) is None
    assert two_proportion_z_test(0, 5, 0, 7) == TestResult("z", None, 1.0)
    assert two_proportion_z_test(5, 5, 7, 7) == TestResult("z", None, 1.0)
    with pytest.raises(ValueError, match="0 <= x <= n"):
        two_proportion_z_test(6, 5, 1, 7)


@settings(max_examples=100, deadline=None)
@given(binomial_pairs(max_n=40))
def test_fisher_equals_scipy(counts: tuple[int, int, int, int]) -> None:
    from scipy.stats import fisher_exact

    x1, n1, x2, n2 = counts
    expected = fisher_exact([[x1, n1 - x1], [x2, n2 - x2]], alternative="two-sided")
    ours = fisher_exact_test(x1, n1, x2, n2)
    assert ours.method == "fisher" and 0.0 <= ours.p_value <= 1.0
    assert ours.p_value == pytest.approx(min(1.0, expected.pvalue), rel=1e-12)
    odds = float(expected.statistic)
    assert ours.statistic == (odds if math.isfinite(odds) else None)


def test_fisher_hand_computed() -> None:
    # [[1, 7], [6, 3]]: hypergeometric with margins 8/9 and 7/10; the two-sided p-value sums the
    # tables no more likely than the observed one (a = 0, 1, 6, 7 successes in the first row).
    def probability(a: int) -> float:
        return math.comb(7, a) * math.comb(10, 8 - a) / math.comb(17, 8)

    observed = probability(1)
    expected = sum(probability(a) for a in range(8) if probability(a) <= observed * (1 + 1e-7))
    assert fisher_exact_test(1, 8, 6, 9).p_value == pytest.approx(expected, rel=1e-12)


def test_proportion_difference_test_switches_at_expected_count_five() -> None:
    # n1 = n2 = 10 with 10 successes in all: every expected cell is exactly 5 -> z test.
    at_five = proportion_difference_test(7, 10, 3, 10)
    assert at_five == two_proportion_z_test(7, 10, 3, 10)
    assert at_five is not None and at_five.method == "z"
    # 9 successes: the smallest expected cell is 4.5 -> Fisher's exact test.
    below_five = proportion_difference_test(6, 10, 3, 10)
    assert below_five == fisher_exact_test(6, 10, 3, 10)
    assert below_five is not None and below_five.method == "fisher"
    assert proportion_difference_test(1, 0, 2, 3) is None
    assert proportion_difference_test(2, 3, 1, 0) is None


def test_test_result_is_frozen() -> None:
    result = TestResult("z", 1.0, 0.3)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.p_value = 0.1  # type: ignore[misc]


# Multiple testing ------------------------------------------------------------------------------


@pytest.mark.slow  # statsmodels' multipletests takes tens of milliseconds a call
@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.none(), st.floats(0, 1, allow_nan=False)), min_size=0, max_size=15))
def test_corrections_equal_statsmodels(p_values: list[float | None]) -> None:
    from statsmodels.stats.multitest import multipletests  # type: ignore[import-untyped]

    present = [p for p in p_values if p is not None]
    holm, bh = holm_adjust(p_values), benjamini_hochberg_adjust(p_values)
    assert [h is None for h in holm] == [p is None for p in p_values]
    assert [b is None for b in bh] == [p is None for p in p_values]
    if not present:
        return
    expected_holm = multipletests(present, method="holm")[1]
    expected_bh = multipletests(present, method="fdr_bh")[1]
    assert [h for h in holm if h is not None] == pytest.approx(list(expected_holm), abs=1e-12)
    assert [b for b in bh if b is not None] == pytest.approx(list(expected_bh), abs=1e-12)


def test_corrections_hand_computed() -> None:
    # Holm: sorted 0.01, 0.02, 0.04 -> 3·0.01, max(0.03, 2·0.02), max(0.04, 1·0.04).
    assert holm_adjust([0.04, None, 0.01, 0.02]) == pytest.approx([0.04, None, 0.03, 0.04])
    # BH: m·p/rank = 0.03, 0.03, 0.04, then the running minimum from the top.
    assert benjamini_hochberg_adjust([0.04, None, 0.01, 0.02]) == pytest.approx(
        [0.04, None, 0.03, 0.03]
    )
    assert holm_adjust([]) == [] and benjamini_hochberg_adjust([None]) == [None]


@pytest.mark.parametrize("bad", [math.nan, -0.1, 1.5])
def test_corrections_reject_impossible_p_values(bad: float) -> None:
    with pytest.raises(ValueError, match="p-value"):
        holm_adjust([0.1, bad])
    with pytest.raises(ValueError, match="p-value"):
        benjamini_hochberg_adjust([bad])


# Kish ------------------------------------------------------------------------------------------


def test_kish_effective_n() -> None:
    assert kish_effective_n(4.0, 4.0) == 4.0  # four unit weights
    assert kish_effective_n(3.0, 5.0) == pytest.approx(1.8)  # weights 1 and 2: 9 / 5
    assert kish_effective_n(0.0, 0.0) is None
    assert kish_effective_n(1.0, math.nan) is None


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(1e-3, 1e3, allow_nan=False), min_size=1, max_size=50))
def test_kish_effective_n_is_at_most_n_and_equal_weights_give_n(weights: list[float]) -> None:
    import numpy as np

    array = np.asarray(weights)
    effective = kish_effective_n(float(array.sum()), float((array**2).sum()))
    assert effective is not None
    assert 1.0 - 1e-9 <= effective <= len(weights) * (1 + 1e-9)
    uniform = kish_effective_n(len(weights) * 2.5, len(weights) * 6.25)
    assert uniform == pytest.approx(len(weights))
