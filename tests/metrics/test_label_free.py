"""Metrics of data without a label column (decisions only), checked against pandas on the rows and
against the same data audited with its label.

Ricci v. DeStefano (``fc_ricci.csv``): 118 New Haven firefighters' promotion exams, a pass when the
combined score is at least 70; the file records no outcome, only the exam.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import pandas as pd
import pytest

from auditkit.data.datasets import ColumnRoles, Dataset, load_dataset
from auditkit.data.sources import SourceSpec
from auditkit.data.workspace import Workspace
from auditkit.metrics import aggregate, compute_metrics
from auditkit.metrics.registry import (
    CELLS,
    FAIRNESS_METRICS,
    METRICS,
    NO_LABEL_REASON,
    label_free_keys,
)
from auditkit.metrics.result import MetricReport
from tests.shared_datasets import SAMPLE_DATA, SHARED_DATA

pytestmark = pytest.mark.skipif(
    not SHARED_DATA.is_dir(), reason=f"real datasets not available: {SHARED_DATA} is not a folder"
)


RICCI = SHARED_DATA / "fc_ricci.csv"
PASS_MARK = 70
UNKNOWN = "(missing)"
RICCI_ROLES = ColumnRoles(score="Combine", threshold=PASS_MARK, sensitive=("Race", "Position"))


def ricci_frame() -> pd.DataFrame:
    frame = pd.read_csv(RICCI)
    frame["passed"] = (frame["Combine"] >= PASS_MARK).astype(int)
    return frame


def load(workspace: Workspace, path: str, roles: ColumnRoles) -> Dataset:
    return load_dataset(workspace, "current", SourceSpec.parse(path), roles)


@pytest.fixture(scope="module")
def ricci() -> MetricReport:
    workspace = Workspace()
    dataset = load(workspace, str(RICCI), RICCI_ROLES)
    return compute_metrics(workspace, dataset, by=[("Race",), ("Position", "Race")])


def test_selection_and_scoring_rates_and_impact_ratios_match_pandas(ricci: MetricReport) -> None:
    frame = ricci_frame()
    # LL144 scoring rate: the share scoring strictly above the median of the full sample.
    frame["above_median"] = (frame["Combine"] > frame["Combine"].median()).astype(int)
    for by in (["Race"], ["Position", "Race"]):
        rates = frame.groupby(by)[["passed", "above_median"]].mean()
        counts = frame.groupby(by).size()
        # Each group over the highest group of at least 30 rows (the default minimum group size).
        judged = rates["passed"][counts >= 30]
        impact = rates["passed"] / (judged.max() if len(judged) else rates["passed"].max())
        groups = ricci.groups_by(tuple(by))
        assert len(groups) == len(rates)
        for group in groups:
            key = group.group if len(by) > 1 else group.group[0]
            assert group.n == counts[key]
            assert group.value("selection_rate") == pytest.approx(rates.loc[key, "passed"])
            assert group.value("scoring_rate") == pytest.approx(rates.loc[key, "above_median"])
            ratio = group.disparity["selection_rate"]["ratio_to_max"]
            assert ratio == pytest.approx(impact[key])
            low, high = group.ci["selection_rate"]
            assert low < group.value("selection_rate") < high  # type: ignore[operator]
        summary = ricci.fairness_of(tuple(by))
        assert summary is not None
        # The fairlearn aggregates keep every group, small ones included.
        everyone = rates["passed"] / rates["passed"].max()
        assert summary.summary["impact_ratio"] == pytest.approx(everyone.min())
        assert summary.summary["demographic_parity_difference"] == pytest.approx(
            rates["passed"].max() - rates["passed"].min()
        )
    assert ricci.overall.value("selection_rate") == pytest.approx(frame["passed"].mean())


def test_metrics_that_need_outcomes_are_null_with_the_reason(ricci: MetricReport) -> None:
    assert not ricci.labelled
    for result in (ricci.overall, *ricci.groups):
        # Every metric key is present (the section 4 JSON shape), with a value or a reason.
        assert set(result.values) == set(ricci.settings["metrics"])
        for key, value in result.values.items():
            if METRICS[key].needs_label:
                assert value is None and result.reasons[key] == NO_LABEL_REASON
            else:
                assert value is not None
    for entry in ricci.fairness:
        for key, definition in FAIRNESS_METRICS.items():
            if definition.needs_label:
                assert entry.summary[key] is None
                assert entry.summary["reasons"][key] == NO_LABEL_REASON
            else:
                assert entry.summary[key] is not None


def swapped_outcome(cells: Sequence[str]) -> set[str]:
    swap = {"tp": "fp", "fp": "tp", "tn": "fn", "fn": "tn"}
    return {swap[cell] for cell in cells}


def test_a_rate_needs_a_label_exactly_when_it_tells_outcomes_apart() -> None:
    # A rate needs no label when relabelling every outcome leaves its numerator and denominator alone.
    for metric in METRICS.values():
        if metric.is_rate and set(metric.numerator or ()) <= set(CELLS):
            assert metric.numerator is not None and metric.denominator is not None
            blind = swapped_outcome(metric.numerator) == set(metric.numerator) and swapped_outcome(
                metric.denominator
            ) == set(metric.denominator)
            assert metric.needs_label is not blind, metric.key
    assert set(label_free_keys()) == {
        "n",
        "selection_rate",
        "scoring_rate",
        "mean_prediction",
        "demographic_parity_difference",
        "demographic_parity_ratio",
        "impact_ratio",
    }


def label_free_part(report: MetricReport) -> list[tuple[Any, ...]]:
    keys = ("n", "selection_rate", "scoring_rate")
    rows = []
    for group in (report.overall, *report.groups):
        disparity = group.disparity.get("selection_rate", {})
        rows.append(
            (
                group.by,
                group.group,
                tuple(group.values[key] for key in keys),
                tuple(group.ci.get(key) for key in keys),
                disparity.get("ratio_to_max"),
                disparity.get("ratio_to_reference"),
                (disparity.get("ci") or {}).get("ratio_to_max"),
                (disparity.get("test") or {}).get("p_adjusted"),
            )
        )
    return rows


@pytest.mark.parametrize("weight", [None, "loan_amount"])
def test_without_the_label_the_decision_metrics_are_those_with_it(weight: str | None) -> None:
    """On data whose label has no missing value, dropping the label changes no label-free number."""
    path = str(SAMPLE_DATA / "applications_2026q3.parquet")
    roles = ColumnRoles(
        label="defaulted",
        positive_label=0,
        prediction="approved",
        positive_prediction=1,
        score="approval_score",
        sensitive=("sex", "race"),
        weight=weight,
    )
    workspace = Workspace()
    labelled = load(workspace, path, roles)
    assert labelled.null_counts["label"] == 0
    unlabelled = load(workspace, path, replace(roles, label=None))
    options: dict[str, Any] = {
        "by": [("sex",), ("race",), ("sex", "race")],
        "reference_groups": {"race": "White"},
    }
    with_label = compute_metrics(workspace, labelled, **options)
    without = compute_metrics(workspace, unlabelled, **options)
    assert with_label.labelled and not without.labelled
    assert_close(label_free_part(without), label_free_part(with_label))
    assert_close(
        [
            (e.summary["impact_ratio"], e.summary["demographic_parity_ratio"])
            for e in without.fairness
        ],
        [
            (e.summary["impact_ratio"], e.summary["demographic_parity_ratio"])
            for e in with_label.fairness
        ],
    )


def assert_close(actual: Any, expected: Any) -> None:
    """Equal structure; floats equal to 1e-12 (weighted sums may add in another order)."""
    if isinstance(expected, float):
        assert actual == pytest.approx(expected, rel=1e-12, abs=1e-15)
    elif isinstance(expected, list | tuple):
        assert isinstance(actual, list | tuple) and len(actual) == len(expected)
        for left, right in zip(actual, expected, strict=True):
            assert_close(left, right)
    else:
        assert actual == expected


def test_weighted_selection_rate_without_a_label_matches_pandas() -> None:
    path = SAMPLE_DATA / "applications_2026q3.parquet"
    frame = pd.read_parquet(path, columns=["race", "approved", "loan_amount"])
    roles = ColumnRoles(prediction="approved", sensitive=("race",), weight="loan_amount")
    workspace = Workspace()
    report = compute_metrics(workspace, load(workspace, str(path), roles), by=[("race",)])
    frame["weighted"] = frame["approved"] * frame["loan_amount"]
    frame["race"] = frame["race"].fillna(UNKNOWN)
    sums = frame.groupby("race")[["weighted", "loan_amount"]].sum()
    assert len(report.groups_by(("race",))) == len(sums)
    for group in report.groups_by(("race",)):
        race = UNKNOWN if group.unknown else group.group[0]
        expected = sums.loc[race, "weighted"] / sums.loc[race, "loan_amount"]
        assert group.value("selection_rate") == pytest.approx(expected, rel=1e-12)


def test_regression_without_a_label_gives_the_mean_prediction(tmp_path: Any) -> None:
    frame = pd.DataFrame(
        {"predicted": [1.5, 2.0, None, 4.0, 10.0], "group": ["a", "a", "b", "b", "b"]}
    )
    path = tmp_path / "predictions.csv"
    frame.to_csv(path, index=False)
    roles = ColumnRoles(prediction="predicted", sensitive=("group",), task="regression")
    workspace = Workspace()
    report = compute_metrics(workspace, load(workspace, str(path), roles), by=[("group",)])
    means = frame.groupby("group")["predicted"].mean()
    for group in report.groups_by(("group",)):
        assert group.value("mean_prediction") == pytest.approx(means[group.group[0]])
        assert group.n == frame[frame["group"] == group.group[0]]["predicted"].count()
        for key in ("mae", "rmse", "r2"):
            assert group.value(key) is None and group.reasons[key] == NO_LABEL_REASON
    assert report.overall.value("mean_prediction") == pytest.approx(frame["predicted"].mean())


def test_label_free_metrics_take_one_scan(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without outcomes there is nothing to rank or calibrate: only the counting scan runs (plus the
    median the scoring rate needs)."""

    def refuse(*_: Any) -> Any:
        raise AssertionError("a scan that needs outcomes ran on data without a label")

    monkeypatch.setattr(aggregate, "aggregate_ranks", refuse)
    monkeypatch.setattr(aggregate, "aggregate_calibration", refuse)
    workspace = Workspace()
    report = compute_metrics(workspace, load(workspace, str(RICCI), RICCI_ROLES), by=[("Race",)])
    frame = ricci_frame()
    above = (frame["Combine"] > frame["Combine"].median()).mean()
    assert report.overall.value("roc_auc") is None
    assert report.overall.value("scoring_rate") == pytest.approx(above)
