"""Models and data for the explainability tests."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy
import pytest

from auditkit.data import Workspace
from auditkit.data.artifacts import LoadedModel, ModelInfo, describe_type
from auditkit.data.datasets import ColumnRoles, Dataset, load_dataset
from auditkit.data.sources import SourceSpec

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"
SAMPLE_ROLES = ColumnRoles(
    label="defaulted",
    prediction="approved",
    score="approval_score",
    threshold=0.8,
    sensitive=("sex", "race", "age_band"),
    id="applicant_id",
    timestamp="application_date",
    positive_label=0,
    positive_prediction=1,
)


def loaded(estimator: Any, features: Sequence[str] | None = None) -> LoadedModel:
    """A fitted estimator as the engine holds a loaded artifact."""
    classes = getattr(estimator, "classes_", None)
    info = ModelInfo(
        path="memory",
        format="pickle",
        sha256="0" * 64,
        model_type=describe_type(estimator),
        feature_names=tuple(features) if features is not None else None,
        classes=tuple(numpy.asarray(classes).tolist()) if classes is not None else None,
        trusted=True,
    )
    return LoadedModel(info, estimator)


@pytest.fixture(scope="session")
def training_frame() -> Any:
    import pandas

    return pandas.read_parquet(SAMPLE / "applications_train.parquet")


@pytest.fixture(scope="session")
def current_frame() -> Any:
    import pandas

    return pandas.read_parquet(SAMPLE / "applications_2026q3.parquet")


@pytest.fixture()
def sample_dataset() -> Iterator[tuple[Workspace, Dataset]]:
    with Workspace() as workspace:
        spec = SourceSpec(str(SAMPLE / "applications_2026q3.parquet"))
        yield workspace, load_dataset(workspace, "current", spec, SAMPLE_ROLES)
