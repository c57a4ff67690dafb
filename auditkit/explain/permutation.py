"""The model-agnostic fallback: Shapley values by permutation sampling against a small background set.

For every explained row, every background row and every sampled feature order (taken with its reverse,
which halves the variance), features are switched one at a time from the background row's value to the
explained row's value; each switch's change in the score is that feature's contribution. The changes
along one path add up to ``f(row) - f(background row)``, so the attributions of a row add up exactly
(up to floating point) to ``f(row) - mean f(background)``. The model is only called on batches of
rows, which works for any model that scores a table: scikit-learn estimators and ONNX graphs alike.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy
import pyarrow

from auditkit.progress import Progress

if TYPE_CHECKING:
    import pandas

Scorer = Callable[[pyarrow.Table], numpy.ndarray]
POINTS_PER_BATCH = 20_000
"""Model calls are batched to about this many rows."""


def table_of(columns: Sequence[numpy.ndarray], names: Sequence[str]) -> pyarrow.Table:
    """An Arrow table of the given columns (NaN and None become nulls)."""
    return pyarrow.table(
        {
            name: pyarrow.array(values, from_pandas=True)
            for name, values in zip(names, columns, strict=True)
        }
    )


def column_arrays(frame: pandas.DataFrame, features: Sequence[str]) -> list[numpy.ndarray]:
    return [frame[name].to_numpy() for name in features]


def permutation_shap(
    rows: pandas.DataFrame,
    background: pandas.DataFrame,
    features: Sequence[str],
    score: Scorer,
    *,
    seed: int,
    pairs: int = 1,
    progress: Progress,
    stage: str = "attributions",
) -> tuple[numpy.ndarray, float, numpy.ndarray]:
    """(attributions rows x features, expected value, score of each row)."""
    rng = numpy.random.default_rng(seed)
    x_columns = column_arrays(rows, features)
    b_columns = column_arrays(background, features)
    features = list(features)
    width = len(features)
    n, k = len(rows), len(background)
    background_scores = numpy.asarray(score(table_of(b_columns, features)), dtype=numpy.float64)
    row_scores = numpy.asarray(score(table_of(x_columns, features)), dtype=numpy.float64)
    values = numpy.zeros((n, width))
    orders = [rng.permutation(width) for _ in range(pairs)]
    orders = [order for first in orders for order in (first, first[::-1])]
    chunk = max(1, POINTS_PER_BATCH // max(1, k * max(1, width - 1)))
    progress.report(stage, 0, n)
    for start in range(0, n, chunk):
        stop = min(n, start + chunk)
        for order in orders:
            values[start:stop, order] += _path_contributions(
                x_columns,
                b_columns,
                features,
                order,
                (start, stop),
                score,
                background_scores,
                row_scores[start:stop],
            )
        progress.report(stage, stop, n)
    values /= len(orders)
    return values, float(background_scores.mean()), row_scores


def _path_contributions(
    x_columns: list[numpy.ndarray],
    b_columns: list[numpy.ndarray],
    features: list[str],
    order: numpy.ndarray,
    span: tuple[int, int],
    score: Scorer,
    background_scores: numpy.ndarray,
    row_scores: numpy.ndarray,
) -> numpy.ndarray:
    """Mean over background rows of each step's score change, in ``order``'s positions."""
    start, stop = span
    rows, k, width = stop - start, len(background_scores), len(features)
    steps = (
        width - 1
    )  # the first and last points of a path are the cached background and row scores
    if steps:
        switched = numpy.zeros((steps, width), dtype=bool)
        for step in range(steps):
            switched[step, order[: step + 1]] = True
        row_index = numpy.repeat(numpy.arange(start, stop), k * steps)
        background_index = numpy.tile(numpy.repeat(numpy.arange(k), steps), rows)
        step_index = numpy.tile(numpy.arange(steps), rows * k)
        columns = [
            _mixed(x_columns[f][row_index], b_columns[f][background_index], switched[step_index, f])
            for f in range(width)
        ]
        inner = numpy.asarray(score(table_of(columns, features)), dtype=numpy.float64)
        inner = inner.reshape(rows, k, steps)
    else:
        inner = numpy.zeros((rows, k, 0))
    path = numpy.concatenate(
        [
            numpy.broadcast_to(background_scores[None, :, None], (rows, k, 1)),
            inner,
            numpy.broadcast_to(row_scores[:, None, None], (rows, k, 1)),
        ],
        axis=2,
    )
    result: numpy.ndarray = numpy.diff(path, axis=2).mean(axis=1)
    return result


def _mixed(from_row: numpy.ndarray, from_background: numpy.ndarray, take_row: numpy.ndarray) -> Any:
    if from_row.dtype != from_background.dtype:
        from_row, from_background = from_row.astype(object), from_background.astype(object)
    return numpy.where(take_row, from_row, from_background)
