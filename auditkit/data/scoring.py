"""Score a dataset with a model in Arrow record batches, never holding the whole dataset in memory."""

from __future__ import annotations

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


def score_dataset(
    workspace: Workspace,
    dataset: Dataset,
    model: LoadedModel,
    out_path: Path,
    *,
    score_column: str = "score",
    threshold: float = 0.5,
    batch_size: int = DEFAULT_BATCH_ROWS,
) -> Dataset:
    """Write the dataset with the model's score appended to ``out_path`` (Parquet, atomically) and
    register it under the dataset's name; the returned dataset decides by ``score >= threshold``.

    For a classifier the score is the probability of the dataset's positive label, so a model trained
    to predict default scores "repaid" when the favourable outcome is ``positive_label: 0``."""
    _check_features(dataset, model)
    if score_column in dataset.schema:
        raise InputError(
            f"{dataset.source.spec.path}: column {score_column!r} exists already; cannot add the model's score"
        )
    out_path.parent.mkdir(parents=True, exist_ok=True)
    temporary = out_path.with_name(f".{out_path.name}.tmp")
    reader: pyarrow.RecordBatchReader = workspace.record_batches(
        f"SELECT * FROM {dataset.relation}", batch_size
    )
    writer: pyarrow.parquet.ParquetWriter | None = None
    try:
        for batch in reader:
            scores = pyarrow.array(
                numpy.asarray(
                    model.predict_scores(batch, dataset.roles.positive_label), dtype=numpy.float64
                )
            )
            scored = pyarrow.RecordBatch.from_arrays(
                [*batch.columns, scores], names=[*batch.schema.names, score_column]
            )
            if writer is None:
                writer = pyarrow.parquet.ParquetWriter(temporary, scored.schema, compression="zstd")
            writer.write_batch(scored)
        reader.close()
        if writer is None:
            raise InputError(f"{dataset.source.spec.path}: no rows to score")
        writer.close()
        temporary.replace(out_path)
    except BaseException:
        reader.close()
        if writer is not None:
            writer.close()
        temporary.unlink(missing_ok=True)
        raise
    roles = replace(dataset.roles, score=score_column, threshold=threshold)
    return load_dataset(
        workspace,
        dataset.name,
        SourceSpec(str(out_path), format="parquet"),
        roles,
        require_outcomes=False,
    )


def _check_features(dataset: Dataset, model: LoadedModel) -> None:
    expected = model.info.feature_names or ()
    missing = [name for name in expected if name not in dataset.schema]
    if missing:
        hints = "; ".join(f"{name!r}{did_you_mean(name, dataset.schema)}" for name in missing)
        raise InputError(
            f"{dataset.source.spec.path}: the model needs columns the data lacks: {hints}"
        )
