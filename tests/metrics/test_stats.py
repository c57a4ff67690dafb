"""Statistics against statsmodels, scipy and published worked examples."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auditkit.metrics.stats import (
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


def test_normal_quantile() -> None:
    assert z_for_confidence(0.95) == pytest.approx(1.959963984540054, abs=1e-12)
    assert z_for_confidence(0.99) == pytest.approx(2.5758293035489, abs=1e-12)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 500), st.integers(1, 500), st.sampled_from([0.8, 0.9, 0.95, 0.99]))
def test_wilson_equals_statsmodels(successes: int, trials: int, confidence: float) -> None:
    from statsmodels.stats.proportion import proportion_confint

    successes = min(successes, trials)
    low, high = proportion_confint(successes, trials, alpha=1 - confidence, method="wilson")
    ours = wilson_interval(successes, trials, confidence)
    assert ours is not None
    assert ours[0] == pytest.approx(low, abs=1e-12) and ours[1] == pytest.approx(high, abs=1e-12)
    assert ours[0] <= successes / trials <= ours[1]


def test_wilson_without_trials_is_undefined() -> None:
    assert wilson_interval(0, 0) is None


def test_newcombe_published_examples() -> None:
    # Newcombe (1998), Statistics in Medicine 17:873-890, Table II, method 10 (hybrid score):
    # 56/70 - 48/80 -> 0.0524 to 0.3339; 9/10 - 3/10 -> 0.1705 to 0.8090.
    low, high = newcombe_difference_interval(56, 70, 48, 80)  # type: ignore[misc]
    assert (round(low, 4), round(high, 4)) == (0.0524, 0.3339)
    low, high = newcombe_difference_interval(9, 10, 3, 10)  # type: ignore[misc]
    assert (round(low, 4), round(high, 4)) == (0.1705, 0.8090)


def test_katz_equals_statsmodels_risk_ratio_interval() -> None:
    from statsmodels.stats.contingency_tables import Table2x2

    for x1, n1, x2, n2 in [(30, 100, 20, 100), (805, 1795, 349, 1488), (3, 31, 12, 40)]:
        table = Table2x2([[x1, n1 - x1], [x2, n2 - x2]])
        low, high = table.riskratio_confint(alpha=0.05)
        ours = katz_ratio_interval(x1, n1, x2, n2)
        assert ours is not None
        assert ours[0] == pytest.approx(low, rel=1e-10) and ours[1] == pytest.approx(
            high, rel=1e-10
        )


def test_katz_zero_cells() -> None:
    assert katz_ratio_interval(0, 10, 0, 12) is None, "0/0 has no ratio"
    low, high = katz_ratio_interval(0, 10, 5, 12)  # type: ignore[misc]
    assert 0 < low < high and math.isfinite(high)
    assert katz_ratio_interval(3, 0, 5, 12) is None


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 80), st.integers(1, 80), st.integers(0, 80), st.integers(1, 80))
def test_newcombe_contains_the_difference_and_stays_in_range(
    x1: int, n1: int, x2: int, n2: int
) -> None:
    x1, x2 = min(x1, n1), min(x2, n2)
    interval = newcombe_difference_interval(x1, n1, x2, n2)
    assert interval is not None
    low, high = interval
    assert -1.0 <= low <= x1 / n1 - x2 / n2 + 1e-12 and x1 / n1 - x2 / n2 - 1e-12 <= high <= 1.0
    wider = newcombe_difference_interval(x1, n1, x2, n2, 0.99)
    assert wider is not None and wider[0] <= low + 1e-12 and wider[1] >= high - 1e-12


def test_z_test_equals_statsmodels() -> None:
    from statsmodels.stats.proportion import proportions_ztest

    for x1, n1, x2, n2 in [(805, 1795, 349, 1488), (30, 100, 20, 100), (45, 60, 30, 61)]:
        statistic, p_value = proportions_ztest([x1, x2], [n1, n2])
        ours = two_proportion_z_test(x1, n1, x2, n2)
        assert ours is not None and ours.method == "z"
        assert ours.statistic == pytest.approx(statistic, rel=1e-10)
        assert ours.p_value == pytest.approx(p_value, rel=1e-9, abs=1e-300)


def test_fisher_for_small_expected_counts() -> None:
    from scipy.stats import fisher_exact

    result = proportion_difference_test(1, 8, 6, 9)
    assert result is not None and result.method == "fisher"
    assert result.p_value == pytest.approx(fisher_exact([[1, 7], [6, 3]]).pvalue, rel=1e-12)
    assert fisher_exact_test(1, 8, 6, 9).p_value == result.p_value
    large = proportion_difference_test(300, 1000, 250, 1000)
    assert large is not None and large.method == "z"
    assert proportion_difference_test(1, 0, 2, 3) is None


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.none(), st.floats(0, 1, allow_nan=False)), min_size=1, max_size=12))
def test_corrections_equal_statsmodels(p_values: list[float | None]) -> None:
    from statsmodels.stats.multitest import multipletests

    present = [p for p in p_values if p is not None]
    holm, bh = holm_adjust(p_values), benjamini_hochberg_adjust(p_values)
    assert [h is None for h in holm] == [p is None for p in p_values]
    if not present:
        return
    expected_holm = multipletests(present, method="holm")[1]
    expected_bh = multipletests(present, method="fdr_bh")[1]
    assert [h for h in holm if h is not None] == pytest.approx(list(expected_holm), abs=1e-12)
    assert [b for b in bh if b is not None] == pytest.approx(list(expected_bh), abs=1e-12)


def test_kish_effective_n() -> None:
    assert kish_effective_n(4.0, 4.0) == 4.0  # four unit weights
    assert kish_effective_n(3.0, 5.0) == pytest.approx(1.8)  # weights 1 and 2
    assert kish_effective_n(0.0, 0.0) is None
