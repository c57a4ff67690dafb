"""Looking at a registered dataset a page at a time, and profiling its columns, without loading it.

A page is one ``LIMIT``/``OFFSET`` query over the view, so its cost does not grow with the table's size
(beyond the scan up to the offset); column profiles are DuckDB's ``SUMMARIZE``, one aggregate scan.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb

from auditkit.data.sql import quote_identifier
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
    """What ``SUMMARIZE`` tells about one column."""

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
    """Min, max, distinct count, mean, spread and missing share of every column of ``view``."""
    try:
        rows = connection.execute(f"SUMMARIZE {quote_identifier(view)}").fetchall()
    except duckdb.Error as error:
        raise InputError(f"{view}: cannot profile: {duckdb_message(error)}") from None
    return tuple(_profile(row) for row in rows)


def _profile(row: tuple[Any, ...]) -> ColumnProfile:
    # SUMMARIZE: name, type, min, max, approx_unique, avg, std, q25, q50, q75, count, null_percentage
    return ColumnProfile(
        column=str(row[0]),
        type=str(row[1]),
        minimum=_text(row[2]),
        maximum=_text(row[3]),
        approx_distinct=None if row[4] is None else int(row[4]),
        mean=_text(row[5]),
        std=_text(row[6]),
        median=_text(row[8]),
        count=int(row[10]),
        null_percentage=None if row[11] is None else float(row[11]),
    )


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
