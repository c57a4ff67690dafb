"""Data-quality checks of the current data, against the reference data where one is given, in DuckDB.

The checks, by the name a ``data_quality`` policy rule gives as ``check:`` (defined once, in
:data:`QUALITY_CHECKS`):

* ``missing_rate`` (each column): the share of rows where the column is missing (NULL, or NaN in a
  FLOAT / DOUBLE column).
* ``out_of_range_rate`` (each column numeric in both datasets; needs the reference): the share of the
  current non-missing values that lie outside the reference's [min, max]. Values equal to the
  reference's minimum or maximum are in range. The denominator is the non-missing values, not all rows.
* ``new_category_rate`` (each categorical column, as in :mod:`auditkit.metrics.drift`; needs the
  reference): the share of current rows whose value never occurs in the reference. The denominator is
  every current row; a missing value is not a new category. By default the identifier and timestamp
  columns are left out (their values are new by nature); name them in ``columns`` to include them.
* ``constant`` (each column): 1 when the column has at most one distinct non-missing value (an
  all-missing column is constant), else 0.
* ``duplicate_ids`` (needs the ``id`` role): the number of rows whose identifier occurs more than once
  (an identifier seen three times counts three rows); rows with a missing identifier are not counted.
* ``row_count``: the rows of the current data.
* ``schema_changes`` (needs the reference): the number of columns added, removed, or whose DuckDB type
  changed, against the reference; the detail names each.

A check that cannot be computed (no rows, no values to compare) has the value None and a reason. A
check whose prerequisite is absent (the reference, or the ``id`` role) is left out of the report;
:data:`QUALITY_CHECKS` says what each check needs.

Work is a few scans whatever the number of columns: one over the reference (its row count and every
numeric column's bounds), one over the current data (row count, missing counts, constancy and
out-of-range counts of every column), one over each for the category comparison, and one for
duplicate identifiers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from auditkit.data.datasets import Dataset
from auditkit.data.sql import quote_identifier, quote_literal
from auditkit.data.workspace import Workspace
from auditkit.errors import InputError
from auditkit.metrics.drift import (
    CategoryComparison,
    column_kind,
    compare_categories,
    present_value_sql,
)
from auditkit.yamlsource import did_you_mean

_SHOWN_NAMES = 5


@dataclass(frozen=True)
class QualityCheckDefinition:
    """A data-quality check as policies name it and reports describe it."""

    key: str
    title: str
    description: str
    per_column: bool
    needs_reference: bool = False
    needs_id: bool = False


QUALITY_CHECKS: dict[str, QualityCheckDefinition] = {
    definition.key: definition
    for definition in (
        QualityCheckDefinition(
            "missing_rate",
            "Missing rate",
            "Share of rows where the column is missing (NULL, or NaN in a floating-point column).",
            per_column=True,
        ),
        QualityCheckDefinition(
            "out_of_range_rate",
            "Out-of-range rate",
            "Share of the column's non-missing values outside the reference's [min, max] "
            "(numeric columns).",
            per_column=True,
            needs_reference=True,
        ),
        QualityCheckDefinition(
            "duplicate_ids",
            "Duplicate identifiers",
            "Rows whose identifier occurs more than once.",
            per_column=False,
            needs_id=True,
        ),
        QualityCheckDefinition(
            "constant",
            "Constant column",
            "1 when the column has at most one distinct non-missing value, else 0.",
            per_column=True,
        ),
        QualityCheckDefinition("row_count", "Row count", "Rows in the current data.", False),
        QualityCheckDefinition(
            "schema_changes",
            "Schema changes",
            "Columns added, removed or with a changed type against the reference.",
            per_column=False,
            needs_reference=True,
        ),
        QualityCheckDefinition(
            "new_category_rate",
            "New-category rate",
            "Share of rows whose value never occurs in the reference (categorical columns).",
            per_column=True,
            needs_reference=True,
        ),
    )
}
"""Every data-quality check, by its policy name; the policy validator and listings read this."""


@dataclass(frozen=True)
class QualityCheck:
    """One check's result: for one column, or for the whole dataset when ``column`` is None."""

    check: str
    column: str | None
    value: float | int | None
    detail: str
    reason: str | None = None
    """Why ``value`` is None."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "column": self.column,
            "value": self.value,
            "detail": self.detail,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class QualityReport:
    """Every data-quality check that applies to the current data."""

    checks: tuple[QualityCheck, ...]
    row_count: int
    reference_row_count: int | None

    def find(self, check: str, column: str | None = None) -> QualityCheck | None:
        """The result of ``check`` for ``column``; else its dataset-wide entry (column None)."""
        exact = next((c for c in self.checks if c.check == check and c.column == column), None)
        if exact is not None or column is None:
            return exact
        return next((c for c in self.checks if c.check == check and c.column is None), None)

    def value(self, check: str, column: str | None = None) -> float | int | None:
        """The value of ``check`` for ``column`` (None for a dataset-wide check)."""
        found = self.find(check, column)
        return None if found is None else found.value

    def of(self, check: str) -> tuple[QualityCheck, ...]:
        """Every result of ``check`` (one per column for a per-column check)."""
        return tuple(item for item in self.checks if item.check == check)

    def to_dict(self) -> dict[str, Any]:
        return {
            "row_count": self.row_count,
            "reference_row_count": self.reference_row_count,
            "checks": [item.to_dict() for item in self.checks],
        }


def compute_data_quality(
    workspace: Workspace,
    current: Dataset,
    reference: Dataset | None = None,
    *,
    columns: Sequence[str] | None = None,
) -> QualityReport:
    """Every check that applies to ``columns`` (default: every column of the current data).

    A requested column that only the reference has is reported as missing from the current data; a
    column that neither dataset has is an :class:`InputError`.
    """
    chosen = _quality_columns(current, reference, columns)
    present = [column for column in chosen if column in current.schema]
    absent = [column for column in chosen if column not in current.schema]
    reference_summary = _ReferenceSummary.empty()
    if reference is not None:
        reference_summary = _reference_summary(workspace, reference, current, present)
    summary = _current_summary(workspace, current, present, reference_summary)
    checks = [
        QualityCheck("row_count", None, summary.rows, _row_detail(summary.rows, reference_summary)),
        *summary.checks,
        *(check for column in absent for check in _absent_column(column)),
    ]
    if current.roles.id is not None:
        checks.append(_duplicate_ids(workspace, current, current.roles.id))
    if reference is not None:
        categorical = _new_category_columns(current, reference, present, columns is None)
        comparisons = compare_categories(workspace, reference, current, categorical)
        checks += [_new_category_check(found) for found in comparisons.values()]
        checks.append(_schema_changes(reference.schema, current.schema))
    return QualityReport(tuple(checks), summary.rows, reference_summary.rows)


def _quality_columns(
    current: Dataset, reference: Dataset | None, columns: Sequence[str] | None
) -> list[str]:
    if columns is None:
        return list(current.schema)
    known = [*current.schema, *(reference.schema if reference is not None else ())]
    unknown = [column for column in columns if column not in known]
    if unknown:
        raise InputError(
            "; ".join(
                f"data-quality column {column!r} is not in the data{did_you_mean(column, known)}"
                for column in unknown
            )
        )
    return list(dict.fromkeys(columns))


def _absent_column(column: str) -> list[QualityCheck]:
    reason = f"the current data has no column {column!r}"
    return [
        QualityCheck(key, column, None, reason, reason)
        for key, definition in QUALITY_CHECKS.items()
        if definition.per_column
    ]


def _row_detail(rows: int, reference: _ReferenceSummary) -> str:
    if reference.rows is None:
        return f"{rows} rows"
    return f"{rows} rows (reference: {reference.rows})"


# The reference: row count and numeric bounds, one scan -----------------------------------------


@dataclass(frozen=True)
class _Bounds:
    """The reference's smallest and largest non-missing value of a column (None when it has none)."""

    low: Any
    high: Any
    column_type: str
    """The reference's type of the column: the bounds are compared as values of that type."""

    def literals(self) -> tuple[str, str]:
        # str() of a Python int, float or Decimal reads back as the same value, "inf" included.
        return self._literal(self.low), self._literal(self.high)

    def _literal(self, bound: Any) -> str:
        return f"CAST({quote_literal(str(bound))} AS {self.column_type})"


@dataclass(frozen=True)
class _ReferenceSummary:
    rows: int | None
    bounds: dict[str, _Bounds]
    """Bounds of every column that is numeric in both datasets."""

    @staticmethod
    def empty() -> _ReferenceSummary:
        return _ReferenceSummary(None, {})


def _reference_summary(
    workspace: Workspace, reference: Dataset, current: Dataset, columns: Sequence[str]
) -> _ReferenceSummary:
    numeric = [
        column
        for column in columns
        if column in reference.schema and column_kind(column, reference, current) == "numeric"
    ]
    parts = ["count(*)"]
    for column in numeric:
        value = present_value_sql(column, reference.schema[column])
        parts += [f"min({value})", f"max({value})"]
    row = workspace.connection.execute(
        f"SELECT {', '.join(parts)} FROM {reference.relation}"
    ).fetchone()
    assert row is not None
    bounds = {
        column: _Bounds(row[1 + 2 * index], row[2 + 2 * index], reference.schema[column])
        for index, column in enumerate(numeric)
    }
    return _ReferenceSummary(int(row[0]), bounds)


# The current data: missing, constant and out-of-range counts, one scan -------------------------


@dataclass(frozen=True)
class _CurrentSummary:
    rows: int
    checks: tuple[QualityCheck, ...]


def _current_summary(
    workspace: Workspace,
    current: Dataset,
    columns: Sequence[str],
    reference: _ReferenceSummary,
) -> _CurrentSummary:
    parts = ["count(*)"]
    for column in columns:
        parts += _column_aggregates(column, current.schema[column], reference)
    row = workspace.connection.execute(
        f"SELECT {', '.join(parts)} FROM {current.relation}"
    ).fetchone()
    assert row is not None
    rows, values = int(row[0]), list(row[1:])
    checks: list[QualityCheck] = []
    for column in columns:
        missing, single_value, lowest = values[:3]
        del values[:3]
        checks += [
            _missing_rate(column, int(missing), rows),
            _constant(column, single_value, lowest, rows),
        ]
        if column in reference.bounds:
            outside, present = values[:2]
            del values[:2]
            checks.append(_out_of_range(column, outside, int(present), reference.bounds[column]))
    return _CurrentSummary(rows, tuple(checks))


def _column_aggregates(column: str, column_type: str, reference: _ReferenceSummary) -> list[str]:
    value = present_value_sql(column, column_type)
    # min = max over the non-missing values tells "at most one distinct value" without the memory
    # a count(DISTINCT) of every column would take. The value itself comes back as text: Python
    # cannot represent every DuckDB type (a TIMESTAMPTZ needs pytz, for one).
    parts = [
        f"count(*) - count({value})",
        f"min({value}) = max({value})",
        f"CAST(min({value}) AS VARCHAR)",
    ]
    bounds = reference.bounds.get(column)
    if bounds is not None:
        if bounds.low is None:
            parts.append("NULL")
        else:
            low, high = bounds.literals()
            parts.append(f"count(*) FILTER (WHERE {value} < {low} OR {value} > {high})")
        parts.append(f"count({value})")
    return parts


def _missing_rate(column: str, missing: int, rows: int) -> QualityCheck:
    if not rows:
        return QualityCheck("missing_rate", column, None, "no rows", "the current data has no rows")
    return QualityCheck("missing_rate", column, missing / rows, f"{missing} of {rows} rows missing")


def _constant(
    column: str, single_value: bool | None, lowest: str | None, rows: int
) -> QualityCheck:
    """``single_value`` is min = max over the non-missing values: None when there are none."""
    if not rows:
        return QualityCheck("constant", column, None, "no rows", "the current data has no rows")
    if single_value is None:
        return QualityCheck("constant", column, 1, "every value is missing")
    if single_value:
        return QualityCheck("constant", column, 1, f"every non-missing value is {lowest}")
    return QualityCheck("constant", column, 0, "more than one distinct value")


def _out_of_range(column: str, outside: int | None, present: int, bounds: _Bounds) -> QualityCheck:
    if outside is None:
        reason = "the reference has no values in this column"
        return QualityCheck("out_of_range_rate", column, None, reason, reason)
    if not present:
        reason = "the current data has no values in this column"
        return QualityCheck("out_of_range_rate", column, None, reason, reason)
    detail = (
        f"{outside} of {present} values outside the reference range [{bounds.low}, {bounds.high}]"
    )
    return QualityCheck("out_of_range_rate", column, int(outside) / present, detail)


# Identifiers, categories, schema ---------------------------------------------------------------


def _duplicate_ids(workspace: Workspace, current: Dataset, column: str) -> QualityCheck:
    quoted = quote_identifier(column)
    row = workspace.connection.execute(
        f"SELECT coalesce(sum(n), 0), count(*) FROM (SELECT count(*) AS n FROM {current.relation} "
        f"WHERE {quoted} IS NOT NULL GROUP BY {quoted} HAVING count(*) > 1)"
    ).fetchone()
    assert row is not None
    rows, identifiers = int(row[0]), int(row[1])
    detail = f"{rows} rows share {identifiers} identifiers in column {column!r}"
    return QualityCheck("duplicate_ids", None, rows, detail)


def _new_category_columns(
    current: Dataset, reference: Dataset, columns: Sequence[str], by_default: bool
) -> list[str]:
    skipped = {current.roles.id, current.roles.timestamp} if by_default else set()
    return [
        column
        for column in columns
        if column in reference.schema
        and column not in skipped
        and column_kind(column, reference, current) == "categorical"
    ]


def _new_category_check(found: CategoryComparison) -> QualityCheck:
    if not found.current_rows:
        reason = "the current data has no rows"
        return QualityCheck("new_category_rate", found.column, None, reason, reason)
    names = found.new_categories()[:_SHOWN_NAMES]
    shown = ", ".join(repr(name) for name in names)
    if found.new_count > len(names):
        shown += ", ..."
    detail = f"{found.new_rows} rows in {found.new_count} new categories"
    if found.new_count:
        detail += f": {shown}"
    return QualityCheck(
        "new_category_rate", found.column, found.new_rows / found.current_rows, detail
    )


def _schema_changes(reference: dict[str, str], current: dict[str, str]) -> QualityCheck:
    added = [column for column in current if column not in reference]
    removed = [column for column in reference if column not in current]
    changed = [
        f"{column} {reference[column]} → {current[column]}"
        for column in current
        if column in reference and reference[column] != current[column]
    ]
    parts = []
    if added:
        parts.append("added " + ", ".join(added))
    if removed:
        parts.append("removed " + ", ".join(removed))
    if changed:
        parts.append("type changed " + ", ".join(changed))
    return QualityCheck(
        "schema_changes",
        None,
        len(added) + len(removed) + len(changed),
        "; ".join(parts) if parts else "no changes",
    )
