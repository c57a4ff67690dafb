"""A seeded sample of a dataset, stratified by its sensitive groups, drawn in DuckDB.

Every intersection of the sensitive attributes (missing values included) is a stratum. Each stratum is
guaranteed a few rows (all of its rows when it is smaller), the rest of the sample is shared in proportion
to stratum size, and within a stratum rows are taken in a seeded hash order. Only the chosen rows leave
DuckDB. Because small strata are over-represented, every row carries a weight (stratum rows / rows taken)
so that sample averages estimate population averages.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pyarrow

from auditkit.data.datasets import Dataset
from auditkit.data.sql import quote_identifier
from auditkit.data.workspace import Workspace
from auditkit.errors import InputError

if TYPE_CHECKING:
    import pandas

ROW = "__auditkit_row"
WEIGHT = "__auditkit_weight"
DECISION = "__auditkit_decision"
RANK = "__auditkit_rank"
ADDED = (DECISION, ROW, WEIGHT, RANK)
"""The columns the sampling query adds to the data's rows: a column of the data with one of these names
would be taken for it (a row number from the data instead of the row's position: another sample, and
wrong weights), so such data is refused."""
MIN_PER_STRATUM = 30
"""Rows every stratum is guaranteed (all of its rows when smaller), budget permitting."""


@dataclass(frozen=True)
class Sample:
    """The sampled rows (pandas, small) and how they were drawn."""

    frame: pandas.DataFrame
    """The requested columns plus ``__auditkit_row`` (position in the data) and ``__auditkit_weight``."""
    population_rows: int
    requested: int
    seed: int
    strata: int
    stratified_by: tuple[str, ...]

    @property
    def rows(self) -> int:
        return len(self.frame)

    @property
    def weights(self) -> Any:
        return self.frame[WEIGHT].to_numpy(dtype="float64")


def allocate(counts: Sequence[int], size: int) -> list[int]:
    """Rows to take from each stratum: a guaranteed floor, then the rest in proportion to size.

    Deterministic (largest remainders, ties to the earlier stratum); the total is ``min(size, sum)``.
    """
    total = sum(counts)
    if size >= total:
        return list(counts)
    floor = min(MIN_PER_STRATUM, size // (2 * len(counts)))
    taken = [min(count, floor) for count in counts]
    left = size - sum(taken)
    spare = [count - take for count, take in zip(counts, taken, strict=True)]
    spare_total = sum(spare)
    shares = [left * extra / spare_total if spare_total else 0.0 for extra in spare]
    extra = [math.floor(share) for share in shares]
    order = sorted(range(len(counts)), key=lambda i: (-(shares[i] - extra[i]), i))
    for i in order[: left - sum(extra)]:
        extra[i] += 1
    return [take + more for take, more in zip(taken, extra, strict=True)]


@dataclass(frozen=True)
class DrawnRows:
    """A drawn sample still in Arrow, with every column drawn: the part of :class:`Sample` that can
    be drawn before it is known which columns will be used (a model's, while the model loads)."""

    table: pyarrow.Table
    """The drawn columns, then ``__auditkit_decision`` (when drawn), ``__auditkit_row`` and
    ``__auditkit_weight``."""
    columns: tuple[str, ...]
    """The data's columns drawn."""
    population_rows: int
    requested: int
    seed: int
    strata: int
    stratified_by: tuple[str, ...]

    def has(self, columns: Sequence[str]) -> bool:
        return set(columns) <= set(self.columns)

    def sample(self, columns: Sequence[str]) -> Sample:
        """The sample of ``columns`` (drawn ones) as pandas, each column as drawn."""
        marks = [DECISION] if DECISION in self.table.column_names else []
        table = self.table.select([*dict.fromkeys(columns), *marks, ROW, WEIGHT])
        return Sample(
            frame=table.to_pandas(),
            population_rows=self.population_rows,
            requested=self.requested,
            seed=self.seed,
            strata=self.strata,
            stratified_by=self.stratified_by,
        )


def draw_rows(
    workspace: Workspace,
    dataset: Dataset,
    columns: Sequence[str],
    *,
    size: int,
    seed: int,
    strata: Sequence[str] | None = None,
    with_decision: bool = False,
) -> DrawnRows:
    """Draw ``size`` rows of ``dataset`` (stratified by ``strata``, default its sensitive columns),
    kept in Arrow until :meth:`DrawnRows.sample` (DuckDB imports pandas when the allocation is
    registered)."""
    _refuse_added_names(dataset)
    strata = tuple(dataset.roles.sensitive if strata is None else strata)
    counts = _stratum_counts(workspace, dataset, strata)
    takes = allocate(counts.column("__rows").to_pylist(), size)
    allocation = counts.append_column("__take", pyarrow.array(takes, pyarrow.int64()))
    name = f"__auditkit_allocation_{seed & 0xFFFF}"
    workspace.connection.register(name, allocation)
    try:
        sql = _sample_sql(dataset, columns, strata, name, seed, with_decision)
        table = _arrow(workspace, sql)
    finally:
        workspace.connection.unregister(name)
    return DrawnRows(
        table=table,
        columns=tuple(dict.fromkeys(columns)),
        population_rows=sum(counts.column("__rows").to_pylist()),
        requested=size,
        seed=seed,
        strata=counts.num_rows,
        stratified_by=strata,
    )


def _refuse_added_names(dataset: Dataset) -> None:
    clash = next((column for column in dataset.schema if column in ADDED), None)
    if clash is not None:
        raise InputError(
            f"{dataset.source.spec.path}: column {clash!r} has the name of a column auditkit adds to "
            "the rows it samples for the explanation; rename it to explain this data"
        )


def _arrow(workspace: Workspace, sql: str) -> pyarrow.Table:
    # DuckDB will not start a new result while one read with fetchone() is still open; discard it.
    workspace.connection.abort()
    return workspace.connection.sql(sql).to_arrow_table()


def _stratum_counts(workspace: Workspace, dataset: Dataset, strata: tuple[str, ...]) -> Any:
    keys = ", ".join(quote_identifier(column) for column in strata)
    if not strata:
        return _arrow(workspace, f"SELECT count(*) AS __rows FROM {dataset.relation}")
    return _arrow(
        workspace,
        f"SELECT {keys}, count(*) AS __rows FROM {dataset.relation} GROUP BY {keys} ORDER BY {keys}",
    )


def _sample_sql(
    dataset: Dataset,
    columns: Sequence[str],
    strata: tuple[str, ...],
    allocation: str,
    seed: int,
    with_decision: bool,
) -> str:
    # Hash the id column when there is one, so the sample does not depend on the files' row order.
    key = quote_identifier(dataset.roles.id) if dataset.roles.id else ROW
    partition = f"PARTITION BY {', '.join(quote_identifier(c) for c in strata)}" if strata else ""
    join = (
        " AND ".join(
            f"r.{quote_identifier(c)} IS NOT DISTINCT FROM a.{quote_identifier(c)}" for c in strata
        )
        or "TRUE"
    )
    selected = ", ".join(f"r.{quote_identifier(column)}" for column in dict.fromkeys(columns))
    decision = f", {dataset.decision_sql} AS {DECISION}" if with_decision else ""
    return f"""
        WITH numbered AS (
            SELECT *{decision}, row_number() OVER () - 1 AS {ROW} FROM {dataset.relation}
        ),
        ranked AS (
            SELECT *, row_number() OVER ({partition} ORDER BY hash({key}, {int(seed)}), {ROW})
                AS {RANK}
            FROM numbered
        )
        SELECT {selected}{", r." + DECISION if with_decision else ""}, r.{ROW},
               CAST(a.__rows AS DOUBLE) / a.__take AS {WEIGHT}
        FROM ranked AS r JOIN {quote_identifier(allocation)} AS a ON {join}
        WHERE r.{RANK} <= a.__take
        ORDER BY r.{ROW}
    """
