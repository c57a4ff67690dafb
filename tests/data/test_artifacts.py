"""Model artifacts: safe by default, explicit trust for what can run code or crash, faithful scores."""

from __future__ import annotations

import hashlib
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from auditkit.data.artifacts import load_model
from auditkit.errors import InputError, UntrustedModelError
from tests.shared_datasets import SAMPLE_CATEGORICAL, SAMPLE_NUMERIC, sample_trusted_types

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"
SAMPLE_FEATURES = tuple(SAMPLE_CATEGORICAL + SAMPLE_NUMERIC)


def training_data() -> tuple[Any, np.ndarray]:
    import pandas as pd

    rng = np.random.default_rng(0)
    values = rng.normal(size=(300, 3))
    labels = (values[:, 0] + 0.5 * values[:, 1] + rng.normal(scale=0.5, size=300) > 0).astype(int)
    return pd.DataFrame(values, columns=["a", "b", "c"]), labels


def fitted_logistic_regression() -> Any:
    from sklearn.linear_model import LogisticRegression

    frame, labels = training_data()
    return LogisticRegression().fit(frame, labels)


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def current_quarter() -> pa.Table:
    return pq.read_table(SAMPLE / "applications_2026q3.parquet")


class NotAnEstimator:
    """A class skops has never heard of: loading it must be refused by name."""

    def __init__(self) -> None:
        self.value = 1


# --- skops ------------------------------------------------------------------------------------


def test_sample_skops_model_loads_with_its_reviewed_types_and_records_what_it_is() -> None:
    with pytest.raises(UntrustedModelError, match=r"numpy\.dtype"):
        load_model(SAMPLE / "credit_model.skops")
    model = load_model(SAMPLE / "credit_model.skops", trust=sample_trusted_types())
    info = model.info
    assert info.format == "skops" and info.trusted
    assert info.trusted_types == ("numpy.dtype",) == sample_trusted_types()
    assert info.model_type == "sklearn.pipeline.Pipeline(LogisticRegression)"
    assert info.sha256 == sha256_of(SAMPLE / "credit_model.skops")
    assert info.feature_names == SAMPLE_FEATURES
    assert info.classes == (0, 1)
    assert info.to_dict()["features"] == list(SAMPLE_FEATURES)
    assert info.to_dict()["trusted_types"] == ["numpy.dtype"]


def test_the_sample_model_keeps_no_training_rows() -> None:
    """The imputer keeps one median per numeric feature; no array in the archive is as long as the
    training set (a nearest-neighbour imputer would keep all of it)."""
    import zipfile

    with zipfile.ZipFile(SAMPLE / "credit_model.skops") as archive:
        arrays = [archive.read(name) for name in archive.namelist() if name.endswith(".npy")]
    training_rows = pq.read_metadata(SAMPLE / "applications_train.parquet").num_rows
    # An .npy array of float64 or bool with one value per training row is at least this long.
    assert arrays and max(len(content) for content in arrays) < training_rows


def median_imputer_pipeline() -> tuple[Any, Any]:
    """A scaler, a median imputer (it stores a ``numpy.dtype``) and a logistic regression, fitted."""
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    frame, labels = training_data()
    frame.iloc[::17, 0] = np.nan
    pipeline = make_pipeline(
        StandardScaler(), SimpleImputer(strategy="median"), LogisticRegression()
    )
    return pipeline.fit(frame, labels), frame


def test_reviewed_skops_types_load_exactly_those(tmp_path: Path) -> None:
    import skops.io

    pipeline, frame = median_imputer_pipeline()
    path = tmp_path / "imputed.skops"
    skops.io.dump(pipeline, path)
    assert skops.io.get_untrusted_types(file=path) == ["numpy.dtype"]
    with pytest.raises(UntrustedModelError) as caught:
        load_model(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: refusing to load types") and "\n" not in message
    assert "numpy.dtype" in message and "model: trusted_types" in message
    model = load_model(path, trust=("numpy.dtype",))
    assert model.info.trusted and model.info.trusted_types == ("numpy.dtype",)
    batch = pa.Table.from_pandas(frame, preserve_index=False)
    np.testing.assert_array_equal(model.predict_scores(batch), pipeline.predict_proba(frame)[:, 1])
    # A reviewed type that the file does not hold is no reason to refuse it.
    assert load_model(path, trust=("sklearn.tree._tree.Tree", "numpy.dtype")).info.trusted


def test_a_type_not_reviewed_is_refused_beside_reviewed_ones(tmp_path: Path) -> None:
    import skops.io
    from sklearn.tree import DecisionTreeClassifier

    pipeline, _ = median_imputer_pipeline()
    frame, labels = training_data()
    tree = DecisionTreeClassifier(max_depth=2, random_state=0).fit(frame, labels)
    path = tmp_path / "two.skops"
    skops.io.dump({"imputed": pipeline, "tree": tree}, path)
    with pytest.raises(UntrustedModelError) as caught:
        load_model(path, trust=("numpy.dtype",))
    message = str(caught.value)
    # Only the type still refused is named, and the message says the list does not cover it.
    assert "sklearn.tree._tree.Tree" in message and "numpy.dtype" not in message
    assert "trusted_types does not list" in message and "\n" not in message
    loaded = load_model(path, trust=("numpy.dtype", "sklearn.tree._tree.Tree"))
    assert set(loaded.info.trusted_types) == {"numpy.dtype", "sklearn.tree._tree.Tree"}
    assert load_model(path, trust=True).info.trusted


def test_reviewed_skops_types_do_not_trust_a_pickle(tmp_path: Path) -> None:
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps(fitted_logistic_regression()))
    with pytest.raises(UntrustedModelError, match="runs any code"):
        load_model(path, trust=("numpy.dtype",))


def test_skops_file_with_a_custom_class_is_refused_by_name(tmp_path: Path) -> None:
    import skops.io

    path = tmp_path / "custom.skops"
    skops.io.dump({"payload": NotAnEstimator()}, path)
    with pytest.raises(UntrustedModelError) as caught:
        load_model(path)
    message = str(caught.value)
    assert f"{__name__}.NotAnEstimator" in message
    assert "skops.io.get_untrusted_types" in message and "--trust-model" in message
    assert str(path) in message and "\n" not in message
    trusted = load_model(path, trust=True)
    assert trusted.info.trusted and isinstance(trusted.native["payload"], NotAnEstimator)


def test_scikit_learn_types_skops_distrusts_are_not_trusted_wholesale(tmp_path: Path) -> None:
    """Tree node storage is outside skops' trusted set on purpose: a crafted file can crash the
    process. A scikit-learn module name is not a reason to trust it."""
    import skops.io
    from sklearn.tree import DecisionTreeClassifier

    frame, labels = training_data()
    tree = DecisionTreeClassifier(max_depth=3, random_state=0).fit(frame, labels)
    path = tmp_path / "tree.skops"
    skops.io.dump(tree, path)
    with pytest.raises(UntrustedModelError, match=r"sklearn\.tree\._tree\.Tree"):
        load_model(path)
    model = load_model(path, trust=True)
    assert model.info.trusted
    batch = pa.Table.from_pandas(frame, preserve_index=False)
    np.testing.assert_array_equal(model.predict_scores(batch), tree.predict_proba(frame)[:, 1])


def test_corrupt_skops_file_is_a_one_line_input_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.skops"
    path.write_bytes(b"PK\x03\x04 not really a zip archive")
    with pytest.raises(InputError) as caught:
        load_model(path)
    assert not isinstance(caught.value, UntrustedModelError)
    assert str(caught.value).startswith(f"{path}: not a readable .skops file")
    assert "\n" not in str(caught.value)


# --- pickle and joblib ------------------------------------------------------------------------


def test_pickle_needs_trust_or_the_pinned_digest(tmp_path: Path) -> None:
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps(fitted_logistic_regression()))
    digest = sha256_of(path)
    with pytest.raises(UntrustedModelError) as caught:
        load_model(path)
    message = str(caught.value)
    assert "runs any code" in message and "--trust-model" in message
    assert f"model: {{sha256: {digest}}}" in message
    trusted = load_model(path, trust=True)
    assert trusted.info.model_type == "sklearn.linear_model.LogisticRegression"
    assert trusted.info.trusted and trusted.info.feature_names == ("a", "b", "c")
    assert load_model(path, pinned_sha256=digest).info.sha256 == digest
    assert load_model(path, pinned_sha256=digest.upper()).info.sha256 == digest


def test_a_wrong_pin_is_refused_naming_both_digests(tmp_path: Path) -> None:
    path = tmp_path / "model.pickle"
    path.write_bytes(pickle.dumps(fitted_logistic_regression()))
    wrong = "ab" * 32
    with pytest.raises(UntrustedModelError) as caught:
        load_model(path, pinned_sha256=wrong)
    assert sha256_of(path) in str(caught.value) and wrong in str(caught.value)
    with pytest.raises(UntrustedModelError):  # trust does not override a pin that does not match
        load_model(path, trust=True, pinned_sha256=wrong)


def test_a_pin_is_checked_for_safe_formats_too() -> None:
    with pytest.raises(UntrustedModelError, match="not the one that was reviewed"):
        load_model(SAMPLE / "credit_model.skops", pinned_sha256="0" * 64)
    digest = sha256_of(SAMPLE / "credit_model.onnx")
    assert load_model(SAMPLE / "credit_model.onnx", pinned_sha256=digest).info.sha256 == digest


def test_joblib_is_refused_without_trust(tmp_path: Path) -> None:
    import joblib

    path = tmp_path / "model.joblib"
    joblib.dump(fitted_logistic_regression(), path)
    with pytest.raises(UntrustedModelError, match="runs any code"):
        load_model(path)
    assert load_model(path, trust=True).info.format == "joblib"


def test_trusted_pickle_that_cannot_be_unpickled_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "model.pkl"
    path.write_bytes(b"\x80\x05 truncated")
    with pytest.raises(InputError, match="cannot unpickle the model") as caught:
        load_model(path, trust=True)
    assert str(path) in str(caught.value) and "\n" not in str(caught.value)


# --- ONNX -------------------------------------------------------------------------------------


def test_sample_onnx_model_equals_the_skops_model() -> None:
    onnx_model = load_model(SAMPLE / "credit_model.onnx")
    estimator = load_model(SAMPLE / "credit_model.skops", trust=sample_trusted_types()).native
    info = onnx_model.info
    assert info.format == "onnx" and not info.trusted
    assert info.feature_names == SAMPLE_FEATURES and info.classes == (0, 1)
    assert info.sha256 == sha256_of(SAMPLE / "credit_model.onnx")
    table = current_quarter()
    expected = estimator.predict_proba(table.select(list(SAMPLE_FEATURES)).to_pandas())
    assert np.max(np.abs(onnx_model.predict_scores(table) - expected[:, 1])) < 1e-5
    assert np.max(np.abs(onnx_model.predict_scores(table, 0) - expected[:, 0])) < 1e-5
    labels = onnx_model.predict_labels(table)
    # The labels agree wherever the probability is not within float32 rounding of the cut.
    decided = np.abs(expected[:, 1] - 0.5) > 1e-5
    assert np.array_equal(labels[decided], (expected[:, 1] > 0.5)[decided].astype(int))


def export_onnx(estimator: Any, path: Path, *, zipmap: bool, wide: bool = False) -> None:
    from skl2onnx import to_onnx
    from skl2onnx.common.data_types import FloatTensorType

    if wide:
        inputs = [("X", FloatTensorType([None, 3]))]
    else:
        inputs = [(name, FloatTensorType([None, 1])) for name in ("a", "b", "c")]
    path.write_bytes(
        to_onnx(estimator, initial_types=inputs, options={"zipmap": zipmap}).SerializeToString()
    )


def pipeline_by_column_name() -> Any:
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    frame, labels = training_data()
    columns = ColumnTransformer([("keep", "passthrough", ["a", "b", "c"])])
    return Pipeline([("columns", columns), ("classify", LogisticRegression())]).fit(frame, labels)


@pytest.mark.parametrize("zipmap", [False, True], ids=["tensor", "zipmap"])
def test_onnx_probabilities_equal_scikit_learn(tmp_path: Path, zipmap: bool) -> None:
    estimator = pipeline_by_column_name()
    path = tmp_path / "model.onnx"
    export_onnx(estimator, path, zipmap=zipmap)
    model = load_model(path)
    assert model.info.feature_names == ("a", "b", "c") and model.info.classes == (0, 1)
    frame, _ = training_data()
    batch = pa.Table.from_pandas(frame, preserve_index=False)
    expected = estimator.predict_proba(frame)
    assert np.max(np.abs(model.predict_scores(batch) - expected[:, 1])) < 1e-5
    assert np.max(np.abs(model.predict_scores(batch, "0") - expected[:, 0])) < 1e-5
    np.testing.assert_array_equal(model.predict_labels(batch), estimator.predict(frame))
    with pytest.raises(InputError, match="positive label 'yes' is not one of them"):
        model.predict_scores(batch, "yes")


def test_onnx_with_one_wide_input_reads_the_batch_columns_in_order(tmp_path: Path) -> None:
    from sklearn.linear_model import LogisticRegression

    frame, labels = training_data()
    estimator = LogisticRegression().fit(frame.to_numpy(), labels)
    path = tmp_path / "wide.onnx"
    export_onnx(estimator, path, zipmap=False, wide=True)
    model = load_model(path)
    assert model.info.feature_names is None
    batch = pa.Table.from_pandas(frame, preserve_index=False)
    expected = estimator.predict_proba(frame.to_numpy())[:, 1]
    assert np.max(np.abs(model.predict_scores(batch) - expected)) < 1e-5


def test_corrupt_onnx_file_is_a_one_line_input_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.onnx"
    path.write_bytes(b"not a model")
    with pytest.raises(InputError) as caught:
        load_model(path)
    assert str(caught.value).startswith(f"{path}: not a readable ONNX model")
    assert "\n" not in str(caught.value)


# --- scores, labels and errors ----------------------------------------------------------------


def test_scores_and_labels_equal_the_estimator() -> None:
    model = load_model(SAMPLE / "credit_model.skops", trust=sample_trusted_types())
    table = current_quarter()
    frame = table.select(list(SAMPLE_FEATURES)).to_pandas()
    estimator = model.native
    # The batch may carry other columns (the label, protected attributes): they are not inputs.
    np.testing.assert_array_equal(model.predict_scores(table), estimator.predict_proba(frame)[:, 1])
    np.testing.assert_array_equal(
        model.predict_scores(table, positive_class="0"), estimator.predict_proba(frame)[:, 0]
    )
    np.testing.assert_array_equal(model.predict_labels(table), estimator.predict(frame))
    with pytest.raises(InputError, match="the model's classes are 0, 1"):
        model.predict_scores(table, positive_class="approved")


def test_a_regressor_scores_its_prediction(tmp_path: Path) -> None:
    from sklearn.linear_model import LinearRegression

    frame, _ = training_data()
    target = frame["a"] * 2.0 - frame["c"]
    regressor = LinearRegression().fit(frame, target)
    path = tmp_path / "regressor.pkl"
    path.write_bytes(pickle.dumps(regressor))
    model = load_model(path, trust=True)
    assert model.info.classes is None
    batch = pa.Table.from_pandas(frame, preserve_index=False)
    np.testing.assert_allclose(model.predict_scores(batch), regressor.predict(frame), rtol=0)


def test_missing_file_and_unknown_format_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="model file not found") as caught:
        load_model(tmp_path / "nope.skops")
    assert str(tmp_path / "nope.skops") in str(caught.value)
    other = tmp_path / "model.h5"
    other.write_bytes(b"weights")
    with pytest.raises(InputError, match=r"unknown model format \.h5"):
        load_model(other)


def test_a_batch_without_the_model_inputs_is_an_input_error() -> None:
    table = current_quarter().drop(["region", "income"])
    for path in (SAMPLE / "credit_model.skops", SAMPLE / "credit_model.onnx"):
        model = load_model(path, trust=sample_trusted_types())
        with pytest.raises(InputError, match="lacks the model's input columns region, income"):
            model.predict_scores(table)
        with pytest.raises(InputError, match="lacks the model's input columns"):
            model.predict_labels(table)
