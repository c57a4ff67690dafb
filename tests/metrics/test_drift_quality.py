"""Drift statistics equal scipy / numpy computations; data-quality checks equal hand counts."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auditkit.data import ColumnRoles, SourceSpec, Workspace, load_dataset
from auditkit.metrics.drift import EPSILON, compute_drift
from auditkit.metrics.quality import QUALITY_CHECKS, compute_data_quality

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"


def load_pair(
    tmp: Path, reference: dict[str, Any], current: dict[str, Any], roles: ColumnRoles | None = None
) -> tuple[Workspace, Any, Any]:
    pq.write_table(pa.table(reference), tmp / "reference.parquet")
    pq.write_table(pa.table(current), tmp / "current.parquet")
    workspace = Workspace()
    roles = roles or ColumnRoles()
    ref = load_dataset(
        workspace,
        "reference",
        SourceSpec(str(tmp / "reference.parquet")),
        roles,
        require_outcomes=False,
    )
    cur = load_dataset(
        workspace,
        "current",
        SourceSpec(str(tmp / "current.parquet")),
        roles,
        require_outcomes=False,
    )
    return workspace, ref, cur


def numpy_psi(reference: np.ndarray, current: np.ndarray, bins: int = 10) -> float:
    """PSI written independently: numpy deciles of the reference, (low, high] bins, epsilon for empties."""
    edges = np.unique(np.quantile(reference, [k / bins for k in range(1, bins)]))

    def shares(values: np.ndarray) -> np.ndarray:
        index = np.searchsorted(edges, values, side="left")
        return np.bincount(index, minlength=len(edges) + 1) / len(values)

    ref, cur = np.maximum(shares(reference), EPSILON), np.maximum(shares(current), EPSILON)
    return float(np.sum((cur - ref) * np.log(cur / ref)))


numbers = st.lists(st.integers(-50, 50), min_size=1, max_size=150)


@pytest.mark.slow
@settings(max_examples=40, deadline=None)
@given(reference=numbers, current=numbers)
def test_numeric_drift_equals_scipy_and_numpy(
    reference: list[int], current: list[int], tmp_path_factory: pytest.TempPathFactory
) -> None:
    from scipy.stats import ks_2samp

    tmp = tmp_path_factory.mktemp("drift")
    workspace, ref, cur = load_pair(
        tmp, {"x": [v / 4 for v in reference]}, {"x": [v / 4 for v in current]}
    )
    feature = compute_drift(workspace, ref, cur).feature("x")
    assert feature is not None
    expected = ks_2samp(np.array(reference) / 4, np.array(current) / 4, method="asymp")
    assert math.isclose(feature.ks or 0.0, expected.statistic, abs_tol=1e-12)
    if math.isnan(expected.pvalue):
        assert feature.ks_p_value is None and feature.reasons["ks_p_value"]
    else:
        assert math.isclose(feature.ks_p_value or 0.0, expected.pvalue, rel_tol=1e-9, abs_tol=1e-12)
    assert math.isclose(
        feature.psi or 0.0,
        numpy_psi(np.array(reference) / 4, np.array(current) / 4),
        rel_tol=1e-9,
        abs_tol=1e-12,
    )
    assert math.isclose(sum(b.reference_share for b in feature.bins), 1.0)


categories = st.lists(st.sampled_from(["a", "b", "c", "d"]), min_size=1, max_size=120)


@pytest.mark.slow
@settings(max_examples=40, deadline=None)
@given(reference=categories, current=categories)
def test_categorical_drift_equals_scipy(
    reference: list[str], current: list[str], tmp_path_factory: pytest.TempPathFactory
) -> None:
    from scipy.spatial.distance import jensenshannon
    from scipy.stats import chi2_contingency

    tmp = tmp_path_factory.mktemp("drift")
    workspace, ref, cur = load_pair(tmp, {"c": reference}, {"c": current})
    feature = compute_drift(workspace, ref, cur).feature("c")
    assert feature is not None
    names = sorted(set(reference) | set(current))
    table = np.array([[reference.count(n) for n in names], [current.count(n) for n in names]])
    p, q = table[0] / table[0].sum(), table[1] / table[1].sum()
    assert math.isclose(
        feature.js_divergence or 0.0, float(jensenshannon(p, q, base=2) ** 2), abs_tol=1e-12
    )
    expected_psi = float(
        np.sum(
            (np.maximum(q, EPSILON) - np.maximum(p, EPSILON))
            * np.log(np.maximum(q, EPSILON) / np.maximum(p, EPSILON))
        )
    )
    assert math.isclose(feature.psi or 0.0, expected_psi, rel_tol=1e-9, abs_tol=1e-12)
    if len(names) >= 2:
        expected = chi2_contingency(table, correction=False)
        assert math.isclose(
            feature.chi_square or 0.0, expected.statistic, rel_tol=1e-9, abs_tol=1e-12
        )
        assert math.isclose(
            feature.chi_square_p_value or 0.0, expected.pvalue, rel_tol=1e-9, abs_tol=1e-12
        )
    else:
        assert feature.chi_square is None and feature.reasons["chi_square"]
    assert set(feature.new_categories) == set(current) - set(reference)
    assert set(feature.vanished_categories) == set(reference) - set(current)


def test_missing_values_form_their_own_bin(tmp_path: Path) -> None:
    workspace, ref, cur = load_pair(
        tmp_path, {"x": [1.0, 2.0, None, 4.0]}, {"x": [None, None, 3.0, 4.0]}
    )
    feature = compute_drift(workspace, ref, cur).feature("x")
    assert feature is not None
    assert feature.reference_missing_rate == 0.25 and feature.current_missing_rate == 0.5
    assert feature.bins[-1].label == "(missing)" and feature.bins[-1].current_share == 0.5


def test_quality_checks_equal_hand_counts(tmp_path: Path) -> None:
    reference = {
        "id": ["a", "b", "c", "d"],
        "x": [1.0, 5.0, 3.0, 2.0],
        "k": ["u", "v", "u", "v"],
        "z": [1, 1, 1, 2],
    }
    current = {
        "id": ["a", "a", "b", "c", "c", "c"],
        "x": [0.5, None, 3.0, 6.0, None, 4.0],
        "k": ["u", "w", "w", "v", None, "u"],
        "z": [7, 7, 7, 7, 7, 7],
        "extra": [1, 2, 3, 4, 5, 6],
    }
    workspace, ref, cur = load_pair(tmp_path, reference, current, ColumnRoles(id="id"))
    report = compute_data_quality(workspace, cur, ref)
    assert report.value("row_count") == 6
    assert report.value("missing_rate", "x") == pytest.approx(2 / 6)
    assert report.value("missing_rate", "k") == pytest.approx(1 / 6)
    assert report.value("constant", "z") == 1 and report.value("constant", "x") == 0
    assert report.value("duplicate_ids") == 5  # a twice, c three times
    assert report.value("out_of_range_rate", "x") == pytest.approx(
        2 / 4
    )  # 0.5 and 6.0 outside [1, 5]
    assert report.value("new_category_rate", "k") == pytest.approx(2 / 6)  # two 'w'
    assert (
        report.value("schema_changes") == 1
        and "added extra" in report.of("schema_changes")[0].detail
    )
    assert {check.check for check in report.checks} <= set(QUALITY_CHECKS)


@pytest.mark.shared_data
def test_adult_train_and_test_barely_drift(tmp_path: Path) -> None:
    if not (SHARED / "uci_adult.data").exists():
        pytest.skip("../shared/data is not present beside the repository")
    names = [
        "age",
        "workclass",
        "fnlwgt",
        "education",
        "education_num",
        "marital_status",
        "occupation",
        "relationship",
        "race",
        "sex",
        "capital_gain",
        "capital_loss",
        "hours_per_week",
        "native_country",
        "income",
    ]
    workspace = Workspace()
    for name, file, skip in (("reference", "uci_adult.data", 0), ("current", "uci_adult.test", 1)):
        # UCI's files: no header, ", " separators, "?" for missing, a junk first line in the test file.
        workspace.connection.execute(
            f"COPY (SELECT * FROM read_csv('{SHARED / file}', header=false, skip={skip}, names={names}, "
            f"nullstr='?', delim=',')) TO '{tmp_path / name}.parquet'"
        )
    ref = load_dataset(
        workspace,
        "reference",
        SourceSpec(str(tmp_path / "reference.parquet")),
        ColumnRoles(),
        require_outcomes=False,
    )
    cur = load_dataset(
        workspace,
        "current",
        SourceSpec(str(tmp_path / "current.parquet")),
        ColumnRoles(),
        require_outcomes=False,
    )
    report = compute_drift(
        workspace, ref, cur, columns=["age", "education", "hours_per_week", "income"]
    )
    assert report.reference_rows == 32561 and report.current_rows == 16281
    for column in ("age", "education", "hours_per_week"):
        feature = report.feature(column)
        assert feature is not None and (feature.psi or 0) < 0.1, column
    income = report.feature("income")
    assert income is not None and set(income.new_categories) == {" <=50K.", " >50K."}, (
        "the test file spells labels with a dot"
    )
