"""Proxy detection in DuckDB against scipy and numpy on the same data; the injected proxy comes first."""

from __future__ import annotations

from typing import Any

import numpy
import pytest

from auditkit.data import Workspace
from auditkit.data.datasets import Dataset
from auditkit.explain.proxy import correlation_ratios, cramers_vs, proxy_risks
from auditkit.explain.report import FeatureImportance
from auditkit.progress import Progress
from tests.shared_datasets import SAMPLE_CATEGORICAL as CATEGORICAL
from tests.shared_datasets import SAMPLE_NUMERIC as NUMERIC
from tests.shared_datasets import sample_trusted_types


def test_cramers_v_matches_scipy(
    sample_dataset: tuple[Workspace, Dataset], current_frame: Any
) -> None:
    from scipy.stats.contingency import association, crosstab

    workspace, dataset = sample_dataset
    computed = cramers_vs(workspace, dataset, CATEGORICAL, "race")
    for feature in CATEGORICAL:
        both = current_frame[[feature, "race"]].dropna()
        table = crosstab(both[feature].to_numpy(), both["race"].to_numpy()).count
        value, rows = computed[feature]
        assert rows == len(both)
        assert value == pytest.approx(association(table, method="cramer"), abs=1e-12)


def test_correlation_ratio_matches_its_definition(
    sample_dataset: tuple[Workspace, Dataset], current_frame: Any
) -> None:
    workspace, dataset = sample_dataset
    computed = correlation_ratios(workspace, dataset, NUMERIC, "age_band")
    for feature in NUMERIC:
        both = current_frame[[feature, "age_band"]].dropna()
        values = both[feature].to_numpy(dtype=float)
        grand = values.mean()
        between = sum(
            len(group) * (group.mean() - grand) ** 2
            for _, group in both.groupby("age_band")[feature]
        )
        expected = numpy.sqrt(between / ((values - grand) ** 2).sum())
        value, rows = computed[feature]
        assert rows == len(both)
        assert value == pytest.approx(expected, abs=1e-9)


def test_region_is_the_top_proxy_risk_on_the_sample(
    sample_dataset: tuple[Workspace, Dataset],
) -> None:
    """Scored with equal importance for every feature, the ranking is the association alone; with
    the sample model's importance, region (Cramér's V 0.39 with race) comes out on top."""
    workspace, dataset = sample_dataset
    from auditkit.data.artifacts import load_model
    from auditkit.explain import explain_dataset
    from tests.explain.conftest import SAMPLE

    report = explain_dataset(
        workspace, dataset, load_model(SAMPLE / "credit_model.skops", trust=sample_trusted_types())
    )
    top = report.proxies[0]
    assert (top.feature, top.attribute, top.measure) == ("region", "race", "cramers_v")
    assert top.association == pytest.approx(0.387, abs=0.005)
    region = report.importance_of("region")
    assert region is not None and top.importance == pytest.approx(
        region.mean_abs / report.importance[0].mean_abs
    )
    # With every feature equally important the strongest association wins instead: credit history
    # tracks age almost exactly, which is why the ranking weighs association by importance.
    flat = [FeatureImportance(f, 1.0, 0.1, 0.0, 1) for f in CATEGORICAL + NUMERIC]
    by_association = proxy_risks(
        workspace, dataset, CATEGORICAL + NUMERIC, ("sex", "race", "age_band"), flat, Progress()
    )
    assert (by_association[0].feature, by_association[0].attribute) == (
        "credit_history_months",
        "age_band",
    )
