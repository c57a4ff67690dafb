"""Score a dataset with a model in Arrow record batches, never holding the whole dataset in memory."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

import numpy
import pyarrow
import pyarrow.parquet

from auditkit.data.artifacts import LoadedModel
from auditkit.data.datasets import Dataset, load_dataset
from auditkit.data.sources import SourceSpec
from auditkit.data.workspace import Workspace
from auditkit.errors import InputError
from auditkit.yamlsource import did_you_mean

DEFAULT_BATCH_ROWS = 65_536
DEFAULT_CLASSIFICATION_CUT = 0.5
"""Decides a classifier's prediction column when neither the call nor the roles give a threshold."""


def score_dataset(
    workspace: Workspace,
    dataset: Dataset,
    model: LoadedModel,
    out_path: Path,
    *,
    score_column: str = "score",
    prediction_column: str | None = None,
    threshold: float | None = None,
    batch_size: int = DEFAULT_BATCH_ROWS,
) -> Dataset:
    """Append the model's score (and optionally a decision) to the dataset, batch by batch.

    The rows are written in their original order to ``out_path`` (Parquet, zstd; a temporary file
    renamed into place, so a failure leaves nothing half-written), which is registered as the view
    ``dataset.name`` in place of the unscored data. For a classifier the score is the probability of
    the dataset's positive label, so a model trained to predict default scores "repaid" when the
    favourable outcome is ``positive_label: 0``; for a regressor it is the prediction.

    ``threshold`` (else the dataset's own) becomes the returned roles' threshold. With
    ``prediction_column``, a classifier's decision ``score >= threshold`` (0.5 when no threshold is
    known) is written as 0/1 and becomes the prediction role; a regressor's prediction is the score.
    """
    features = model_features(dataset, model)
    _check_new_columns(dataset, [score_column, prediction_column])
    _check_not_a_source(dataset, out_path)
    cut = threshold if threshold is not None else dataset.roles.threshold
    regression = dataset.roles.task == "regression"
    decision_cut = None if regression else (cut if cut is not None else DEFAULT_CLASSIFICATION_CUT)

    output_fields = [pyarrow.field(score_column, pyarrow.float64())]
    if prediction_column is not None:
        decision_type = pyarrow.float64() if decision_cut is None else pyarrow.int8()
        output_fields.append(pyarrow.field(prediction_column, decision_type))

    def scored_batch(batch: pyarrow.RecordBatch) -> pyarrow.RecordBatch:
        scores = numpy.asarray(
            model.predict_scores(batch.select(list(features)), dataset.roles.positive_label),
            dtype=numpy.float64,
        )
        outputs = [pyarrow.array(scores)]
        if prediction_column is not None:
            outputs.append(_decisions(scores, decision_cut))
        schema = pyarrow.schema([*batch.schema, *output_fields])
        return pyarrow.RecordBatch.from_arrays([*batch.columns, *outputs], schema=schema)

    reader = workspace.record_batches(f"SELECT * FROM {dataset.relation}", batch_size)
    try:
        schema = pyarrow.schema([*reader.schema, *output_fields])
        _write_parquet_atomically(out_path, schema, map(scored_batch, reader))
    finally:
        reader.close()
    # The model's score is the probability of the favourable outcome: a decision made by it is
    # favourable at or above the threshold, whatever the project says of a risk score of its own.
    roles = replace(dataset.roles, score=score_column, threshold=cut, positive_prediction=None)
    if prediction_column is not None:
        positive_prediction = None if regression else 1
        roles = replace(
            roles, prediction=prediction_column, positive_prediction=positive_prediction
        )
    spec = SourceSpec(str(out_path), format="parquet")
    return load_dataset(workspace, dataset.name, spec, roles, require_decisions=False)


def model_features(dataset: Dataset, model: LoadedModel) -> tuple[str, ...]:
    """The columns the model reads: the ones it names, else the dataset's feature columns."""
    expected = model.info.feature_names or dataset.feature_columns
    missing = [name for name in expected if name not in dataset.schema]
    if missing:
        hints = "; ".join(f"{name!r}{did_you_mean(name, dataset.schema)}" for name in missing)
        raise InputError(
            f"{dataset.source.spec.path}: the model needs columns the data lacks: {hints}"
        )
    return tuple(expected)


def _check_new_columns(dataset: Dataset, columns: list[str | None]) -> None:
    for column in columns:
        if column is not None and column in dataset.schema:
            raise InputError(
                f"{dataset.source.spec.path}: column {column!r} exists already; "
                "choose another name for the model's output"
            )


def _check_not_a_source(dataset: Dataset, out_path: Path) -> None:
    target = out_path.resolve()
    if any(Path(file).resolve() == target for file in dataset.source.files):
        raise InputError(f"{out_path}: is the dataset's own file; write the scores elsewhere")


def _decisions(scores: numpy.ndarray, cut: float | None) -> pyarrow.Array:
    if cut is None:
        return pyarrow.array(scores)
    return pyarrow.array((scores >= cut).astype(numpy.int8))


def _write_parquet_atomically(
    out_path: Path, schema: pyarrow.Schema, batches: Iterable[pyarrow.RecordBatch]
) -> None:
    """Write the batches to a temporary Parquet file beside ``out_path``, then rename it into place."""
    out_path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{out_path.name}.", suffix=".tmp", dir=out_path.parent)
    os.close(handle)
    temporary = Path(name)
    try:
        with pyarrow.parquet.ParquetWriter(temporary, schema, compression="zstd") as writer:
            for batch in batches:
                writer.write_batch(batch)
        temporary.replace(out_path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
