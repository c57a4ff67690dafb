"""SHAP attributions of a model's favourable-outcome score, on the model's original input columns.

The explainer is chosen by model type, each exact or exactly additive:

* **linear** models (``coef_``; binary classifiers and regressors): exact linear SHAP with independent
  features, ``coef * (x - mean x)`` in the model's margin (log-odds for a logistic regression);
* **tree** ensembles of scikit-learn (forests, extra trees, gradient boosting, HistGradientBoosting, single
  trees): shap's TreeExplainer with the ``tree_path_dependent`` algorithm, which needs no background data
  and is exact for the trees' own cover statistics. Interventional TreeSHAP costs background rows x rows
  x tree size (24 s for a forest on 2,000 rows); path-dependent avoids the background factor. shap does not
  understand HistGradientBoosting's native categorical splits, so such models use the fallback;
* **pipelines** with preprocessing: the preprocessing runs on the sample, the final estimator is explained
  on the transformed columns by the rules above, and the attributions of the columns made from one input
  (the one-hot columns of a category, a scaled and imputed number) are summed back onto that input. A
  value filled in by an imputer is attributed to the column it fills;
* everything else, ONNX graphs included: permutation sampling against a small background set
  (:mod:`auditkit.explain.permutation`), in probability space.

Every result records the attribution's additivity error: ``max |sum(attributions) + expected - output|``
against the model's own output, computed independently. A tree explanation above its tolerance is
discarded for the fallback (never a crash, never a silently wrong number).
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy

from auditkit.data.artifacts import LoadedModel, describe_type
from auditkit.explain.permutation import permutation_shap
from auditkit.progress import Progress

if TYPE_CHECKING:
    import pandas

LINEAR_TOLERANCE = 1e-8
TREE_TOLERANCE = 1e-6
PERMUTATION_TOLERANCE = 1e-5
"""Absolute additivity tolerances, scaled by max(1, largest |output|). Permutation sums telescope
exactly; ONNX graphs compute in float32, hence the looser bound."""
PERMUTATION_BACKGROUND = 20
TREE_STABILITY_BACKGROUND = 20
TREE_ROWS_PER_BATCH = 100
TREE_LEAF_ROW_BUDGET = 40_000_000
"""Path-dependent TreeSHAP costs about half a microsecond per leaf and explained row here; the sample
explained with trees is capped so that (leaves x rows) stays under this (about 20 s)."""
MIN_TREE_ROWS = 300
_TREE_MODULES = ("sklearn.ensemble", "sklearn.tree")
_NOT_TREES = ("Isolation", "Voting", "Stacking", "Bagging", "AdaBoost")
"""Ensembles in those modules that are not (only) trees, or that TreeExplainer does not read."""


@dataclass(frozen=True)
class ExplainerInfo:
    """How attributions were computed: recorded with the results."""

    family: str
    """``linear``, ``tree`` or ``permutation``."""
    explainer: str
    model: str
    output: str
    """What the attributions add up to, e.g. ``log-odds of class 0``."""
    tolerance: float
    additivity_error: float | None = None
    pipeline: bool = False
    transformed_columns: int | None = None
    background_rows: int | None = None
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "family": self.family,
            "explainer": self.explainer,
            "model": self.model,
            "output": self.output,
            "pipeline": self.pipeline,
            "transformed_columns": self.transformed_columns,
            "background_rows": self.background_rows,
            "additivity_error": self.additivity_error,
            "tolerance": self.tolerance,
            "additive": self.additive,
            "notes": list(self.notes),
        }

    @property
    def additive(self) -> bool | None:
        if self.additivity_error is None:
            return None
        return self.additivity_error <= self.tolerance


@dataclass(frozen=True)
class Attributions:
    """Per-row attributions on the original columns, and what they explain."""

    values: numpy.ndarray
    expected_value: float
    output: numpy.ndarray
    features: tuple[str, ...]
    info: ExplainerInfo
    seconds: float = 0.0


@dataclass(frozen=True)
class Target:
    """The model and what to explain: its score for the favourable class."""

    model: LoadedModel
    features: tuple[str, ...]
    favourable: Any
    seed: int = 0
    progress: Progress = field(default_factory=Progress)


def additivity_error(values: numpy.ndarray, expected: float, output: numpy.ndarray) -> float:
    if not len(output):
        return 0.0
    return float(numpy.max(numpy.abs(values.sum(axis=1) + expected - output)))


def scaled_tolerance(tolerance: float, output: numpy.ndarray) -> float:
    scale = float(numpy.max(numpy.abs(output))) if len(output) else 1.0
    return tolerance * max(1.0, scale)


def row_cap(model: LoadedModel) -> tuple[int | None, str | None]:
    """The most rows worth explaining with this model, and why (``None`` when there is no cap)."""
    estimator, _ = split_pipeline(model.native) if model.info.format != "onnx" else (None, None)
    if estimator is None or not is_tree_model(estimator):
        return None, None
    leaves = tree_leaves(estimator)
    if not leaves:
        return None, None
    cap = max(MIN_TREE_ROWS, TREE_LEAF_ROW_BUDGET // leaves)
    reason = (
        f"exact TreeSHAP cost grows with the ensemble's {leaves:,} leaves; the sample is capped at "
        f"{cap:,} rows (--sample cannot raise it)"
    )
    return cap, reason


def explain(target: Target, sample: pandas.DataFrame, weights: numpy.ndarray) -> Attributions:
    """Attributions for every row of ``sample`` with the explainer the model's type calls for."""
    started = time.perf_counter()
    result = _explain(target, sample, weights)
    return replace(result, seconds=time.perf_counter() - started)


def _explain(target: Target, sample: pandas.DataFrame, weights: numpy.ndarray) -> Attributions:
    if target.model.info.format == "onnx":
        return explain_by_permutation(target, sample, weights, ("ONNX graph: model-agnostic",))
    estimator, prepare = split_pipeline(target.model.native)
    matrix = _model_matrix(target, prepare, sample)
    if matrix is None:
        note = "the preprocessing's output columns could not be traced to input columns"
        return explain_by_permutation(target, sample, weights, (note,))
    transformed, assignment = matrix
    if is_linear_model(estimator):
        mean = numpy.average(numpy.nan_to_num(transformed), axis=0, weights=weights)
        inner = _linear(estimator, transformed, mean, target)
    elif is_tree_model(estimator) and not _has_categorical_splits(estimator):
        inner = _tree(estimator, transformed, target)
        if not inner.info.additive:
            note = (
                f"TreeExplainer's additivity error {inner.info.additivity_error:.2g} exceeded "
                f"{inner.info.tolerance:.2g}; fell back to permutation sampling"
            )
            return explain_by_permutation(target, sample, weights, (note,))
    else:
        note = (
            "HistGradientBoosting with native categorical splits (shap's tree algorithm ignores them)"
            if is_tree_model(estimator)
            else f"no exact explainer for {type(estimator).__name__}"
        )
        return explain_by_permutation(target, sample, weights, (note,))
    return _on_inputs(inner, assignment, target, prepare is not None)


def split_pipeline(native: Any) -> tuple[Any, Any]:
    """(final estimator, preprocessing pipeline or ``None``)."""
    steps = getattr(native, "steps", None)
    if steps and len(steps) > 1:
        return steps[-1][1], native[:-1]
    if steps:
        return steps[-1][1], None
    return native, None


def is_linear_model(estimator: Any) -> bool:
    coef = getattr(estimator, "coef_", None)
    if coef is None or not hasattr(estimator, "intercept_"):
        return False
    rows = numpy.atleast_2d(coef).shape[0]
    return rows == 1 and not hasattr(estimator, "kernel")


def is_tree_model(estimator: Any) -> bool:
    """A scikit-learn tree or tree ensemble that shap's TreeExplainer reads."""
    cls = type(estimator)
    if not cls.__module__.startswith(_TREE_MODULES) or cls.__name__.startswith(_NOT_TREES):
        return False
    return any(hasattr(estimator, name) for name in ("estimators_", "tree_", "_predictors"))


def tree_leaves(estimator: Any) -> int:
    """Total leaves of a scikit-learn tree model (0 when unknown)."""
    if hasattr(estimator, "_predictors"):
        return sum(int(p.nodes["is_leaf"].sum()) for row in estimator._predictors for p in row)
    if hasattr(estimator, "tree_"):
        return int(estimator.tree_.n_leaves)
    trees = numpy.asarray(getattr(estimator, "estimators_", []), dtype=object).ravel()
    return sum(int(tree.tree_.n_leaves) for tree in trees if hasattr(tree, "tree_"))


def _has_categorical_splits(estimator: Any) -> bool:
    categorical = getattr(estimator, "is_categorical_", None)
    return categorical is not None and bool(numpy.any(categorical))


def _model_matrix(
    target: Target, prepare: Any, sample: pandas.DataFrame
) -> tuple[numpy.ndarray, numpy.ndarray] | None:
    """The final estimator's input matrix and each of its columns' source input (an index array)."""
    inputs = sample[list(target.features)]
    if prepare is None:
        try:
            return numpy.asarray(inputs, dtype=numpy.float64), numpy.arange(len(target.features))
        except (TypeError, ValueError):
            return None
    transformed = _dense(prepare.transform(inputs))
    assignment = trace_columns(prepare, inputs, transformed, target.features)
    return None if assignment is None else (transformed, assignment)


def _dense(matrix: Any) -> numpy.ndarray:
    if hasattr(matrix, "toarray"):
        matrix = matrix.toarray()
    return numpy.asarray(matrix, dtype=numpy.float64)


def trace_columns(
    prepare: Any, inputs: pandas.DataFrame, transformed: numpy.ndarray, features: Sequence[str]
) -> numpy.ndarray | None:
    """For each transformed column, the index of the input column it is made from.

    First by the preprocessing's output names (``categorical__region_Riverside`` comes from ``region``);
    a column the names do not settle is traced by perturbing one input at a time and seeing which
    transformed columns move. ``None`` when a column depends on several inputs.
    """
    names = _output_names(prepare, transformed.shape[1])
    assignment = numpy.full(transformed.shape[1], -1)
    for column, name in enumerate(names):
        assignment[column] = _source_of(name, features)
    unresolved = numpy.flatnonzero(assignment < 0)
    if len(unresolved):
        moved = _moved_columns(prepare, inputs, transformed, features)
        for column in unresolved.tolist():
            sources = [i for i, columns in enumerate(moved) if columns[column]]
            if len(sources) != 1:
                return None
            assignment[column] = sources[0]
    return assignment


def _output_names(prepare: Any, width: int) -> list[str]:
    try:
        names = [str(name) for name in prepare.get_feature_names_out()]
    except Exception:  # preprocessing steps without output names raise various errors
        return [""] * width
    return names if len(names) == width else [""] * width


def _source_of(name: str, features: Sequence[str]) -> int:
    """The longest input name that ``name`` (or its part after a ``transformer__`` prefix) derives from."""
    candidates = [name]
    while "__" in candidates[-1]:
        candidates.append(candidates[-1].split("__", 1)[1])
    for candidate in candidates:
        matches = [
            index
            for index, feature in enumerate(features)
            if candidate == feature or candidate.startswith(f"{feature}_")
        ]
        if matches:
            return max(matches, key=lambda index: len(features[index]))
    return -1


def _moved_columns(
    prepare: Any, inputs: pandas.DataFrame, transformed: numpy.ndarray, features: Sequence[str]
) -> list[numpy.ndarray]:
    moved = []
    for feature in features:
        shifted = inputs.copy()
        shifted[feature] = numpy.roll(inputs[feature].to_numpy(), 1)
        changed = _dense(prepare.transform(shifted)) != transformed
        both_nan = numpy.isnan(transformed) & numpy.isnan(_dense(prepare.transform(shifted)))
        moved.append(numpy.any(changed & ~both_nan, axis=0))
    return moved


def _on_inputs(
    inner: Attributions, assignment: numpy.ndarray, target: Target, pipeline: bool
) -> Attributions:
    """Sum the transformed columns' attributions onto the input columns they come from."""
    width = len(target.features)
    onto = numpy.zeros((len(assignment), width))
    onto[numpy.arange(len(assignment)), assignment] = 1.0
    values = inner.values @ onto
    info = replace(
        inner.info,
        pipeline=pipeline,
        transformed_columns=len(assignment) if pipeline else None,
        additivity_error=additivity_error(values, inner.expected_value, inner.output),
    )
    if pipeline:
        info = replace(
            info,
            notes=(
                *info.notes,
                "attributions of transformed columns are summed onto the input column each is made "
                "from; an imputed value counts for the column it fills",
            ),
        )
    return replace(inner, values=values, features=target.features, info=info)


def _favourable_sign(estimator: Any, target: Target) -> tuple[float, str]:
    """+1 or -1 so that the margin is the favourable class's, and what that margin is."""
    classes = getattr(estimator, "classes_", None)
    if classes is None or (
        not hasattr(estimator, "predict_proba") and not hasattr(estimator, "decision_function")
    ):
        return 1.0, "prediction"
    index = target.model.class_index(target.favourable)
    favourable = numpy.asarray(classes).tolist()[index]
    return (1.0 if index == 1 else -1.0), f"log-odds of class {favourable}"


def _linear(
    estimator: Any, transformed: numpy.ndarray, mean: numpy.ndarray, target: Target
) -> Attributions:
    coef = numpy.atleast_2d(numpy.asarray(estimator.coef_, dtype=numpy.float64))[0]
    intercept = float(numpy.ravel(estimator.intercept_)[0])
    sign, output_name = _favourable_sign(estimator, target)
    values = sign * coef * (transformed - mean)
    expected = sign * (float(coef @ mean) + intercept)
    output = sign * _margin(estimator, transformed)
    target.progress.report("attributions", len(transformed), len(transformed))
    info = ExplainerInfo(
        family="linear",
        explainer="exact linear SHAP (independent features; background: the weighted sample mean)",
        model=describe_type(estimator),
        output=output_name,
        tolerance=scaled_tolerance(LINEAR_TOLERANCE, output),
        background_rows=len(transformed),
    )
    return Attributions(values, expected, output, (), info)


def _margin(estimator: Any, transformed: numpy.ndarray) -> numpy.ndarray:
    data = _estimator_input(estimator, transformed)
    if hasattr(estimator, "decision_function"):
        return numpy.asarray(estimator.decision_function(data), dtype=numpy.float64).ravel()
    return numpy.asarray(estimator.predict(data), dtype=numpy.float64).ravel()


def _estimator_input(estimator: Any, transformed: numpy.ndarray) -> Any:
    """Named columns when the estimator was fitted on a frame (avoids scikit-learn's name warning)."""
    names = getattr(estimator, "feature_names_in_", None)
    if names is None:
        return transformed
    import pandas

    return pandas.DataFrame(transformed, columns=list(names))


def _shap() -> Any:
    with warnings.catch_warnings():  # shap's import warns about matplotlib deprecations
        warnings.simplefilter("ignore")
        import shap
    return shap


def _tree(estimator: Any, transformed: numpy.ndarray, target: Target) -> Attributions:
    shap = _shap()
    explainer = shap.TreeExplainer(estimator, feature_perturbation="tree_path_dependent")
    rows = len(transformed)
    chunks = []
    target.progress.report("attributions", 0, rows)
    for start in range(0, rows, TREE_ROWS_PER_BATCH):
        chunk = transformed[start : start + TREE_ROWS_PER_BATCH]
        chunks.append(_tree_values(explainer, chunk))
        target.progress.report("attributions", min(rows, start + TREE_ROWS_PER_BATCH), rows)
    raw = numpy.concatenate(chunks) if chunks else numpy.zeros((0, transformed.shape[1]))
    values, expected, output, output_name = _tree_outputs(
        estimator, explainer, raw, transformed, target
    )
    info = ExplainerInfo(
        family="tree",
        explainer="shap.TreeExplainer (tree_path_dependent)",
        model=describe_type(estimator),
        output=output_name,
        tolerance=scaled_tolerance(TREE_TOLERANCE, output),
        additivity_error=additivity_error(values, expected, output),
    )
    return Attributions(values, expected, output, (), info)


def _tree_values(explainer: Any, chunk: numpy.ndarray) -> numpy.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return numpy.asarray(explainer.shap_values(chunk, check_additivity=False))


def _tree_outputs(
    estimator: Any, explainer: Any, raw: numpy.ndarray, transformed: numpy.ndarray, target: Target
) -> tuple[numpy.ndarray, float, numpy.ndarray, str]:
    """Pick the favourable class's attributions and the model output they explain."""
    expected_values = numpy.atleast_1d(numpy.asarray(explainer.expected_value, dtype=numpy.float64))
    data = _estimator_input(estimator, transformed)
    if raw.ndim == 3:
        index = target.model.class_index(target.favourable)
        favourable = numpy.asarray(estimator.classes_).tolist()[index]
        if hasattr(estimator, "decision_function"):
            margin = numpy.asarray(estimator.decision_function(data), dtype=numpy.float64)
            return (
                raw[:, :, index],
                float(expected_values[index]),
                margin[:, index],
                f"raw score of class {favourable}",
            )
        probability = numpy.asarray(estimator.predict_proba(data), dtype=numpy.float64)[:, index]
        return (
            raw[:, :, index],
            float(expected_values[index]),
            probability,
            f"probability of class {favourable}",
        )
    sign, output_name = _favourable_sign(estimator, target)
    if output_name == "prediction":
        output = numpy.asarray(estimator.predict(data), dtype=numpy.float64).ravel()
    else:
        output = sign * _margin(estimator, transformed)
    return sign * raw, sign * float(expected_values[0]), output, output_name


def second_opinion(
    target: Target,
    family: str,
    rows: pandas.DataFrame,
    background: pandas.DataFrame,
    background_weights: numpy.ndarray,
    seed: int,
) -> numpy.ndarray:
    """Attributions of ``rows`` again, against another background sample: for a stability check.

    Linear: the other sample's mean; trees: interventional TreeSHAP against some of its rows;
    permutation: some of its rows and other feature orders.
    """
    if family == "permutation":
        chosen = background_rows(background, background_weights, PERMUTATION_BACKGROUND, seed)
        ones = numpy.ones(len(rows))
        return explain_by_permutation(target, rows, ones, background=chosen, seed=seed).values
    if family == "tree":
        chosen = background_rows(background, background_weights, TREE_STABILITY_BACKGROUND, seed)
        return tree_interventional(target, rows, chosen)
    estimator, prepare = split_pipeline(target.model.native)
    matrix = _model_matrix(target, prepare, rows)
    reference = _model_matrix(target, prepare, background)
    assert matrix is not None and reference is not None
    mean = numpy.average(numpy.nan_to_num(reference[0]), axis=0, weights=background_weights)
    inner = _linear(estimator, matrix[0], mean, target)
    return _on_inputs(inner, matrix[1], target, prepare is not None).values


def tree_interventional(
    target: Target, sample: pandas.DataFrame, background: pandas.DataFrame
) -> numpy.ndarray:
    """Interventional TreeSHAP against ``background`` (a second opinion for reason-code stability)."""
    shap = _shap()

    estimator, prepare = split_pipeline(target.model.native)
    matrix = _model_matrix(target, prepare, sample)
    reference = _model_matrix(target, prepare, background)
    assert matrix is not None and reference is not None
    explainer = shap.TreeExplainer(
        estimator, data=reference[0], feature_perturbation="interventional"
    )
    raw = _tree_values(explainer, matrix[0])
    values, *_ = _tree_outputs(estimator, explainer, raw, matrix[0], target)
    width = len(target.features)
    onto = numpy.zeros((len(matrix[1]), width))
    onto[numpy.arange(len(matrix[1])), matrix[1]] = 1.0
    result: numpy.ndarray = values @ onto
    return result


def background_rows(
    sample: pandas.DataFrame, weights: numpy.ndarray, size: int, seed: int
) -> pandas.DataFrame:
    """``size`` rows drawn with probability proportional to their weight (population-representative)."""
    rng = numpy.random.default_rng(seed)
    size = min(size, len(sample))
    chosen = rng.choice(len(sample), size=size, replace=False, p=weights / weights.sum())
    return sample.iloc[numpy.sort(chosen)]


def explain_by_permutation(
    target: Target,
    sample: pandas.DataFrame,
    weights: numpy.ndarray,
    notes: tuple[str, ...] = (),
    *,
    background: pandas.DataFrame | None = None,
    seed: int | None = None,
) -> Attributions:
    """The model-agnostic fallback, on the favourable class's probability."""
    seed = target.seed if seed is None else seed
    if background is None:
        background = background_rows(sample, weights, PERMUTATION_BACKGROUND, seed)
    model, favourable = target.model, target.favourable

    def score(table: Any) -> numpy.ndarray:
        return model.predict_scores(table, favourable)

    values, expected, output = permutation_shap(
        sample, background, target.features, score, seed=seed, progress=target.progress
    )
    classes = model.info.classes
    output_name = f"probability of class {favourable}" if classes is not None else "score"
    info = ExplainerInfo(
        family="permutation",
        explainer=(
            f"permutation sampling (one feature order and its reverse per row, "
            f"{len(background)} background rows)"
        ),
        model=model.info.model_type,
        output=output_name,
        tolerance=scaled_tolerance(PERMUTATION_TOLERANCE, output),
        additivity_error=additivity_error(values, expected, output),
        background_rows=len(background),
        notes=notes,
    )
    return Attributions(values, expected, output, target.features, info)
