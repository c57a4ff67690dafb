"""Aggregation in DuckDB: per-group counts and sums, one scan of the data per query.

All groupings of a request share one scan: ``GROUP BY GROUPING SETS ((), (race), (sex), (race, sex))``.
``GROUPING(...)`` tells a rolled-up NULL (the column is not part of this grouping) from a real missing
value (the explicit ``unknown`` group). Only these small tables come back to Python; every metric is
derived from them. Aggregates are sums and counts, so they decompose across partitions. Without a label
column the same scan counts the decisions alone (the decision margins of the confusion matrix).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import duckdb
import numpy

from auditkit.data.datasets import Dataset
from auditkit.data.sql import quote_identifier

GroupKey = tuple[tuple[str, ...], tuple[Any, ...]]
"""(grouping columns, group values); the overall row is ``((), ())``."""

LOG_LOSS_EPSILON = float(numpy.finfo(numpy.float64).eps)
ECE_BINS = 10

_VALID = "__y IS NOT NULL AND __d IS NOT NULL"
_DECIDED = "__d IS NOT NULL"
_CELL_FILTERS = {
    "tp": "__y = 1 AND __d = 1",
    "fp": "__y = 0 AND __d = 1",
    "tn": "__y = 0 AND __d = 0",
    "fn": "__y = 1 AND __d = 0",
}
_MARGIN_FILTERS = {"selected": "__d = 1", "rejected": "__d = 0"}
"""The decision margins of :data:`auditkit.metrics.registry.DECISION_MARGINS`, counted without a label."""


@dataclass(frozen=True)
class Request:
    """What the aggregation must produce."""

    groupings: tuple[tuple[str, ...], ...]
    weighted: bool
    regression: bool
    labelled: bool = True
    """The data has a label column; without one only decisions (and scores) are aggregated."""
    score_sums: bool = False
    """Brier, log loss, score range (needs a score column)."""
    scoring_median: float | None = None
    """When set, count rows scoring above it (for ``scoring_rate``)."""
    ranks: bool = False
    """ROC AUC, average precision, KS: the per-distinct-score scan."""
    calibration: bool = False
    """ECE: the per-bin scan."""


def sensitive_columns(groupings: Sequence[tuple[str, ...]]) -> list[str]:
    """The distinct columns of all groupings, in first-seen order."""
    seen: list[str] = []
    for grouping in groupings:
        seen += [column for column in grouping if column not in seen]
    return seen


def grouping_mask(columns: Sequence[str], grouping: tuple[str, ...]) -> int:
    """The value of ``GROUPING(columns...)`` for rows of ``grouping``: a bit set per column left out,
    the first column being the most significant bit."""
    mask = 0
    for column in columns:
        mask = (mask << 1) | (0 if column in grouping else 1)
    return mask


def _base_cte(dataset: Dataset, columns: Sequence[str], request: Request, with_score: bool) -> str:
    selected = [quote_identifier(column) for column in columns]
    if request.labelled:
        selected.append(f"{dataset.label_sql} AS __y")
    selected.append(
        f"{dataset.decision_sql} AS __d" if dataset.has_decision else "NULL::INTEGER AS __d"
    )
    selected.append(f"{dataset.weight_sql} AS __w" if request.weighted else "1.0 AS __w")
    if with_score and dataset.score_sql:
        selected.append(f"{dataset.score_sql} AS __s")
    if request.scoring_median is not None and dataset.raw_score_sql:
        # The scoring rate reads the score as the tool gives it (LL144: above the median), also for
        # a risk score, which the other score metrics read turned round.
        selected.append(f"{dataset.raw_score_sql} AS __r")
    return f"base AS (SELECT {', '.join(selected)} FROM {dataset.relation})"


def _grouping_sets(groupings: Sequence[tuple[str, ...]], extra: str | None = None) -> str:
    sets = [(), *dict.fromkeys(groupings)]
    rendered = []
    for grouping in sets:
        parts = [quote_identifier(column) for column in grouping] + ([extra] if extra else [])
        rendered.append("(" + ", ".join(parts) + ")")
    return ", ".join(rendered)


def _grouping_call(columns: Sequence[str]) -> str:
    if not columns:
        return "0"
    return f"GROUPING({', '.join(quote_identifier(column) for column in columns)})"


def exact_sum(expression: str, condition: str = "", *, scale: int = 18) -> str:
    """``sum(expression)`` that gives the same bits on every run.

    DuckDB adds doubles in parallel, in an order that varies from run to run, so a float sum can
    differ in its last bits between two runs on the same data. Each term is rounded to 18 decimals
    (far below what any metric reports) and added as a 128-bit decimal, which is exact whatever the
    order. Only for bounded terms (scores, losses, weights): the decimal holds values up to
    ``10 ** (38 - scale)``.
    """
    return f"CAST({_decimal_sum(expression, condition, scale=scale)} AS DOUBLE)"


def _decimal_sum(expression: str, condition: str = "", *, scale: int = 18) -> str:
    return f"sum(CAST({expression} AS DECIMAL(38, {scale}))) {condition}"


def _classification_aggregates(request: Request) -> list[str]:
    """With a label: rows with a decision and an outcome, and the rows of each confusion cell."""
    return _counted_cells(request, _VALID, _CELL_FILTERS)


def _decision_aggregates(request: Request) -> list[str]:
    """Without a label: rows with a decision, and the rows of each decision margin."""
    return _counted_cells(request, _DECIDED, _MARGIN_FILTERS)


def _counted_cells(request: Request, counted: str, cells: Mapping[str, str]) -> list[str]:
    """``n`` (rows meeting ``counted``) and each cell's count; weighted, also the sums of weights and
    of squared weights (for the effective sample size)."""
    parts = [
        f"count(*) FILTER (WHERE {counted}) AS n",
        *(f"count(*) FILTER (WHERE {condition}) AS {cell}" for cell, condition in cells.items()),
    ]
    if request.weighted:
        parts.append(f"{exact_sum('__w', f'FILTER (WHERE {counted})')} AS w_n")
        for cell, condition in cells.items():
            parts.append(f"{exact_sum('__w', f'FILTER (WHERE {condition})')} AS w_{cell}")
            parts.append(f"{exact_sum('__w * __w', f'FILTER (WHERE {condition})')} AS w2_{cell}")
    return parts


def _regression_predictions() -> list[str]:
    """Without a label: rows with a prediction, and the sums of the mean prediction."""
    valid = f"FILTER (WHERE {_DECIDED})"
    return [
        f"count(*) {valid} AS n",
        f"sum(__w) {valid} AS w_n",
        f"sum(__w * __d) {valid} AS prediction_sum",
    ]


def _regression_aggregates(request: Request) -> list[str]:
    valid = f"FILTER (WHERE {_VALID})"
    parts = [
        f"count(*) {valid} AS n",
        f"sum(__w) {valid} AS w_n",
        f"sum(__w * abs(__y - __d)) {valid} AS abs_error_sum",
        f"sum(__w * (__y - __d) * (__y - __d)) {valid} AS squared_error_sum",
        f"sum(__w * __d) {valid} AS prediction_sum",
    ]
    if request.weighted:
        parts += [
            f"sum(__w * __y) {valid} AS label_sum",
            f"sum(__w * __y * __y) {valid} AS label_square_sum",
        ]
    else:
        # var_pop is numerically stable (Welford); the textbook sum-of-squares formula is not.
        parts.append(f"var_pop(__y) {valid} AS label_variance")
    return parts


def _score_aggregates(request: Request) -> list[str]:
    parts: list[str] = []
    if request.score_sums:
        labelled = "FILTER (WHERE __y IS NOT NULL AND __s IS NOT NULL)"
        clipped = f"greatest(least(__s, {1.0 - LOG_LOSS_EPSILON!r}), {LOG_LOSS_EPSILON!r})"
        parts += [
            f"count(*) {labelled} AS scored_labelled",
            f"{exact_sum('__w', labelled)} AS w_scored_labelled",
            f"{exact_sum('__w * (__s - __y) * (__s - __y)', labelled)} AS brier_sum",
            f"{exact_sum(f'__w * -CASE WHEN __y = 1 THEN ln({clipped}) ELSE ln(1 - {clipped}) END', labelled)} AS log_loss_sum",
            "min(__s) AS score_min",
            "max(__s) AS score_max",
        ]
    if request.scoring_median is not None:
        median = repr(float(request.scoring_median))
        parts += [
            "count(__r) AS scored",
            f"count(*) FILTER (WHERE __r > {median}) AS above_median",
            f"{exact_sum('__w', 'FILTER (WHERE __r IS NOT NULL)')} AS w_scored",
            f"{exact_sum('__w * __w', 'FILTER (WHERE __r IS NOT NULL)')} AS w2_scored",
            f"{exact_sum('__w', f'FILTER (WHERE __r > {median})')} AS w_above_median",
        ]
    return parts


def _rows(
    connection: duckdb.DuckDBPyConnection,
    sql: str,
    columns: Sequence[str],
    groupings: Sequence[tuple[str, ...]],
) -> dict[GroupKey, dict[str, Any]]:
    """Run an aggregate query and key its rows by (grouping, group values)."""
    cursor = connection.execute(sql)
    names = [description[0] for description in cursor.description]
    masks = {grouping_mask(columns, grouping): grouping for grouping in [(), *groupings]}
    result: dict[GroupKey, dict[str, Any]] = {}
    for row in cursor.fetchall():
        record = dict(zip(names, row, strict=True))
        grouping = masks[int(record.pop("__gid"))]
        values = tuple(record[column] for column in grouping)
        for column in columns:
            record.pop(column, None)
        result[(grouping, values)] = record
    return result


def aggregate_counts(
    connection: duckdb.DuckDBPyConnection, dataset: Dataset, request: Request
) -> dict[GroupKey, dict[str, Any]]:
    """One scan: counts (and sums) per group for every grouping of the request, plus overall."""
    columns = sensitive_columns(request.groupings)
    with_score = request.score_sums or request.scoring_median is not None
    aggregates = ["count(*) AS rows"]
    if request.labelled:
        aggregates.append("count(*) FILTER (WHERE __y IS NULL) AS null_label")
    aggregates.append("count(*) FILTER (WHERE __d IS NULL) AS null_decision")
    aggregates += _outcome_aggregates(request)
    aggregates += _score_aggregates(request)
    group_columns = [quote_identifier(column) for column in columns]
    sql = (
        f"WITH {_base_cte(dataset, columns, request, with_score)} "
        f"SELECT {_grouping_call(columns)} AS __gid, {', '.join([*group_columns, *aggregates])} "
        f"FROM base GROUP BY GROUPING SETS ({_grouping_sets(request.groupings)})"
    )
    return _rows(connection, sql, columns, request.groupings)


def _outcome_aggregates(request: Request) -> list[str]:
    if request.regression:
        return _regression_aggregates(request) if request.labelled else _regression_predictions()
    return (
        _classification_aggregates(request) if request.labelled else _decision_aggregates(request)
    )


def score_median(connection: duckdb.DuckDBPyConnection, dataset: Dataset) -> float | None:
    """Median score of the whole (filtered) sample, interpolated like ``numpy.median``."""
    assert dataset.raw_score_sql is not None
    row = connection.execute(
        f"SELECT quantile_cont({dataset.raw_score_sql}, 0.5) FROM {dataset.relation}"
    ).fetchone()
    return None if row is None or row[0] is None else float(row[0])


def aggregate_ranks(
    connection: duckdb.DuckDBPyConnection, dataset: Dataset, request: Request
) -> dict[GroupKey, dict[str, Any]]:
    """One scan to per-distinct-score tallies, then window sums in SQL: exact ROC AUC (Mann–Whitney with
    ties counted one half), average precision and the KS statistic per group."""
    columns = sensitive_columns(request.groupings)
    group_columns = [quote_identifier(column) for column in columns]
    partition = ", ".join(["__gid", *group_columns])
    selected = ", ".join([*group_columns]) + (", " if group_columns else "")
    auc_term = "pos * (neg_below + 0.5 * neg)"
    # Unweighted, the terms are whole numbers and halves: their double sum is exact in any order.
    auc_sum = exact_sum(auc_term) if request.weighted else f"sum({auc_term})"
    sql = f"""
    WITH {_base_cte(dataset, columns, request, True)},
    tallies AS (
        SELECT {_grouping_call(columns)} AS __gid, {selected} __s,
               coalesce({_decimal_sum("__w", "FILTER (WHERE __y = 1)")}, 0) AS pos,
               coalesce({_decimal_sum("__w", "FILTER (WHERE __y = 0)")}, 0) AS neg
        FROM base WHERE __y IS NOT NULL AND __s IS NOT NULL
        GROUP BY GROUPING SETS ({_grouping_sets(request.groupings, "__s")})
    ),
    -- Exact decimal tallies and running sums (the same bits on every run), then doubles per row.
    exact AS (
        SELECT *,
          coalesce(sum(neg) OVER (PARTITION BY {partition} ORDER BY __s
                                  ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS neg_below,
          sum(pos) OVER (PARTITION BY {partition} ORDER BY __s DESC ROWS UNBOUNDED PRECEDING) AS pos_at_or_above,
          sum(neg) OVER (PARTITION BY {partition} ORDER BY __s DESC ROWS UNBOUNDED PRECEDING) AS neg_at_or_above,
          sum(pos) OVER (PARTITION BY {partition} ORDER BY __s ROWS UNBOUNDED PRECEDING) AS pos_at_or_below,
          sum(neg) OVER (PARTITION BY {partition} ORDER BY __s ROWS UNBOUNDED PRECEDING) AS neg_at_or_below,
          sum(pos) OVER (PARTITION BY {partition}) AS positives,
          sum(neg) OVER (PARTITION BY {partition}) AS negatives
        FROM tallies
    ),
    running AS (
        SELECT __gid, {selected} __s,
          CAST(pos AS DOUBLE) AS pos, CAST(neg AS DOUBLE) AS neg,
          CAST(neg_below AS DOUBLE) AS neg_below,
          CAST(pos_at_or_above AS DOUBLE) AS pos_at_or_above,
          CAST(neg_at_or_above AS DOUBLE) AS neg_at_or_above,
          CAST(pos_at_or_below AS DOUBLE) AS pos_at_or_below,
          CAST(neg_at_or_below AS DOUBLE) AS neg_at_or_below,
          CAST(positives AS DOUBLE) AS positives, CAST(negatives AS DOUBLE) AS negatives
        FROM exact
    )
    SELECT __gid, {selected}
      max(positives) AS rank_positives,
      max(negatives) AS rank_negatives,
      {auc_sum} AS auc_numerator,
      {exact_sum("CASE WHEN pos > 0 THEN pos * pos_at_or_above / (pos_at_or_above + neg_at_or_above) ELSE 0 END")}
        AS ap_numerator,
      max(abs(pos_at_or_below / nullif(positives, 0) - neg_at_or_below / nullif(negatives, 0))) AS ks_statistic
    FROM running GROUP BY {partition}
    """
    return _rows(connection, sql, columns, request.groupings)


def aggregate_calibration(
    connection: duckdb.DuckDBPyConnection, dataset: Dataset, request: Request
) -> dict[GroupKey, dict[str, Any]]:
    """One scan to per-bin sums, then ECE per group: Σ_bins |Σ score − Σ outcome| / Σ weight."""
    columns = sensitive_columns(request.groupings)
    group_columns = [quote_identifier(column) for column in columns]
    partition = ", ".join(["__gid", *group_columns])
    selected = ", ".join(group_columns) + (", " if group_columns else "")
    sql = f"""
    WITH {_base_cte(dataset, columns, request, True)},
    binned AS (SELECT *, least(floor(__s * {ECE_BINS}), {ECE_BINS - 1}) AS __bin
               FROM base WHERE __y IS NOT NULL AND __s IS NOT NULL),
    bins AS (
        SELECT {_grouping_call(columns)} AS __gid, {selected} __bin,
               {exact_sum("__w")} AS weight, {exact_sum("__w * __s")} AS score_sum,
               {exact_sum("__w * __y")} AS outcome_sum
        FROM binned GROUP BY GROUPING SETS ({_grouping_sets(request.groupings, "__bin")})
    )
    SELECT __gid, {selected} {exact_sum("abs(score_sum - outcome_sum)")} / nullif({exact_sum("weight")}, 0) AS ece_value
    FROM bins GROUP BY {partition}
    """
    return _rows(connection, sql, columns, request.groupings)
