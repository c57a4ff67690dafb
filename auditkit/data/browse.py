"""Looking at a registered dataset a page at a time, and profiling its columns, without loading it.

A page is one ``LIMIT``/``OFFSET`` query over the view, so its cost does not grow with the table's size
(beyond the scan up to the offset); column profiles are one aggregate scan with approximate distinct
counts and medians.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb

from auditkit.data.sql import is_numeric_type, quote_identifier
from auditkit.data.workspace import duckdb_message
from auditkit.errors import InputError

MAX_PAGE_ROWS = 1_000


@dataclass(frozen=True)
class Page:
    """Rows ``offset`` to ``offset + len(rows)`` of a view, with its column names and types."""

    view: str
    columns: tuple[str, ...]
    types: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    offset: int
    total: int

    @property
    def last_row(self) -> int:
        """1-based number of the last row shown (0 when the page is empty)."""
        return self.offset + len(self.rows)


@dataclass(frozen=True)
class ColumnProfile:
    """Summary statistics of one column (distinct count and median are approximate)."""

    column: str
    type: str
    minimum: str | None
    maximum: str | None
    approx_distinct: int | None
    mean: str | None
    std: str | None
    median: str | None
    count: int
    null_percentage: float | None


def row_count(connection: duckdb.DuckDBPyConnection, view: str) -> int:
    """Rows of ``view`` (for Parquet, DuckDB answers from the file metadata)."""
    result = connection.execute(f"SELECT count(*) FROM {quote_identifier(view)}").fetchone()
    assert result is not None
    return int(result[0])


def read_page(
    connection: duckdb.DuckDBPyConnection,
    view: str,
    *,
    offset: int,
    limit: int,
    total: int | None = None,
) -> Page:
    """One page of ``view``; ``offset`` is clamped to the table, ``limit`` to :data:`MAX_PAGE_ROWS`."""
    if limit < 1:
        raise InputError(f"page size must be at least 1, not {limit}")
    total = row_count(connection, view) if total is None else total
    limit = min(limit, MAX_PAGE_ROWS)
    offset = max(0, min(offset, max(total - 1, 0)))
    try:
        result = connection.execute(
            f"SELECT * FROM {quote_identifier(view)} LIMIT {int(limit)} OFFSET {int(offset)}"
        )
        rows = tuple(tuple(row) for row in result.fetchall())
    except duckdb.Error as error:
        raise InputError(f"{view}: cannot read rows: {duckdb_message(error)}") from None
    description = result.description or []
    columns = tuple(str(item[0]) for item in description)
    types = tuple(str(item[1]) for item in description)
    return Page(view, columns, types, rows, offset, total)


def profile_columns(connection: duckdb.DuckDBPyConnection, view: str) -> tuple[ColumnProfile, ...]:
    """Min, max, approximate distinct count, mean, spread, approximate median and missing share of
    every column of ``view``, in one aggregate scan (cheaper than ``SUMMARIZE``'s exact quantiles)."""
    columns = connection.execute(f"DESCRIBE {quote_identifier(view)}").fetchall()
    selects = ["count(*)"]
    for name, column_type, *_ in columns:
        selects += _column_aggregates(quote_identifier(name), str(column_type))
    try:
        row = connection.execute(
            f"SELECT {', '.join(selects)} FROM {quote_identifier(view)}"
        ).fetchone()
    except duckdb.Error as error:
        raise InputError(f"{view}: cannot profile: {duckdb_message(error)}") from None
    assert row is not None
    rows = int(row[0])
    profiles = []
    for index, (name, column_type, *_) in enumerate(columns):
        values = row[1 + index * _PER_COLUMN : 1 + (index + 1) * _PER_COLUMN]
        profiles.append(_profile(str(name), str(column_type), rows, values))
    return tuple(profiles)


_PER_COLUMN = 7


def _column_aggregates(column: str, column_type: str) -> list[str]:
    numeric = is_numeric_type(column_type)
    return [
        f"CAST(min({column}) AS VARCHAR)",
        f"CAST(max({column}) AS VARCHAR)",
        f"approx_count_distinct({column})",
        f"count({column})",
        f"avg({column})" if numeric else "NULL",
        f"stddev_samp({column})" if numeric else "NULL",
        f"approx_quantile({column}, 0.5)" if numeric else "NULL",
    ]


def _profile(name: str, column_type: str, rows: int, values: tuple[Any, ...]) -> ColumnProfile:
    minimum, maximum, distinct, present, mean, std, median = values
    return ColumnProfile(
        column=name,
        type=column_type,
        minimum=minimum,
        maximum=maximum,
        # HyperLogLog can overshoot: never more distinct values than present ones.
        approx_distinct=None if distinct is None else min(int(distinct), int(present)),
        mean=_text(mean),
        std=_text(std),
        median=_text(median),
        count=rows,
        null_percentage=100.0 * (rows - int(present)) / rows if rows else None,
    )


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return f"{value:.6g}" if isinstance(value, float) else str(value)
