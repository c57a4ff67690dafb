"""The committed sample data carries the effects the demo audit is meant to find."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from auditkit.data.artifacts import load_model
from auditkit.engine import compute_project_metrics, open_project
from auditkit.metrics.drift import compute_drift
from auditkit.project import Overrides, load_project

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data"


@pytest.fixture(scope="module")
def loaded():  # type: ignore[no-untyped-def]
    return open_project(load_project(SAMPLE / "auditkit.yaml", Overrides()))


def test_approvals_fail_the_four_fifths_rule_for_black_applicants(loaded) -> None:  # type: ignore[no-untyped-def]
    report = compute_project_metrics(loaded, by=[("race",)], reference_groups={"race": "White"})
    black = report.group(("race",), ("Black",))
    assert black is not None and black.n > 500
    assert black.disparity["selection_rate"]["ratio_to_reference"] < 0.8
    assert black.disparity["selection_rate"]["ratio_to_max"] < 0.8


def test_the_disparity_enters_through_region_not_race(loaded) -> None:  # type: ignore[no-untyped-def]
    model = load_model(SAMPLE / "credit_model.skops")
    features = set(model.info.feature_names or ())
    assert {"sex", "race", "age_band"}.isdisjoint(features) and "region" in features
    rows = loaded.workspace.query(
        "SELECT race, region, count(*) FROM current WHERE race IS NOT NULL GROUP BY ALL"
    )
    assert cramers_v(rows) > 0.3


def cramers_v(rows: list[tuple[object, object, int]]) -> float:
    """Cramér's V of a contingency table given as (row, column, count) triples."""
    from scipy.stats import chi2_contingency

    races = sorted({str(row[0]) for row in rows})
    regions = sorted({str(row[1]) for row in rows})
    table = [[0] * len(regions) for _ in races]
    for race, region, count in rows:
        table[races.index(str(race))][regions.index(str(region))] = count
    chi2 = chi2_contingency(table, correction=False).statistic
    total = sum(map(sum, table))
    return math.sqrt(chi2 / (total * (min(len(races), len(regions)) - 1)))


def test_the_model_discriminates_well(loaded) -> None:  # type: ignore[no-untyped-def]
    report = compute_project_metrics(loaded, by=[("race",)], metrics=["roc_auc"])
    assert report.overall.value("roc_auc") is not None and report.overall.value("roc_auc") >= 0.75  # type: ignore[operator]


def test_income_drifts_and_debt_ratio_does_not(loaded) -> None:  # type: ignore[no-untyped-def]
    drift = compute_drift(loaded.workspace, loaded.reference, loaded.current)
    income, debt_ratio, purpose = (
        drift.feature("income"),
        drift.feature("debt_ratio"),
        drift.feature("purpose"),
    )
    assert income is not None and (income.psi or 0) > 0.25
    assert debt_ratio is not None and (debt_ratio.psi or 1) < 0.1
    assert purpose is not None and purpose.new_categories == ("energy_upgrade",)
