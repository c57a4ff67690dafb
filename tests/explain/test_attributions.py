"""Attributions add up to the model's own output for every supported family, on the input columns.

The output each attribution explains is recomputed here from the model itself (``predict_proba`` turned
into log-odds, ``predict``), never taken from the explainer.
"""

from __future__ import annotations

from typing import Any

import numpy
import pytest

from auditkit.data.artifacts import load_model
from auditkit.explain.attributions import Target, explain, explain_by_permutation
from tests.explain.conftest import SAMPLE, loaded
from tests.shared_datasets import SAMPLE_CATEGORICAL as CATEGORICAL
from tests.shared_datasets import SAMPLE_NUMERIC as NUMERIC
from tests.shared_datasets import sample_trusted_types

FEATURES = CATEGORICAL + NUMERIC


def log_odds(probability: numpy.ndarray) -> numpy.ndarray:
    return numpy.log(probability) - numpy.log1p(-probability)


def assert_additive(result: Any, expected_output: numpy.ndarray) -> None:
    total = result.values.sum(axis=1) + result.expected_value
    error = float(numpy.max(numpy.abs(total - expected_output)))
    assert result.info.additivity_error is not None
    assert error <= result.info.tolerance, (error, result.info.tolerance)
    assert abs(error - result.info.additivity_error) <= result.info.tolerance


@pytest.fixture(scope="module")
def rows(current_frame: Any) -> Any:
    return current_frame.sample(400, random_state=3).reset_index(drop=True)


def ordinal(frame: Any, reference: Any) -> Any:
    """Categories as integer codes (for estimators that take numbers only)."""
    encoded = frame[FEATURES].copy()
    for column in CATEGORICAL:
        codes = {value: i for i, value in enumerate(sorted(reference[column].unique()))}
        encoded[column] = encoded[column].map(codes).astype(float)
    return encoded


def test_sample_pipeline_attributions_land_on_input_columns_and_add_up(rows: Any) -> None:
    model = load_model(SAMPLE / "credit_model.skops", trust=sample_trusted_types())
    result = explain(Target(model, tuple(FEATURES), 0), rows, numpy.ones(len(rows)))
    assert result.info.family == "linear" and result.info.pipeline
    assert result.features == tuple(FEATURES) and result.values.shape == (len(rows), len(FEATURES))
    assert result.info.transformed_columns == 24
    repaid = model.native.predict_proba(rows[FEATURES])[:, 0]
    assert_additive(result, log_odds(repaid))


def test_a_one_hot_column_group_is_attributed_to_its_category(rows: Any) -> None:
    """Swapping only the region between two rows moves the log-odds by the difference of their
    region attributions: the one-hot columns were summed onto ``region``."""
    model = load_model(SAMPLE / "credit_model.skops", trust=sample_trusted_types())
    result = explain(Target(model, tuple(FEATURES), 0), rows, numpy.ones(len(rows)))
    region = FEATURES.index("region")
    first = rows.index[rows["region"] == "Riverside"][0]
    second = rows.index[rows["region"] == "Northgate"][0]
    swapped = rows.loc[[second], FEATURES].copy()
    swapped["region"] = "Riverside"
    before = log_odds(model.native.predict_proba(rows.loc[[second], FEATURES])[:, 0])[0]
    after = log_odds(model.native.predict_proba(swapped)[:, 0])[0]
    moved = result.values[first, region] - result.values[second, region]
    assert after - before == pytest.approx(moved, abs=1e-9)


def test_plain_logistic_regression_is_exact_linear_shap(rows: Any, training_frame: Any) -> None:
    from sklearn.linear_model import LogisticRegression

    numeric = [c for c in NUMERIC if c != "income"]
    train = training_frame.iloc[:4000]
    model = LogisticRegression(max_iter=500).fit(train[numeric], train["defaulted"])
    result = explain(Target(loaded(model, numeric), tuple(numeric), 1), rows, numpy.ones(len(rows)))
    assert result.info.family == "linear" and not result.info.pipeline
    assert_additive(result, log_odds(model.predict_proba(rows[numeric])[:, 1]))
    means = rows[numeric].to_numpy().mean(axis=0)
    expected = model.coef_[0] * (rows[numeric].to_numpy() - means)
    numpy.testing.assert_allclose(result.values, expected, atol=1e-12)


@pytest.mark.slow
@pytest.mark.parametrize("family", ["random_forest", "gradient_boosting", "hist_gradient_boosting"])
def test_tree_ensembles_use_path_dependent_tree_shap_and_add_up(
    family: str, rows: Any, training_frame: Any
) -> None:
    from sklearn.ensemble import (
        GradientBoostingClassifier,
        HistGradientBoostingClassifier,
        RandomForestClassifier,
    )

    estimators = {
        "random_forest": RandomForestClassifier(n_estimators=30, max_depth=6, random_state=0),
        "gradient_boosting": GradientBoostingClassifier(n_estimators=30, random_state=0),
        "hist_gradient_boosting": HistGradientBoostingClassifier(max_iter=30, random_state=0),
    }
    train = training_frame.iloc[:4000]
    inputs = ordinal(train, training_frame).fillna(-1.0)
    model = estimators[family].fit(inputs, train["defaulted"])
    explained = ordinal(rows, training_frame).fillna(-1.0)
    result = explain(
        Target(loaded(model, FEATURES), tuple(FEATURES), 0), explained, numpy.ones(len(rows))
    )
    assert result.info.family == "tree"
    assert "tree_path_dependent" in result.info.explainer
    repaid = model.predict_proba(explained)[:, 0]
    assert_additive(result, repaid if family == "random_forest" else log_odds(repaid))


@pytest.mark.slow
def test_hist_gradient_boosting_with_missing_values_in_a_pipeline(
    rows: Any, training_frame: Any
) -> None:
    """HistGradientBoosting routes missing incomes itself; the ordinal codes map back to their columns."""
    from sklearn.compose import make_column_transformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OrdinalEncoder

    prepare = make_column_transformer(
        (OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1), CATEGORICAL),
        ("passthrough", NUMERIC),
    )
    model = make_pipeline(prepare, HistGradientBoostingClassifier(max_iter=30, random_state=0))
    train = training_frame.iloc[:4000]
    model.fit(train[FEATURES], train["defaulted"])
    assert rows["income"].isna().any() or train["income"].isna().any()
    result = explain(
        Target(loaded(model, FEATURES), tuple(FEATURES), 0), rows, numpy.ones(len(rows))
    )
    assert result.info.family == "tree" and result.info.pipeline
    assert result.values.shape == (len(rows), len(FEATURES))
    assert_additive(result, log_odds(model.predict_proba(rows[FEATURES])[:, 0]))


@pytest.mark.slow
def test_native_categorical_splits_fall_back_to_permutation(rows: Any, training_frame: Any) -> None:
    """shap's tree algorithm ignores HistGradientBoosting's categorical splits (its sums miss the
    model's output by whole log-odds units), so the fallback explains such a model."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    train = training_frame.iloc[:4000]
    inputs = ordinal(train, training_frame)
    model = HistGradientBoostingClassifier(
        max_iter=20, categorical_features=[0, 1, 2], random_state=0
    ).fit(inputs, train["defaulted"])
    explained = ordinal(rows, training_frame).iloc[:60]
    result = explain(Target(loaded(model, FEATURES), tuple(FEATURES), 0), explained, numpy.ones(60))
    assert result.info.family == "permutation"
    assert any("categorical" in note for note in result.info.notes)
    assert_additive(result, model.predict_proba(explained)[:, 0])


def test_onnx_models_are_explained_by_permutation_and_add_up(rows: Any) -> None:
    model = load_model(SAMPLE / "credit_model.onnx")
    subset = rows.iloc[:80]
    result = explain(Target(model, tuple(FEATURES), 0), subset, numpy.ones(len(subset)))
    assert result.info.family == "permutation" and result.info.background_rows == 20
    import pyarrow

    repaid = model.predict_scores(pyarrow.Table.from_pandas(subset[FEATURES]), 0)
    assert_additive(result, repaid)


def test_permutation_is_exact_for_an_additive_model(rows: Any, training_frame: Any) -> None:
    """For a model that adds up per-feature terms, every order gives coef * (x - background)."""
    from sklearn.linear_model import LinearRegression

    numeric = ["debt_ratio", "employment_years", "loan_amount"]
    train = training_frame.iloc[:2000]
    model = LinearRegression().fit(train[numeric], train["debt_ratio"] * 3 + train["loan_amount"])
    subset, background = rows.iloc[:50], rows.iloc[100:110]
    target = Target(loaded(model, numeric), tuple(numeric), 1)
    result = explain_by_permutation(target, subset, numpy.ones(50), background=background)
    expected = model.coef_ * (subset[numeric].to_numpy() - background[numeric].to_numpy().mean(0))
    numpy.testing.assert_allclose(result.values, expected, atol=1e-9)
    assert_additive(result, model.predict(subset[numeric]))
