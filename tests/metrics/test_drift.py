"""Drift statistics against independent oracles: scipy's KS and chi-square, scipy's Jensen–Shannon,
PSI written out with numpy, and hand computation."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditkit.data import ColumnRoles, Dataset, SourceSpec, Workspace, load_dataset
from auditkit.errors import InputError, UsageError
from auditkit.metrics import drift
from auditkit.metrics.drift import (
    EPSILON,
    MAX_CATEGORIES,
    MISSING,
    SHOWN_CATEGORIES,
    DriftReport,
    FeatureDrift,
    compute_drift,
    is_numeric_type,
)
from tests.shared_datasets import ADULT_COLUMNS, SHARED_DATA

HYPOTHESIS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def load_pair(
    folder: Path,
    reference: pa.Table | dict[str, Any],
    current: pa.Table | dict[str, Any],
    roles: ColumnRoles | None = None,
) -> tuple[Workspace, Dataset, Dataset]:
    """Write both tables as Parquet and register them as ``reference`` and ``current``."""
    workspace = Workspace()
    datasets = []
    for name, table in (("reference", reference), ("current", current)):
        path = folder / f"{name}.parquet"
        pq.write_table(table if isinstance(table, pa.Table) else pa.table(table), path)
        datasets.append(
            load_dataset(
                workspace,
                name,
                SourceSpec(str(path)),
                roles or ColumnRoles(),
                require_decisions=False,
            )
        )
    return workspace, datasets[0], datasets[1]


def drift_of(
    folder: Path, reference: Any, current: Any, column: str, **options: Any
) -> FeatureDrift:
    workspace, ref, cur = load_pair(folder, reference, current)
    feature = compute_drift(workspace, ref, cur, columns=[column], **options).feature(column)
    assert feature is not None
    return feature


def psi_by_hand(reference_shares: Sequence[float], current_shares: Sequence[float]) -> float:
    """The documented PSI: a share of exactly zero counts as EPSILON in both factors."""
    ref = np.where(np.asarray(reference_shares) == 0, EPSILON, reference_shares)
    cur = np.where(np.asarray(current_shares) == 0, EPSILON, current_shares)
    return float(np.sum((cur - ref) * np.log(cur / ref)))


def exact_quantiles(values: Sequence[float], bins: int) -> list[float]:
    """numpy's "linear" quantiles at 1/bins ... (bins-1)/bins, in exact fractions, rounded once."""
    ordered = sorted(values)
    edges = []
    for k in range(1, bins):
        position = Fraction((len(ordered) - 1) * k, bins)
        j = math.floor(position)
        low, high = Fraction(ordered[j]), Fraction(ordered[min(j + 1, len(ordered) - 1)])
        edges.append(float(low + (high - low) * (position - j)))
    return edges


def quantile_bin_shares(
    reference: np.ndarray, current: np.ndarray, bins: int = 10
) -> tuple[np.ndarray, np.ndarray]:
    """Shares of each dataset in bins cut at the reference quantiles, missing last."""
    present = reference[~np.isnan(reference)]
    edges = np.unique(exact_quantiles(present.tolist(), bins)) if len(present) else np.array([])
    if len(present):  # the same cuts as numpy's, but for numpy's last bits of rounding
        levels = [k / bins for k in range(1, bins)]
        scale = float(np.abs(present).max())
        assert np.allclose(
            exact_quantiles(present.tolist(), bins),
            np.quantile(present, levels),
            rtol=1e-12,
            atol=1e-12 * scale,
        )

    def shares(values: np.ndarray) -> np.ndarray:
        missing = np.isnan(values)
        # searchsorted(side="left") counts the edges strictly below a value: bins are (low, high].
        index = np.searchsorted(edges, values[~missing], side="left")
        counts = np.bincount(index, minlength=len(edges) + 1).astype(float)
        return np.append(counts, missing.sum()) / len(values)

    ref, cur = shares(reference), shares(current)
    if ref[-1] == 0 and cur[-1] == 0:  # the missing bin exists only when some value is missing
        ref, cur = ref[:-1], cur[:-1]
    return ref, cur


# Numeric columns: KS and PSI -------------------------------------------------------------------

tied_values = st.lists(
    st.one_of(st.integers(-40, 40).map(lambda v: v / 4), st.sampled_from([-0.0, 0.0])),
    min_size=1,
    max_size=120,
)
spread_values = st.lists(
    st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False, width=64), min_size=1, max_size=80
)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")  # scipy's, for 1 x 1 samples
@HYPOTHESIS
@given(
    reference=st.one_of(tied_values, spread_values),
    current=st.one_of(tied_values, spread_values),
    grouped=st.booleans(),
)
def test_ks_equals_scipy_ks_2samp(
    reference: list[float],
    current: list[float],
    grouped: bool,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from scipy.stats import ks_2samp

    # Both ways of computing the exact statistic: counting per value first, or sorting the rows.
    monkeypatch.setattr(drift, "_GROUPED_KS_MAX_DISTINCT_SHARE", 1.0 if grouped else 0.0)
    feature = drift_of(tmp_path, {"x": reference}, {"x": current}, "x")
    expected = ks_2samp(reference, current, method="asymp")
    assert feature.ks is not None
    assert abs(feature.ks - float(expected.statistic)) <= 1e-12
    if math.isnan(expected.pvalue):
        assert feature.ks_p_value is None and "few values" in feature.reasons["ks_p_value"]
    else:
        assert feature.ks_p_value == pytest.approx(float(expected.pvalue), rel=1e-9, abs=1e-12)


def column_table(values: Sequence[float | None], arrow_type: pa.DataType) -> pa.Table:
    return pa.table({"x": pa.array(values, arrow_type)})


def float_array(values: Sequence[float | None]) -> np.ndarray:
    return np.array([np.nan if value is None else value for value in values], dtype=float)


integers_or_missing = st.lists(st.one_of(st.none(), st.integers(-5, 35)), min_size=1, max_size=150)
floats_or_missing = st.lists(
    st.one_of(st.none(), st.floats(-1e3, 1e3, allow_nan=False)), min_size=1, max_size=100
)


@pytest.mark.slow
@HYPOTHESIS
@given(
    data=st.one_of(
        st.tuples(integers_or_missing, integers_or_missing, st.just(pa.int64())),
        st.tuples(floats_or_missing, floats_or_missing, st.just(pa.float64())),
    ),
    bins=st.sampled_from([1, 2, 4, 10]),
)
def test_psi_equals_numpy_on_reference_quantile_bins(
    data: tuple[list[float | None], list[float | None], pa.DataType], bins: int, tmp_path: Path
) -> None:
    reference, current, arrow_type = data
    feature = drift_of(
        tmp_path,
        column_table(reference, arrow_type),
        column_table(current, arrow_type),
        "x",
        bins=bins,
    )
    ref_shares, cur_shares = quantile_bin_shares(float_array(reference), float_array(current), bins)
    if bins == 1 or all(v is None for v in reference):
        # No reference quantiles: one bin of values, plus the missing bin when there is one.
        assert feature.bins[0].label == "all values" and len(feature.bins) <= 2
    assert [b.reference_share for b in feature.bins] == pytest.approx(list(ref_shares))
    assert [b.current_share for b in feature.bins] == pytest.approx(list(cur_shares))
    assert feature.psi == pytest.approx(psi_by_hand(ref_shares, cur_shares), rel=1e-9, abs=1e-12)
    assert feature.reference_missing_rate == pytest.approx(reference.count(None) / len(reference))
    assert feature.current_missing_rate == pytest.approx(current.count(None) / len(current))


def test_psi_by_hand_on_deciles_of_one_to_ten(tmp_path: Path) -> None:
    # Deciles of 1..10 (linear interpolation) are 1.9, 2.8, ..., 9.1: one value per bin.
    feature = drift_of(tmp_path, {"x": list(range(1, 11))}, {"x": [1, 1, 1, 10]}, "x")
    assert [b.label for b in feature.bins][:2] == ["≤ 1.9", "(1.9, 2.8]"]
    assert [b.label for b in feature.bins][-1] == "> 9.1"
    reference, current = [0.1] * 10, [0.75] + [0.0] * 8 + [0.25]
    expected = (0.75 - 0.1) * math.log(0.75 / 0.1) + (0.25 - 0.1) * math.log(0.25 / 0.1)
    expected += 8 * (EPSILON - 0.1) * math.log(EPSILON / 0.1)
    assert feature.psi == pytest.approx(expected, rel=1e-12)
    assert feature.psi == pytest.approx(psi_by_hand(reference, current), rel=1e-12)
    assert feature.reasons == {}


def test_a_quantile_that_is_a_data_value_is_exactly_that_value(tmp_path: Path) -> None:
    # The 0.7 quantile of [1, 11] is 1 + 0.7 * 10 = 8; computed as 1 * 0.3 + 11 * 0.7 in floating
    # point it would be 7.999999999999999, and 8 would fall into the bin above "(7, 8]".
    feature = drift_of(tmp_path, {"x": [1, 11]}, {"x": [8]}, "x")
    assert feature.bins[6].label == "(7, 8]" and feature.bins[6].current_share == 1.0


def test_psi_replaces_only_zero_shares_by_epsilon(tmp_path: Path) -> None:
    # 1 value in 20000 (a share of 5e-5, below EPSILON but not zero) is kept as it is.
    reference = {"x": np.arange(10_000, dtype=float)}
    current = {"x": np.array([0.0] * 19_999 + [9_999.0])}
    feature = drift_of(tmp_path, reference, current, "x")
    shares = [0.99995] + [0.0] * 8 + [0.00005]
    assert [b.current_share for b in feature.bins] == pytest.approx(shares)
    assert feature.psi == pytest.approx(psi_by_hand([0.1] * 10, shares), rel=1e-12)
    floored = np.maximum(shares, EPSILON)  # the rule PSI must NOT use: flooring every small share
    assert feature.psi != pytest.approx(psi_by_hand([0.1] * 10, floored), rel=1e-6)


def test_identical_data_has_no_drift(tmp_path: Path) -> None:
    values = {"x": [3.5, 1.0, 2.0, 2.0, None, 8.0], "c": ["a", "b", "b", None, "c", "a"]}
    workspace, ref, cur = load_pair(tmp_path, values, values)
    report = compute_drift(workspace, ref, cur)
    x, c = report.feature("x"), report.feature("c")
    assert x is not None and c is not None
    assert x.psi == 0.0 and x.ks == 0.0 and x.ks_p_value == 1.0
    assert c.psi == 0.0 and c.js_divergence == 0.0 and c.chi_square_p_value == pytest.approx(1.0)


def test_nan_counts_as_missing_and_infinity_as_a_value(tmp_path: Path) -> None:
    from scipy.stats import ks_2samp

    inf = math.inf
    reference = [inf, inf, inf, inf, inf, inf, -inf, 1.0, 2.0, math.nan, None, 3.0]
    current = [inf, 0.5, 2.0, 2.5, math.nan, math.nan, -inf, 7.0]
    feature = drift_of(tmp_path, {"x": reference}, {"x": current}, "x")
    finite_ref = [v for v in reference if v is not None and not math.isnan(v)]
    finite_cur = [v for v in current if not math.isnan(v)]
    assert feature.ks == pytest.approx(float(ks_2samp(finite_ref, finite_cur).statistic), abs=1e-12)
    assert feature.reference_missing_rate == pytest.approx(2 / 12)
    assert feature.current_missing_rate == pytest.approx(2 / 8)
    assert feature.bins[-1].label == MISSING
    assert sum(b.reference_share for b in feature.bins) == pytest.approx(1.0)
    json.dumps(feature.to_dict(), allow_nan=False)


def test_nan_in_a_parquet_file_counts_as_missing(tmp_path: Path) -> None:
    # pyarrow writes min/max statistics without the NaN; DuckDB must still see the NaN row.
    reference = pa.table({"x": pa.array([math.nan, 0.0], pa.float64())})
    feature = drift_of(tmp_path, reference, {"x": [0.0, 1.0]}, "x")
    assert feature.reference_missing_rate == 0.5 and feature.current_missing_rate == 0.0
    assert feature.ks == 0.5  # F_ref jumps to 1 at 0.0, F_cur to 0.5


def test_integer_decimal_and_float_columns_are_numeric(tmp_path: Path) -> None:
    from decimal import Decimal

    from scipy.stats import ks_2samp

    reference = pa.table(
        {
            "i": pa.array([1, 2, 3, 4, 5, 6], pa.int8()),
            "d": pa.array(
                [Decimal("1.25"), Decimal("2.50"), Decimal("2.50")] * 2, pa.decimal128(9, 2)
            ),
            "f": pa.array([0.5, 1.5, 2.5, 3.5, 4.5, 5.5], pa.float32()),
        }
    )
    current = pa.table(
        {
            "i": pa.array([4, 5, 6, 7, 8, 9], pa.int64()),
            "d": pa.array([Decimal("2.50"), Decimal("3.75")] * 3, pa.decimal128(9, 2)),
            "f": pa.array([1.5, 1.5, 1.5, 9.5, 9.5, 9.5], pa.float32()),
        }
    )
    workspace, ref, cur = load_pair(tmp_path, reference, current)
    report = compute_drift(workspace, ref, cur)
    for column in ("i", "d", "f"):
        feature = report.feature(column)
        assert feature is not None and feature.kind == "numeric"
        expected = ks_2samp(
            reference[column].to_numpy().astype(float), current[column].to_numpy().astype(float)
        )
        assert feature.ks == pytest.approx(float(expected.statistic), abs=1e-12)


def test_numeric_type_names() -> None:
    for numeric in ("INTEGER", "BIGINT", "UBIGINT", "HUGEINT", "DOUBLE", "FLOAT", "DECIMAL(9,2)"):
        assert is_numeric_type(numeric), numeric
    for other in (
        "VARCHAR",
        "BOOLEAN",
        "DATE",
        "TIMESTAMP",
        "DOUBLE[]",
        "INTEGER[3]",
        "STRUCT(a INTEGER)",
    ):
        assert not is_numeric_type(other), other


def test_empty_current_data_gives_reasons_not_errors(tmp_path: Path) -> None:
    reference = {"x": [1.0, 2.0, 3.0], "c": ["a", "b", "a"]}
    current = pa.table({"x": pa.array([], pa.float64()), "c": pa.array([], pa.string())})
    workspace, ref, cur = load_pair(tmp_path, reference, current)
    report = compute_drift(workspace, ref, cur)
    assert (report.reference_rows, report.current_rows) == (3, 0)
    x, c = report.feature("x"), report.feature("c")
    assert x is not None and c is not None
    assert x.psi is None and x.ks is None and x.ks_p_value is None
    assert {"psi", "ks", "ks_p_value"} <= set(x.reasons)
    assert c.psi is None and c.js_divergence is None and c.chi_square is None
    assert {"psi", "js_divergence", "chi_square", "chi_square_p_value"} <= set(c.reasons)
    json.dumps(report.to_dict(), allow_nan=False)


# Categorical columns ----------------------------------------------------------------------------

category_lists = st.lists(st.one_of(st.none(), st.sampled_from("abcde")), min_size=1, max_size=120)


@pytest.mark.slow
@HYPOTHESIS
@given(reference=category_lists, current=category_lists)
def test_categorical_drift_equals_scipy(
    reference: list[str | None], current: list[str | None], tmp_path: Path
) -> None:
    from scipy.spatial.distance import jensenshannon
    from scipy.stats import chi2_contingency

    feature = drift_of(tmp_path, {"c": reference}, {"c": current}, "c")
    present = sorted({v for v in [*reference, *current] if v is not None})
    categories = present + ([None] if None in reference or None in current else [])
    table = np.array([[side.count(v) for v in categories] for side in (reference, current)])
    p, q = table[0] / table[0].sum(), table[1] / table[1].sum()
    assert [b.label for b in feature.bins] == [MISSING if v is None else v for v in categories]
    assert feature.js_divergence == pytest.approx(
        float(jensenshannon(p, q, base=2)) ** 2, abs=1e-12
    )
    assert feature.psi == pytest.approx(psi_by_hand(p, q), rel=1e-9, abs=1e-12)
    if len(categories) >= 2:
        expected = chi2_contingency(table)  # scipy's default: Yates' correction only for 2 x 2
        assert feature.chi_square == pytest.approx(float(expected.statistic), rel=1e-9, abs=1e-12)
        assert feature.chi_square_p_value == pytest.approx(
            float(expected.pvalue), rel=1e-9, abs=1e-12
        )
    else:
        assert feature.chi_square is None and "two categories" in feature.reasons["chi_square"]
    assert set(feature.new_categories) == set(current) - set(reference) - {None}
    assert set(feature.vanished_categories) == set(reference) - set(current) - {None}
    assert feature.new_category_count == len(feature.new_categories)
    assert feature.reference_missing_rate == pytest.approx(reference.count(None) / len(reference))


def test_yates_correction_applies_to_two_by_two_tables_only(tmp_path: Path) -> None:
    # Two categories: chi2 = sum((|O - E| - 0.5)^2 / E) by hand.
    feature = drift_of(
        tmp_path, {"c": ["a"] * 30 + ["b"] * 10}, {"c": ["a"] * 10 + ["b"] * 10}, "c"
    )
    observed = [[30, 10], [10, 10]]
    expected = [[40 * 40 / 60, 40 * 20 / 60], [20 * 40 / 60, 20 * 20 / 60]]
    yates = sum(
        (abs(observed[r][k] - expected[r][k]) - 0.5) ** 2 / expected[r][k]
        for r in range(2)
        for k in range(2)
    )
    assert feature.chi_square == pytest.approx(yates, rel=1e-12)
    # Three categories: the plain Pearson statistic.
    feature = drift_of(tmp_path, {"c": list("aaab")}, {"c": list("abcc")}, "c")
    observed = [[3, 1, 0], [1, 1, 2]]
    rows, cols = [4, 4], [4, 2, 2]
    pearson = sum(
        (observed[r][k] - rows[r] * cols[k] / 8) ** 2 / (rows[r] * cols[k] / 8)
        for r in range(2)
        for k in range(3)
    )
    assert feature.chi_square == pytest.approx(pearson, rel=1e-12)


def test_js_divergence_is_one_bit_for_disjoint_categories(tmp_path: Path) -> None:
    feature = drift_of(tmp_path, {"c": ["a", "b"]}, {"c": ["x", "y", "y"]}, "c")
    assert feature.js_divergence == pytest.approx(1.0)
    assert feature.new_categories == ("x", "y") and feature.vanished_categories == ("a", "b")


def test_boolean_date_and_list_columns_are_categorical(tmp_path: Path) -> None:
    import datetime

    day = datetime.date(2024, 1, 1)
    reference = pa.table(
        {
            "flag": [True, False, True],
            "day": [day, day, day],
            "tags": pa.array([[1.0], [2.0], [1.0]], pa.list_(pa.float64())),
        }
    )
    current = pa.table(
        {
            "flag": [True, True, True],
            "day": [day, day, datetime.date(2024, 2, 1)],
            "tags": pa.array([[1.0], [3.0], [1.0]], pa.list_(pa.float64())),
        }
    )
    workspace, ref, cur = load_pair(tmp_path, reference, current)
    report = compute_drift(workspace, ref, cur)
    assert [f.kind for f in report.features] == ["categorical"] * 3
    flag, day_drift, tags = (report.feature(name) for name in ("flag", "day", "tags"))
    assert flag is not None and flag.vanished_categories == ("false",)
    assert day_drift is not None and day_drift.new_categories == ("2024-02-01",)
    assert tags is not None and tags.new_categories == ("[3.0]",)


def test_time_zone_aware_timestamps_are_categories(tmp_path: Path) -> None:
    import datetime

    utc = datetime.UTC
    first, second = (
        datetime.datetime(2024, 5, 1, tzinfo=utc),
        datetime.datetime(2024, 6, 1, tzinfo=utc),
    )
    aware = pa.timestamp("us", tz="UTC")  # DuckDB's TIMESTAMPTZ
    reference, current = pa.array([first, first], aware), pa.array([first, second], aware)
    feature = drift_of(tmp_path, {"at": reference}, {"at": current}, "at")
    assert feature.kind == "categorical" and feature.new_category_count == 1
    assert feature.js_divergence is not None and feature.js_divergence > 0


def test_a_column_numeric_on_one_side_only_is_compared_as_text(tmp_path: Path) -> None:
    reference = {"code": pa.array([1, 2, 2], pa.int32())}
    current = {"code": pa.array(["1", "2", "X"], pa.string())}
    feature = drift_of(tmp_path, reference, current, "code")
    assert feature.kind == "categorical" and feature.new_categories == ("X",)


def test_high_cardinality_columns_get_counts_but_no_distribution(tmp_path: Path) -> None:
    count = MAX_CATEGORIES + 50
    reference = {"key": [f"k{i:04d}" for i in range(count)]}
    current = {"key": [f"k{i:04d}" for i in range(30, count + 40)]}  # 40 new, 30 vanished
    feature = drift_of(tmp_path, reference, current, "key")
    assert feature.psi is None and feature.chi_square is None and feature.js_divergence is None
    assert str(count + 40) in feature.reasons["psi"]
    assert feature.new_category_count == 40 and feature.vanished_category_count == 30
    assert feature.new_categories == tuple(
        f"k{i:04d}" for i in range(count, count + SHOWN_CATEGORIES)
    )
    assert feature.vanished_categories == tuple(f"k{i:04d}" for i in range(SHOWN_CATEGORIES))
    assert feature.bins == ()


def test_a_real_category_named_like_the_missing_bin_stays_apart(tmp_path: Path) -> None:
    feature = drift_of(tmp_path, {"c": [MISSING, None, "a"]}, {"c": [MISSING, "a", "a"]}, "c")
    # Sorted by name, missing last: the category "(missing)" and then the missing values.
    assert [(b.label, b.reference_share, b.current_share) for b in feature.bins] == [
        (MISSING, 1 / 3, 1 / 3),
        ("a", 1 / 3, 2 / 3),
        (MISSING, 1 / 3, 0.0),
    ]
    assert feature.reference_missing_rate == pytest.approx(1 / 3)
    assert feature.current_missing_rate == 0.0


# Many columns at once, column selection, output ------------------------------------------------


def test_more_than_64_columns_each_equal_their_own_computation(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    reference = {f"n{i}": rng.normal(0, 1, 200).round(2) for i in range(70)}
    reference |= {f"c{i}": rng.choice(list("abcd"), 200) for i in range(70)}
    current = {f"n{i}": rng.normal(i / 70, 1, 150).round(2) for i in range(70)}
    current |= {f"c{i}": rng.choice(list("abce"), 150) for i in range(70)}
    workspace, ref, cur = load_pair(tmp_path, reference, current)
    wide = compute_drift(workspace, ref, cur)
    assert len(wide.features) == 140
    for column in ("n0", "n69", "c0", "c69"):
        alone = compute_drift(workspace, ref, cur, columns=[column]).feature(column)
        assert wide.feature(column) == alone


def test_default_columns_are_the_shared_features(tmp_path: Path) -> None:
    roles = ColumnRoles(label="y", prediction="p", id="id", sensitive=("sex",))
    reference = {
        "id": [1, 2],
        "y": [0, 1],
        "p": [1, 1],
        "sex": ["f", "m"],
        "a": [1, 2],
        "b": [3, 4],
    }
    current = {"id": [3, 4], "y": [0, 1], "p": [0, 1], "sex": ["f", "f"], "a": [1, 5], "z": [0, 0]}
    workspace, ref, cur = load_pair(tmp_path, reference, current, roles)
    assert [f.column for f in compute_drift(workspace, ref, cur).features] == ["a"]
    chosen = compute_drift(workspace, ref, cur, columns=["sex", "b", "a", "sex"])
    assert [f.column for f in chosen.features] == ["sex", "b", "a"]
    b = chosen.feature("b")
    assert b is not None and b.psi is None and b.kind == "numeric"
    assert "current data has no column 'b'" in b.reasons["psi"]
    with pytest.raises(InputError, match="did you mean 'sex'"):
        compute_drift(workspace, ref, cur, columns=["sexx"])
    with pytest.raises(UsageError):
        compute_drift(workspace, ref, cur, bins=0)
    assert compute_drift(workspace, ref, cur, columns=[]).features == ()


def test_report_to_dict_is_strict_json(tmp_path: Path) -> None:
    workspace, ref, cur = load_pair(
        tmp_path,
        {"x": [1.0, None, 3.0], "c": ["a", "b", None]},
        {"x": [2.0, 2.0, 9.0], "c": ["a", "z", "z"]},
    )
    report = compute_drift(workspace, ref, cur, bins=4)
    document = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    assert document["psi_epsilon"] == EPSILON and document["bins"] == 4
    assert [f["column"] for f in document["features"]] == ["x", "c"]
    c = document["features"][1]
    assert c["new_categories"] == ["z"] and c["bins"][-1]["label"] == MISSING
    assert isinstance(report, DriftReport)
    x = report.feature("x")
    assert x is not None and x.statistic("psi") == x.psi and x.statistic("ks") == x.ks
    assert x.statistic("chi_square") is None and x.statistic("column") is None


# Real data: the UCI Adult training and test files ---------------------------------------------


def register_adult(workspace: Workspace, folder: Path) -> tuple[Dataset, Dataset]:
    """Clean both UCI files in DuckDB's CSV reader and register them as reference and current."""
    datasets = []
    for name, file, skip in (("reference", "uci_adult.data", 0), ("current", "uci_adult.test", 1)):
        source = (SHARED_DATA / file).resolve()
        target = folder / f"{name}.parquet"
        # No header, ", " between fields, "?" for missing, a junk first line in the test file, and
        # test labels written with a trailing ".".
        workspace.connection.execute(
            f"COPY (SELECT * REPLACE (rtrim(income, '.') AS income) FROM read_csv('{source}', "
            f"header = false, skip = {skip}, delim = ', ', nullstr = '?', names = {ADULT_COLUMNS})) "
            f"TO '{target}' (FORMAT parquet)"
        )
        datasets.append(
            load_dataset(
                workspace, name, SourceSpec(str(target)), ColumnRoles(), require_decisions=False
            )
        )
    return datasets[0], datasets[1]


def read_adult_with_pandas(file: str) -> Any:
    import pandas as pd

    frame = pd.read_csv(
        SHARED_DATA / file,
        header=None,
        names=ADULT_COLUMNS,
        skipinitialspace=True,
        na_values="?",
        skiprows=1 if file.endswith(".test") else 0,
    )
    frame["income"] = frame["income"].str.rstrip(".")
    return frame


@pytest.mark.shared_data
def test_uci_adult_train_and_test_barely_drift(tmp_path: Path) -> None:
    if not (SHARED_DATA / "uci_adult.data").exists():
        pytest.skip(f"the shared datasets are not present at {SHARED_DATA}")
    from scipy.stats import chi2_contingency, ks_2samp

    workspace = Workspace()
    reference, current = register_adult(workspace, tmp_path)
    report = compute_drift(workspace, reference, current)
    assert (report.reference_rows, report.current_rows) == (32561, 16281)
    assert len(report.features) == len(ADULT_COLUMNS)
    for column in ("age", "education", "hours_per_week", "sex", "race"):
        feature = report.feature(column)
        assert feature is not None and feature.psi is not None and feature.psi < 0.1, column
    income = report.feature("income")
    assert income is not None and income.new_categories == () and (income.psi or 1) < 0.01

    train, test = read_adult_with_pandas("uci_adult.data"), read_adult_with_pandas("uci_adult.test")
    age = report.feature("age")
    assert age is not None
    expected = ks_2samp(train["age"], test["age"], method="asymp")
    assert age.ks == pytest.approx(float(expected.statistic), abs=1e-12)
    assert age.ks_p_value == pytest.approx(float(expected.pvalue), rel=1e-9)
    workclass = report.feature("workclass")
    assert workclass is not None
    counts = (
        train["workclass"]
        .fillna(MISSING)
        .value_counts()
        .to_frame("reference")
        .join(test["workclass"].fillna(MISSING).value_counts().to_frame("current"), how="outer")
        .fillna(0)
    )
    chi2 = chi2_contingency(counts.to_numpy().T)
    assert workclass.chi_square == pytest.approx(float(chi2.statistic), rel=1e-9)
    assert workclass.reference_missing_rate == pytest.approx(train["workclass"].isna().mean())
    country = report.feature("native_country")
    assert country is not None
    assert set(country.vanished_categories) == set(train["native_country"].dropna()) - set(
        test["native_country"].dropna()
    )
