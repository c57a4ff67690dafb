"""Data-quality checks of the current data (against the reference where one is given), in DuckDB.

The check names are the ``check:`` keys of ``data_quality`` rules and are defined once in
:data:`QUALITY_CHECKS`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from auditkit.data.datasets import Dataset
from auditkit.data.sql import quote_identifier
from auditkit.data.workspace import Workspace
from auditkit.metrics.drift import category_counts, is_numeric_type


@dataclass(frozen=True)
class QualityCheckDefinition:
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
            "missing_rate", "Missing rate", "Share of rows where the column is missing.", True
        ),
        QualityCheckDefinition(
            "out_of_range_rate",
            "Out-of-range rate",
            "Share of the column's values outside the reference's [min, max] (numeric columns).",
            True,
            needs_reference=True,
        ),
        QualityCheckDefinition(
            "new_category_rate",
            "New-category rate",
            "Share of rows whose value never occurs in the reference (categorical columns).",
            True,
            needs_reference=True,
        ),
        QualityCheckDefinition(
            "constant",
            "Constant column",
            "1 when the column has at most one distinct value, else 0.",
            True,
        ),
        QualityCheckDefinition(
            "duplicate_ids",
            "Duplicate identifiers",
            "Rows whose identifier occurs more than once.",
            False,
            needs_id=True,
        ),
        QualityCheckDefinition("row_count", "Row count", "Rows in the current data.", False),
        QualityCheckDefinition(
            "schema_changes",
            "Schema changes",
            "Columns added, removed or with a changed type against the reference.",
            False,
            needs_reference=True,
        ),
    )
}


@dataclass(frozen=True)
class QualityCheck:
    check: str
    column: str | None
    value: float | int | None
    detail: str
    reason: str | None = None

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
    checks: tuple[QualityCheck, ...]
    row_count: int
    reference_row_count: int | None

    def value(self, check: str, column: str | None = None) -> float | int | None:
        # A dataset-wide check (row_count, duplicate_ids, schema_changes) is found without a column.
        found = next(
            (item for item in self.checks if item.check == check and column in (None, item.column)),
            None,
        )
        return None if found is None else found.value

    def of(self, check: str) -> tuple[QualityCheck, ...]:
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
    """Every data-quality check that applies (missing, constant, range, categories, ids, rows, schema)."""
    chosen = list(columns or current.schema)
    rows = _count(workspace, current)
    checks: list[QualityCheck] = [QualityCheck("row_count", None, rows, f"{rows} rows")]
    checks += _missing_and_constant(workspace, current, chosen, rows)
    if current.roles.id:
        checks.append(_duplicate_ids(workspace, current, current.roles.id))
    reference_rows = None
    if reference is not None:
        reference_rows = _count(workspace, reference)
        shared = [column for column in chosen if column in reference.schema]
        checks += _out_of_range(
            workspace, reference, current, [c for c in shared if is_numeric_type(current.schema[c])]
        )
        checks += _new_categories(
            workspace,
            reference,
            current,
            [c for c in shared if not is_numeric_type(current.schema[c]) and c != current.roles.id],
        )
        checks.append(_schema_changes(reference.schema, current.schema))
    return QualityReport(tuple(checks), rows, reference_rows)


def _count(workspace: Workspace, dataset: Dataset) -> int:
    row = workspace.connection.execute(f"SELECT count(*) FROM {dataset.relation}").fetchone()
    return int(row[0]) if row else 0


def _missing_and_constant(
    workspace: Workspace, dataset: Dataset, columns: list[str], rows: int
) -> list[QualityCheck]:
    """One scan: non-null and distinct counts of every column."""
    if not columns:
        return []
    parts = []
    for column in columns:
        quoted = quote_identifier(column)
        parts += [f"count({quoted})", f"count(DISTINCT {quoted})"]
    row = workspace.connection.execute(
        f"SELECT {', '.join(parts)} FROM {dataset.relation}"
    ).fetchone()
    assert row is not None
    checks = []
    for index, column in enumerate(columns):
        present, distinct = int(row[2 * index]), int(row[2 * index + 1])
        missing = rows - present
        if rows:
            checks.append(
                QualityCheck(
                    "missing_rate", column, missing / rows, f"{missing} of {rows} rows missing"
                )
            )
        else:
            checks.append(QualityCheck("missing_rate", column, None, "no rows", "no rows"))
        checks.append(
            QualityCheck("constant", column, int(distinct <= 1), f"{distinct} distinct values")
        )
    return checks


def _duplicate_ids(workspace: Workspace, dataset: Dataset, column: str) -> QualityCheck:
    quoted = quote_identifier(column)
    row = workspace.connection.execute(
        f"SELECT coalesce(sum(c), 0), count(*) FROM (SELECT count(*) AS c FROM {dataset.relation} "
        f"WHERE {quoted} IS NOT NULL GROUP BY {quoted} HAVING count(*) > 1)"
    ).fetchone()
    assert row is not None
    rows, values = int(row[0]), int(row[1])
    return QualityCheck("duplicate_ids", column, rows, f"{rows} rows share {values} identifiers")


def _out_of_range(
    workspace: Workspace, reference: Dataset, current: Dataset, columns: list[str]
) -> list[QualityCheck]:
    if not columns:
        return []
    bounds_sql = ", ".join(
        f"min({quote_identifier(c)}), max({quote_identifier(c)})" for c in columns
    )
    bounds = workspace.connection.execute(
        f"SELECT {bounds_sql} FROM {reference.relation}"
    ).fetchone()
    assert bounds is not None
    parts = []
    for index, column in enumerate(columns):
        low, high = bounds[2 * index], bounds[2 * index + 1]
        quoted = quote_identifier(column)
        if low is None:
            parts += ["NULL", f"count({quoted})"]
        else:
            parts += [
                f"count(*) FILTER (WHERE {quoted} < {float(low)!r} OR {quoted} > {float(high)!r})",
                f"count({quoted})",
            ]
    counts = workspace.connection.execute(
        f"SELECT {', '.join(parts)} FROM {current.relation}"
    ).fetchone()
    assert counts is not None
    checks = []
    for index, column in enumerate(columns):
        outside, present = counts[2 * index], int(counts[2 * index + 1])
        low, high = bounds[2 * index], bounds[2 * index + 1]
        if outside is None or present == 0:
            reason = (
                "the reference has no values"
                if outside is None
                else "no values in the current data"
            )
            checks.append(QualityCheck("out_of_range_rate", column, None, reason, reason))
            continue
        detail = f"{outside} of {present} values outside the reference range [{low:g}, {high:g}]"
        checks.append(QualityCheck("out_of_range_rate", column, int(outside) / present, detail))
    return checks


def _new_categories(
    workspace: Workspace, reference: Dataset, current: Dataset, columns: list[str]
) -> list[QualityCheck]:
    reference_counts = category_counts(workspace, reference, columns)
    current_counts = category_counts(workspace, current, columns)
    checks = []
    for column in columns:
        known = set(reference_counts[column])
        counts = current_counts[column]
        total = sum(counts.values())
        new = {
            name: count
            for name, count in counts.items()
            if name not in known and name != "(missing)"
        }
        rows = sum(new.values())
        names = ", ".join(sorted(new)[:5]) + (", ..." if len(new) > 5 else "")
        detail = f"{rows} rows in {len(new)} new categories" + (f": {names}" if new else "")
        checks.append(
            QualityCheck(
                "new_category_rate",
                column,
                rows / total if total else None,
                detail,
                None if total else "no rows",
            )
        )
    return checks


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
