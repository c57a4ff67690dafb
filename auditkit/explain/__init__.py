"""Explainability: SHAP attributions on a seeded, stratified sample, per-group importance, proxy risks
and reason codes, as an :class:`ExplanationReport` stored with the run.

shap, scikit-learn and pandas are imported by the functions that use them.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy

from auditkit.data.artifacts import LoadedModel
from auditkit.data.datasets import Dataset
from auditkit.data.scoring import model_features
from auditkit.data.sql import is_numeric_type
from auditkit.data.workspace import Workspace
from auditkit.errors import InputError
from auditkit.explain.attributions import (
    Attributions,
    Target,
    explain,
    row_cap,
    second_opinion,
)
from auditkit.explain.groups import global_importance, group_attributions
from auditkit.explain.proxy import Association, associations, proxy_risks
from auditkit.explain.reasons import agreement, count_codes, count_patterns, row_reasons
from auditkit.explain.report import (
    ExplanationReport,
    FeatureImportance,
    ProxyRisk,
    ReasonCodes,
    SampleInfo,
    plain,
)
from auditkit.explain.sample import DECISION, ROW, DrawnRows, Sample, draw_rows
from auditkit.progress import SILENT, Progress

if TYPE_CHECKING:
    import pandas

__all__ = [
    "DEFAULT_REASONS",
    "DEFAULT_SAMPLE",
    "DEFAULT_SEED",
    "DataPart",
    "ExplanationReport",
    "FeatureImportance",
    "ProxyRisk",
    "draw_for_explanation",
    "explain_dataset",
]

DEFAULT_SAMPLE = 2_000
DEFAULT_SEED = 0
DEFAULT_REASONS = 4
"""Regulation B's commentary: more than four principal reasons are unlikely to help the applicant."""
STABILITY_SAMPLE = 500
STABILITY_ROWS = 100
"""Declined rows explained a second time by the slower explainers (trees, permutation)."""
EXAMPLES = 5


@dataclass(frozen=True)
class DataPart:
    """What an explanation needs of the data alone, drawn before the model is known (the model's
    libraries take a second or more to load): the samples over every column, and the association of
    every candidate input with every sensitive attribute. :func:`explain_dataset` uses each part that
    fits the model (its inputs drawn, its sample size the one drawn) and draws the rest itself."""

    sample: DrawnRows
    background: DrawnRows | None
    """The second sample the reason codes' stability is measured against (classification only)."""
    associations: tuple[Association, ...]
    candidates: frozenset[str]
    """The inputs whose associations were measured: the dataset's feature columns."""


def draw_for_explanation(
    workspace: Workspace,
    dataset: Dataset,
    *,
    sample_size: int = DEFAULT_SAMPLE,
    seed: int = DEFAULT_SEED,
    reasons: int = DEFAULT_REASONS,
) -> DataPart:
    """:class:`DataPart` for :func:`explain_dataset` with the same options; imports no model library,
    so that it can run while another thread loads the model. It does import pandas (DuckDB does, to
    read the registered allocation), which the model's thread may be importing too: pandas imports
    none of the model's libraries, so neither thread holds a module the other waits for."""
    columns = list(dataset.schema)  # data with a column named like one the sample adds is refused
    with_decision = _with_decision(dataset)
    sample = draw_rows(
        workspace, dataset, columns, size=sample_size, seed=seed, with_decision=with_decision
    )
    background = None
    if _gives_reasons(dataset, reasons):
        background = draw_rows(
            workspace,
            dataset,
            columns,
            size=STABILITY_SAMPLE,
            seed=seed + 1,
            with_decision=with_decision,
        )
    candidates = tuple(dataset.feature_columns)
    measured = associations(workspace, dataset, candidates, dataset.roles.sensitive, SILENT)
    return DataPart(sample, background, measured, frozenset(candidates))


def explain_dataset(
    workspace: Workspace,
    dataset: Dataset,
    model: LoadedModel,
    *,
    sample_size: int = DEFAULT_SAMPLE,
    seed: int = DEFAULT_SEED,
    reasons: int = DEFAULT_REASONS,
    progress: Progress = SILENT,
    drawn: DataPart | None = None,
) -> ExplanationReport:
    """Explain ``model`` on a seeded sample of ``dataset`` stratified by its sensitive attributes.

    ``drawn`` is :func:`draw_for_explanation` of the same dataset and options, when it was drawn
    while the model loaded: the report is the same with it or without it.
    """
    timings: dict[str, float] = {}
    clock = time.perf_counter()
    features = model_features(dataset, model)
    attributes = tuple(dataset.roles.sensitive)
    cap, why = row_cap(model)
    size = min(sample_size, cap) if cap is not None and cap < sample_size else sample_size
    if drawn is not None and (drawn.sample.requested != size or drawn.sample.seed != seed):
        drawn = None  # a capped sample is not a part of the larger one: drawn afresh
    progress.report("sample", 0, 1)
    sample = _draw(workspace, dataset, features, size, seed, drawn.sample if drawn else None)
    if not sample.rows:
        where = f" (where {dataset.where})" if dataset.where else ""
        raise InputError(f"{dataset.source.spec.path}: no rows to explain{where}")
    progress.report("sample", 1, 1)
    timings["sample"] = time.perf_counter() - clock
    target = Target(model, features, dataset.roles.positive_label, seed, progress)
    attributions = explain(target, sample.frame, sample.weights)
    timings["attributions"] = attributions.seconds
    clock = time.perf_counter()
    importance = global_importance(attributions.values, sample.weights, features)
    groups, differences = group_attributions(
        sample.frame, attributions.values, sample.weights, features, attributes
    )
    timings["groups"] = time.perf_counter() - clock
    clock = time.perf_counter()
    measured = drawn.associations if drawn and set(features) <= drawn.candidates else None
    proxies = proxy_risks(workspace, dataset, features, attributes, importance, progress, measured)
    timings["proxies"] = time.perf_counter() - clock
    clock = time.perf_counter()
    background = drawn.background if drawn else None
    reason_codes = _reason_codes(
        workspace, dataset, target, sample, attributions, reasons, background
    )
    timings["reasons"] = time.perf_counter() - clock
    return ExplanationReport(
        method=attributions.info,
        sample=SampleInfo(
            requested=sample_size,
            rows=sample.rows,
            population_rows=sample.population_rows,
            seed=seed,
            strata=sample.strata,
            stratified_by=sample.stratified_by,
            limited_by=why if size < sample_size and size < sample.population_rows else None,
        ),
        expected_value=attributions.expected_value,
        importance=importance,
        groups=groups,
        group_differences=differences,
        proxies=proxies,
        reasons=reason_codes,
        timings=timings,
    )


def _draw(
    workspace: Workspace,
    dataset: Dataset,
    features: Sequence[str],
    size: int,
    seed: int,
    drawn: DrawnRows | None = None,
) -> Sample:
    identity = (dataset.roles.id,) if dataset.roles.id else ()
    columns = [*features, *dataset.roles.sensitive, *identity]
    if drawn is not None and drawn.has(columns):
        return drawn.sample(columns)
    with_decision = _with_decision(dataset)
    return draw_rows(
        workspace, dataset, columns, size=size, seed=seed, with_decision=with_decision
    ).sample(columns)


def _with_decision(dataset: Dataset) -> bool:
    return dataset.has_decision and dataset.roles.task == "classification"


def _gives_reasons(dataset: Dataset, k: int) -> bool:
    return dataset.roles.task == "classification" and k >= 1


def _reason_codes(
    workspace: Workspace,
    dataset: Dataset,
    target: Target,
    sample: Sample,
    attributions: Attributions,
    k: int,
    background: DrawnRows | None = None,
) -> ReasonCodes | None:
    """Top-k reasons of every declined sample row, and their agreement with a second explanation."""
    if not _gives_reasons(dataset, k):
        return None
    declined, decision = _declined(dataset, target, sample)
    frame = sample.frame[declined]
    values = attributions.values[declined]
    means = _numeric_means(sample, dataset, target.features)
    first = row_reasons(values, frame, target.features, means, k)
    stability = None
    if len(frame):
        stability = _stability(
            workspace, dataset, target, attributions, frame, first, means, k, background
        )
    return ReasonCodes(
        k=k,
        declined_rows=int(declined.sum()),
        codes=count_codes(first),
        examples=tuple(
            _example(frame, dataset, reasons, i) for i, reasons in enumerate(first[:EXAMPLES])
        ),
        stability=stability,
        decision=decision,
        patterns=count_patterns(first),
    )


def _declined(dataset: Dataset, target: Target, sample: Sample) -> tuple[numpy.ndarray, str]:
    if DECISION in sample.frame:
        decisions = sample.frame[DECISION].to_numpy(dtype="float64", na_value=numpy.nan)
        return decisions == 0, "the dataset's decision"
    import pyarrow

    table = pyarrow.Table.from_pandas(sample.frame[list(target.features)], preserve_index=False)
    scores = target.model.predict_scores(table, target.favourable)
    cut = dataset.roles.threshold if dataset.roles.threshold is not None else 0.5
    return scores < cut, f"the model's score < {cut:g}"


def _numeric_means(sample: Sample, dataset: Dataset, features: Sequence[str]) -> dict[str, float]:
    frame = sample.frame
    means = {}
    for feature in features:
        if is_numeric_type(dataset.schema[feature]):
            values = frame[feature].to_numpy(dtype="float64", na_value=numpy.nan)
            present = ~numpy.isnan(values)
            if present.any():
                means[feature] = float(
                    numpy.average(values[present], weights=sample.weights[present])
                )
    return means


def _stability(
    workspace: Workspace,
    dataset: Dataset,
    target: Target,
    attributions: Attributions,
    frame: pandas.DataFrame,
    first: list[Any],
    means: dict[str, float],
    k: int,
    drawn: DrawnRows | None = None,
) -> Any:
    family = attributions.info.family
    rows = frame if family == "linear" else frame.iloc[:STABILITY_ROWS]
    seed = target.seed + 1
    if drawn is not None and drawn.seed != seed:
        drawn = None
    background = _draw(workspace, dataset, target.features, STABILITY_SAMPLE, seed, drawn)
    values = second_opinion(target, family, rows, background.frame, background.weights, seed)
    second = row_reasons(values, rows, target.features, means, k)
    method = {
        "linear": "exact linear SHAP against another sample's mean",
        "tree": "interventional TreeSHAP against rows of another sample",
        "permutation": "permutation sampling with another background and other feature orders",
    }[family]
    return agreement(first[: len(rows)], second, seed, method)


def _example(
    frame: pandas.DataFrame, dataset: Dataset, reasons: list[Any], i: int
) -> dict[str, Any]:
    row = frame.iloc[i]
    example: dict[str, Any] = {"row": int(row[ROW])}
    if dataset.roles.id:
        example["id"] = plain(row[dataset.roles.id])
    example["reasons"] = [
        {
            "code": reason.code,
            "feature": reason.feature,
            "value": plain(reason.value),
            "contribution": round(reason.contribution, 6),
        }
        for reason in reasons
    ]
    return example
