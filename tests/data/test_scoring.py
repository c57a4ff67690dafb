"""Batch scoring: streamed in Arrow batches, equal to predict_proba on all rows, in row order, atomic."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from auditkit.data import ColumnRoles, Dataset, SourceSpec, Workspace, load_dataset
from auditkit.data.artifacts import LoadedModel, load_model
from auditkit.data.scoring import score_dataset
from auditkit.errors import InputError
from tests.shared_datasets import sample_trusted_types

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"
CURRENT = SAMPLE / "applications_2026q3.parquet"
ROLES = ColumnRoles(label="defaulted", positive_label=0, sensitive=("sex", "race", "age_band"))


@pytest.fixture(scope="module")
def unscored(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample's current quarter without the model's columns."""
    path = tmp_path_factory.mktemp("unscored") / "unscored.parquet"
    pq.write_table(pq.read_table(CURRENT).drop(["approval_score", "approved"]), path)
    return path


@pytest.fixture(scope="module")
def model() -> LoadedModel:
    return load_model(SAMPLE / "credit_model.skops", trust=sample_trusted_types())


def open_current(
    workspace: Workspace, path: Path, roles: ColumnRoles = ROLES, **kw: Any
) -> Dataset:
    return load_dataset(
        workspace, "current", SourceSpec(str(path)), roles, require_decisions=False, **kw
    )


def all_at_once(model: LoadedModel, path: Path) -> np.ndarray:
    """The in-memory oracle: scikit-learn's predict_proba on every row in one call."""
    frame = pq.read_table(path).to_pandas()
    return model.native.predict_proba(frame[list(model.info.feature_names or ())])


class CountingModel(LoadedModel):
    """The sample model, recording how many rows each call scored."""

    def __init__(self, model: LoadedModel, fail_on_call: int | None = None) -> None:
        super().__init__(model.info, model.native)
        self.batch_rows: list[int] = []
        self.fail_on_call = fail_on_call

    def predict_scores(self, batch: Any, positive_class: Any = None) -> np.ndarray:
        self.batch_rows.append(batch.num_rows)
        if len(self.batch_rows) == self.fail_on_call:
            raise RuntimeError("the model failed half-way")
        return super().predict_scores(batch, positive_class)


def test_batch_scores_equal_predict_proba_in_row_order(
    tmp_path: Path, unscored: Path, model: LoadedModel, workspace: Workspace
) -> None:
    counting = CountingModel(model)
    dataset = open_current(workspace, unscored)
    scored = score_dataset(
        workspace, dataset, counting, tmp_path / "scored.parquet", threshold=0.8, batch_size=1000
    )
    assert max(counting.batch_rows) <= 1000 and sum(counting.batch_rows) == 8000
    assert len(counting.batch_rows) >= 8
    assert scored.roles.score == "score" and scored.roles.threshold == 0.8 and scored.has_decision
    assert scored.row_count == 8000 and scored.schema["score"] == "DOUBLE"
    rows = workspace.query("SELECT applicant_id, score FROM current")
    original = pq.read_table(unscored)
    assert [row[0] for row in rows] == original.column("applicant_id").to_pylist()
    # positive_label 0 (repaid) is the first class of a model that predicts default.
    expected = all_at_once(model, unscored)[:, 0]
    assert np.max(np.abs(np.array([row[1] for row in rows]) - expected)) < 1e-12
    # The scored file keeps every original column and value.
    written = pq.read_table(tmp_path / "scored.parquet")
    assert written.drop(["score"]).equals(original)


def test_scores_reproduce_the_committed_approval_scores(
    tmp_path: Path, unscored: Path, model: LoadedModel, workspace: Workspace
) -> None:
    dataset = open_current(workspace, unscored)
    score_dataset(workspace, dataset, model, tmp_path / "scored.parquet", batch_size=3000)
    committed = pq.read_table(CURRENT).column("approval_score").to_numpy()
    scores = np.array([row[0] for row in workspace.query("SELECT score FROM current")])
    assert (
        np.max(np.abs(scores - committed)) <= 5e-7
    )  # the committed scores are rounded to 6 places


def test_prediction_column_decides_by_the_threshold(
    tmp_path: Path, unscored: Path, model: LoadedModel, workspace: Workspace
) -> None:
    dataset = open_current(workspace, unscored)
    scored = score_dataset(
        workspace,
        dataset,
        model,
        tmp_path / "scored.parquet",
        score_column="approval",
        prediction_column="decision",
        threshold=0.8,
    )
    assert scored.roles.prediction == "decision" and scored.roles.prediction_positive_value == 1
    rows = workspace.query("SELECT approval, decision FROM current")
    expected = all_at_once(model, unscored)[:, 0] >= 0.8
    assert [row[1] for row in rows] == expected.astype(int).tolist()
    decided = workspace.query(f"SELECT sum({scored.decision_sql}) FROM current")[0][0]
    assert decided == int(expected.sum())


def test_onnx_model_scores_like_the_skops_model(
    tmp_path: Path, unscored: Path, model: LoadedModel, workspace: Workspace
) -> None:
    onnx_model = load_model(SAMPLE / "credit_model.onnx")
    dataset = open_current(workspace, unscored)
    score_dataset(workspace, dataset, onnx_model, tmp_path / "scored.parquet", batch_size=2500)
    scores = np.array([row[0] for row in workspace.query("SELECT score FROM current")])
    assert np.max(np.abs(scores - all_at_once(model, unscored)[:, 0])) < 1e-5


def test_where_filter_scores_only_the_selected_rows(
    tmp_path: Path, unscored: Path, model: LoadedModel, workspace: Workspace
) -> None:
    dataset = open_current(workspace, unscored, where="region = 'Riverside'")
    scored = score_dataset(workspace, dataset, model, tmp_path / "scored.parquet")
    frame = pq.read_table(unscored).to_pandas()
    riverside = frame[frame["region"] == "Riverside"]
    assert scored.row_count == len(riverside)
    expected = model.native.predict_proba(riverside[list(model.info.feature_names or ())])[:, 0]
    scores = np.array([row[0] for row in workspace.query("SELECT score FROM current")])
    assert np.max(np.abs(scores - expected)) < 1e-12


def test_missing_feature_columns_are_named_with_the_closest_matches(
    tmp_path: Path, model: LoadedModel, workspace: Workspace
) -> None:
    path = tmp_path / "typo.parquet"
    table = pq.read_table(CURRENT).drop(["approval_score", "approved", "debt_ratio"])
    pq.write_table(
        table.rename_columns(["regoin" if n == "region" else n for n in table.column_names]), path
    )
    dataset = open_current(workspace, path)
    with pytest.raises(InputError) as caught:
        score_dataset(workspace, dataset, model, tmp_path / "out" / "scored.parquet")
    message = str(caught.value)
    assert "'region'; did you mean 'regoin'?" in message and "'debt_ratio'" in message
    assert "\n" not in message and str(path) in message
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_a_failure_half_way_leaves_no_file_and_the_view_unchanged(
    tmp_path: Path, unscored: Path, model: LoadedModel, workspace: Workspace
) -> None:
    dataset = open_current(workspace, unscored)
    out = tmp_path / "out"
    with pytest.raises(RuntimeError, match="half-way"):
        score_dataset(
            workspace,
            dataset,
            CountingModel(model, fail_on_call=3),
            out / "s.parquet",
            batch_size=1000,
        )
    assert list(out.iterdir()) == []  # neither the output nor its temporary file
    assert "score" not in workspace.columns("current")
    assert workspace.row_count("current") == 8000


def test_output_columns_must_be_new_and_the_input_is_never_overwritten(
    tmp_path: Path, model: LoadedModel, workspace: Workspace
) -> None:
    copy = tmp_path / "current.parquet"
    copy.write_bytes(CURRENT.read_bytes())
    dataset = open_current(workspace, copy)
    with pytest.raises(InputError, match="column 'approval_score' exists already"):
        score_dataset(
            workspace, dataset, model, tmp_path / "s.parquet", score_column="approval_score"
        )
    with pytest.raises(InputError, match="column 'approved' exists already"):
        score_dataset(
            workspace, dataset, model, tmp_path / "s.parquet", prediction_column="approved"
        )
    with pytest.raises(InputError, match="is the dataset's own file"):
        score_dataset(workspace, dataset, model, copy, score_column="fresh")
    assert copy.read_bytes() == CURRENT.read_bytes()


def test_a_model_without_feature_names_reads_the_dataset_features(
    tmp_path: Path, workspace: Workspace
) -> None:
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(1)
    values = rng.normal(size=(500, 2))
    labels = (values[:, 0] - values[:, 1] > 0).astype(int)
    estimator = LogisticRegression().fit(values, labels)  # fitted on an array: no feature names
    model_path = tmp_path / "model.pkl"
    model_path.write_bytes(pickle.dumps(estimator))
    data = tmp_path / "data.parquet"
    pq.write_table(
        pa.table({"id": range(500), "x1": values[:, 0], "x2": values[:, 1], "y": labels}), data
    )
    roles = ColumnRoles(label="y", id="id")
    dataset = open_current(workspace, data, roles)
    scored = score_dataset(
        workspace,
        dataset,
        load_model(model_path, trust=True),
        tmp_path / "s.parquet",
        batch_size=64,
    )
    scores = np.array([row[0] for row in workspace.query("SELECT score FROM current ORDER BY id")])
    np.testing.assert_allclose(scores, estimator.predict_proba(values)[:, 1], rtol=0, atol=1e-12)
    assert scored.roles.threshold is None and not scored.has_decision


def test_a_regressor_writes_its_prediction(tmp_path: Path, workspace: Workspace) -> None:
    from sklearn.linear_model import LinearRegression

    rng = np.random.default_rng(2)
    x = rng.normal(size=(300, 2))
    y = 3 * x[:, 0] - x[:, 1]
    import pandas as pd

    frame = pd.DataFrame({"x1": x[:, 0], "x2": x[:, 1]})
    regressor = LinearRegression().fit(frame, y)
    model_path = tmp_path / "regressor.pkl"
    model_path.write_bytes(pickle.dumps(regressor))
    data = tmp_path / "data.parquet"
    pq.write_table(pa.table({"x1": x[:, 0], "x2": x[:, 1], "target": y}), data)
    roles = ColumnRoles(label="target", task="regression")
    dataset = open_current(workspace, data, roles)
    scored = score_dataset(
        workspace,
        dataset,
        load_model(model_path, trust=True),
        tmp_path / "s.parquet",
        prediction_column="predicted",
    )
    assert scored.roles.prediction == "predicted" and scored.schema["predicted"] == "DOUBLE"
    rows = workspace.query("SELECT score, predicted FROM current")
    np.testing.assert_allclose(
        [row[1] for row in rows], regressor.predict(frame), rtol=0, atol=1e-12
    )
    assert all(row[0] == row[1] for row in rows)


def test_an_empty_selection_gives_an_empty_typed_file(
    tmp_path: Path, unscored: Path, model: LoadedModel, workspace: Workspace
) -> None:
    dataset = open_current(workspace, unscored, where="region = 'Nowhere'")
    out = tmp_path / "scored.parquet"
    scored = score_dataset(workspace, dataset, model, out, prediction_column="decision")
    assert scored.row_count == 0 and pq.read_table(out).num_rows == 0
    assert scored.schema["score"] == "DOUBLE" and scored.schema["decision"] == "TINYINT"


def test_a_projects_risk_score_setting_does_not_turn_the_models_scores_round(
    tmp_path: Path, unscored: Path, model: LoadedModel, workspace: Workspace
) -> None:
    """The model's score is the probability of the favourable outcome: its decision is favourable at
    or above the threshold, even in a project that says ``positive_prediction: 0`` of a risk score."""
    from dataclasses import replace

    roles = replace(ROLES, positive_prediction=0)
    dataset = open_current(workspace, unscored, roles)
    scored = score_dataset(workspace, dataset, model, tmp_path / "scored.parquet", threshold=0.8)
    favourable = all_at_once(model, unscored)[:, 0] >= 0.8
    decisions = [row[0] for row in workspace.query(f"SELECT {scored.decision_sql} FROM current")]
    assert decisions == favourable.astype(int).tolist()
    assert scored.score_sql is not None and "1.0 -" not in scored.score_sql
