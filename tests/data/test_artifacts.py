"""Model artifacts: safe by default, explicit trust for code-running formats, batch scoring equals predict."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from auditkit.data import ColumnRoles, SourceSpec, Workspace, load_dataset
from auditkit.data.artifacts import load_model
from auditkit.data.scoring import score_dataset
from auditkit.errors import InputError, UntrustedModelError

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"


def small_training_data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    features = rng.normal(size=(300, 3))
    labels = (features[:, 0] + 0.5 * features[:, 1] + rng.normal(scale=0.5, size=300) > 0).astype(
        int
    )
    return features, labels


def fitted_logistic_regression() -> object:
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    features, labels = small_training_data()
    return LogisticRegression().fit(pd.DataFrame(features, columns=["a", "b", "c"]), labels)


class NotAnEstimator:
    """A class skops has never heard of: loading it must be refused by name."""

    def __init__(self) -> None:
        self.value = 1


def test_sample_skops_model_loads_without_trust_and_records_what_it_is() -> None:
    model = load_model(SAMPLE / "credit_model.skops")
    info = model.info
    assert info.format == "skops" and not info.trusted
    assert info.model_type == "sklearn.Pipeline(HistGradientBoostingClassifier)"
    assert (
        info.feature_names is not None
        and "region" in info.feature_names
        and "race" not in info.feature_names
    )
    import hashlib

    assert info.sha256 == hashlib.sha256((SAMPLE / "credit_model.skops").read_bytes()).hexdigest()


def test_skops_file_with_unknown_type_is_refused_by_name(tmp_path: Path) -> None:
    import skops.io

    path = tmp_path / "custom.skops"
    skops.io.dump({"payload": NotAnEstimator()}, path)
    with pytest.raises(UntrustedModelError) as caught:
        load_model(path)
    assert "NotAnEstimator" in str(caught.value) and "--trust-model" in str(caught.value)
    assert load_model(path, trust=True).info.trusted


def test_pickle_needs_trust_or_a_pinned_digest(tmp_path: Path) -> None:
    import hashlib

    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps(fitted_logistic_regression()))
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(UntrustedModelError) as caught:
        load_model(path)
    assert "runs any code" in str(caught.value) and digest in str(caught.value)
    assert load_model(path, trust=True).info.model_type == "sklearn.LogisticRegression"
    assert load_model(path, pinned_sha256=digest).info.sha256 == digest
    with pytest.raises(UntrustedModelError, match="does not match the pinned sha256"):
        load_model(path, pinned_sha256="0" * 64)


def test_joblib_is_refused_without_trust(tmp_path: Path) -> None:
    import joblib

    path = tmp_path / "model.joblib"
    joblib.dump(fitted_logistic_regression(), path)
    with pytest.raises(UntrustedModelError):
        load_model(path)
    assert load_model(path, trust=True).info.format == "joblib"


def test_onnx_scores_equal_scikit_learn(tmp_path: Path) -> None:
    import pandas as pd
    from skl2onnx import to_onnx
    from skl2onnx.common.data_types import FloatTensorType
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    features, labels = small_training_data()
    estimator = Pipeline(
        [
            ("columns", ColumnTransformer([("keep", "passthrough", ["a", "b", "c"])])),
            ("classify", LogisticRegression()),
        ]
    )
    estimator.fit(pd.DataFrame(features, columns=["a", "b", "c"]), labels)
    inputs = [(name, FloatTensorType([None, 1])) for name in ("a", "b", "c")]
    onnx_model = to_onnx(estimator, initial_types=inputs, options={"zipmap": False})
    path = tmp_path / "model.onnx"
    path.write_bytes(onnx_model.SerializeToString())
    model = load_model(path)
    assert model.info.format == "onnx" and model.info.feature_names == ("a", "b", "c")
    batch = pa.table({"a": features[:, 0], "b": features[:, 1], "c": features[:, 2]})
    expected = estimator.predict_proba(pd.DataFrame(features, columns=["a", "b", "c"]))[:, 1]  # type: ignore[attr-defined]
    assert np.max(np.abs(model.predict_scores(batch) - expected)) < 1e-5


def test_missing_and_corrupt_files_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="model file not found"):
        load_model(tmp_path / "nope.skops")
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"not a model")
    with pytest.raises(InputError, match="not a readable ONNX model"):
        load_model(broken)
    with pytest.raises(InputError, match="unknown model format"):
        load_model(broken.rename(tmp_path / "model.h5"))


def test_batch_scoring_equals_predict_proba_in_row_order(tmp_path: Path) -> None:
    import pandas as pd

    model = load_model(SAMPLE / "credit_model.skops")
    unscored = tmp_path / "unscored.parquet"
    with Workspace() as workspace:
        workspace.connection.execute(
            f"COPY (SELECT * EXCLUDE (approval_score, approved) FROM '{SAMPLE / 'applications_2026q3.parquet'}') "
            f"TO '{unscored}'"
        )
        roles = ColumnRoles(label="defaulted", positive_label=0, sensitive=("race",))
        dataset = load_dataset(
            workspace, "current", SourceSpec(str(unscored)), roles, require_outcomes=False
        )
        scored = score_dataset(
            workspace, dataset, model, tmp_path / "scored.parquet", batch_size=1000
        )
        assert scored.roles.score == "score" and scored.has_decision
        ids_and_scores = workspace.connection.execute(
            "SELECT applicant_id, score FROM current"
        ).fetchall()
    frame = pq.read_table(unscored).to_pandas()
    estimator = (
        model._model
    )  # the in-memory oracle: scikit-learn's own predict_proba on all rows at once
    # positive_label 0 (repaid) is the first class of the default model: the score is P(repaid).
    expected = estimator.predict_proba(frame[list(model.info.feature_names or ())])[:, 0]
    assert [row[0] for row in ids_and_scores] == frame["applicant_id"].tolist()
    assert np.max(np.abs(np.array([row[1] for row in ids_and_scores]) - expected)) < 1e-12
    assert isinstance(frame, pd.DataFrame)


def test_scoring_needs_the_model_features(tmp_path: Path) -> None:
    path = tmp_path / "d.parquet"
    pq.write_table(pa.table({"income": [1.0], "regoin": ["x"]}), path)
    model = load_model(SAMPLE / "credit_model.skops")
    with Workspace() as workspace:
        dataset = load_dataset(
            workspace, "current", SourceSpec(str(path)), ColumnRoles(), require_outcomes=False
        )
        with pytest.raises(InputError) as caught:
            score_dataset(workspace, dataset, model, tmp_path / "out.parquet")
    assert "'region'; did you mean 'regoin'?" in str(caught.value)
    assert not (tmp_path / "out.parquet").exists()
