"""Drift of every feature between the reference (training) data and the current data, in DuckDB.

Numeric columns (DuckDB numeric types):
  * PSI, the population stability index, Σ (cur − ref)·ln(cur / ref) over bins whose edges are the
    reference's deciles (``quantile_cont`` at 0.1 … 0.9, equal edges merged; the first bin is open
    below, the last open above; missing values form their own bin). An empty bin on one side would make
    the log infinite, so a share of zero is replaced by ``EPSILON`` (0.0001) on both sides before the
    sum; the constant is reported with the results. PSI < 0.1 is usually read as stable, 0.1–0.25 as
    a moderate shift, > 0.25 as a significant shift.
  * KS, the two-sample Kolmogorov–Smirnov statistic: the largest distance between the two empirical
    distribution functions, computed exactly from per-value counts; its p-value uses the asymptotic
    distribution of scipy's ``ks_2samp(method="asymp")``.
Categorical columns (everything else, compared as text):
  * PSI over the categories (the union of both sides, missing as its own category);
  * chi-square test of homogeneity on the 2×k table of counts (no continuity correction);
  * Jensen–Shannon divergence of the category shares, in bits (base 2), between 0 and 1;
  * categories new in the current data, and categories that vanished from it.
Categorical columns with more than ``MAX_CATEGORIES`` values (identifiers, free text) are reported
without distribution statistics.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from auditkit.data.datasets import Dataset
from auditkit.data.sql import quote_identifier
from auditkit.data.workspace import Workspace

EPSILON = 1e-4
MAX_CATEGORIES = 100
MISSING = "(missing)"
_NUMERIC = (
    "TINYINT",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "HUGEINT",
    "UTINYINT",
    "USMALLINT",
    "UINTEGER",
    "UBIGINT",
    "FLOAT",
    "DOUBLE",
    "DECIMAL",
    "REAL",
)


@dataclass(frozen=True)
class DriftBin:
    label: str
    reference_share: float
    current_share: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "reference": self.reference_share,
            "current": self.current_share,
        }


@dataclass(frozen=True)
class FeatureDrift:
    column: str
    kind: Literal["numeric", "categorical"]
    psi: float | None = None
    ks: float | None = None
    ks_p_value: float | None = None
    chi_square: float | None = None
    chi_square_p_value: float | None = None
    js_divergence: float | None = None
    new_categories: tuple[str, ...] = ()
    vanished_categories: tuple[str, ...] = ()
    reference_missing_rate: float | None = None
    current_missing_rate: float | None = None
    bins: tuple[DriftBin, ...] = ()
    reasons: dict[str, str] = field(default_factory=dict)

    def statistic(self, name: str) -> float | None:
        value = getattr(self, name, None)
        return None if value is None else float(value)

    def to_dict(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "kind": self.kind,
            "psi": self.psi,
            "ks": self.ks,
            "ks_p_value": self.ks_p_value,
            "chi_square": self.chi_square,
            "chi_square_p_value": self.chi_square_p_value,
            "js_divergence": self.js_divergence,
            "new_categories": list(self.new_categories),
            "vanished_categories": list(self.vanished_categories),
            "reference_missing_rate": self.reference_missing_rate,
            "current_missing_rate": self.current_missing_rate,
            "bins": [item.to_dict() for item in self.bins],
            "reasons": dict(self.reasons),
        }


@dataclass(frozen=True)
class DriftReport:
    features: tuple[FeatureDrift, ...]
    bins: int
    reference_rows: int
    current_rows: int

    def feature(self, column: str) -> FeatureDrift | None:
        return next((feature for feature in self.features if feature.column == column), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "bins": self.bins,
            "epsilon": EPSILON,
            "reference_rows": self.reference_rows,
            "current_rows": self.current_rows,
            "features": [feature.to_dict() for feature in self.features],
        }


def is_numeric_type(column_type: str) -> bool:
    return column_type.startswith(_NUMERIC)


def compute_drift(
    workspace: Workspace,
    reference: Dataset,
    current: Dataset,
    *,
    columns: Sequence[str] | None = None,
    bins: int = 10,
) -> DriftReport:
    """Drift statistics for ``columns`` (default: the reference's feature columns present in both)."""
    chosen = [
        column
        for column in (columns or reference.feature_columns)
        if column in reference.schema and column in current.schema
    ]
    numeric = [column for column in chosen if is_numeric_type(reference.schema[column])]
    categorical = [column for column in chosen if column not in numeric]
    features = {
        feature.column: feature
        for feature in [
            *_numeric_drift(workspace, reference, current, numeric, bins),
            *_categorical_drift(workspace, reference, current, categorical),
        ]
    }
    return DriftReport(
        tuple(features[column] for column in chosen),
        bins,
        _rows(workspace, reference),
        _rows(workspace, current),
    )


def _rows(workspace: Workspace, dataset: Dataset) -> int:
    row = workspace.connection.execute(f"SELECT count(*) FROM {dataset.relation}").fetchone()
    return int(row[0]) if row else 0


def psi(reference: Sequence[float], current: Sequence[float]) -> float:
    """PSI of two share vectors over the same bins, with zero shares replaced by ``EPSILON``."""
    total = 0.0
    for ref, cur in zip(reference, current, strict=True):
        ref, cur = max(ref, EPSILON), max(cur, EPSILON)
        total += (cur - ref) * math.log(cur / ref)
    return total


def js_divergence(reference: Sequence[float], current: Sequence[float]) -> float:
    """Jensen–Shannon divergence in bits."""
    total = 0.0
    for p, q in zip(reference, current, strict=True):
        m = (p + q) / 2
        if p > 0:
            total += 0.5 * p * math.log2(p / m)
        if q > 0:
            total += 0.5 * q * math.log2(q / m)
    return max(0.0, min(1.0, total))


def _shares(counts: Sequence[float]) -> list[float]:
    total = sum(counts)
    return [count / total if total else 0.0 for count in counts]


# Numeric columns ------------------------------------------------------------------------------


def _numeric_drift(
    workspace: Workspace, reference: Dataset, current: Dataset, columns: list[str], bins: int
) -> list[FeatureDrift]:
    if not columns:
        return []
    edges = _reference_edges(workspace, reference, columns, bins)
    reference_counts = _bin_counts(workspace, reference, edges)
    current_counts = _bin_counts(workspace, current, edges)
    return [
        _numeric_feature(
            workspace,
            reference,
            current,
            column,
            edges[column],
            reference_counts[column],
            current_counts[column],
        )
        for column in columns
    ]


def _reference_edges(
    workspace: Workspace, reference: Dataset, columns: list[str], bins: int
) -> dict[str, list[float]]:
    levels = ", ".join(repr(k / bins) for k in range(1, bins))
    selects = ", ".join(
        f"quantile_cont(CAST({quote_identifier(c)} AS DOUBLE), [{levels}])" for c in columns
    )
    row = workspace.connection.execute(f"SELECT {selects} FROM {reference.relation}").fetchone()
    assert row is not None
    return {column: sorted(set(values or [])) for column, values in zip(columns, row, strict=True)}


def _bin_expression(column: str, edges: list[float]) -> str:
    quoted = quote_identifier(column)
    cases = " ".join(f"WHEN {quoted} <= {edge!r} THEN {index}" for index, edge in enumerate(edges))
    return f"CASE WHEN {quoted} IS NULL THEN -1 {cases} ELSE {len(edges)} END"


def _bin_counts(
    workspace: Workspace, dataset: Dataset, edges: dict[str, list[float]]
) -> dict[str, dict[int, int]]:
    """One scan: the bin counts of every numeric column (GROUPING SETS over the bin expressions)."""
    columns = list(edges)
    aliases = [f"__b{index}" for index in range(len(columns))]
    projections = ", ".join(
        f"{_bin_expression(c, edges[c])} AS {a}" for c, a in zip(columns, aliases, strict=True)
    )
    sets = ", ".join(f"({alias})" for alias in aliases)
    sql = (
        f"SELECT GROUPING({', '.join(aliases)}) AS __gid, {', '.join(aliases)}, count(*) AS n "
        f"FROM (SELECT {projections} FROM {dataset.relation}) GROUP BY GROUPING SETS ({sets})"
    )
    result: dict[str, dict[int, int]] = {column: {} for column in columns}
    width = len(columns)
    for row in workspace.connection.execute(sql).fetchall():
        gid = int(row[0])
        index = next(i for i in range(width) if not (gid >> (width - 1 - i)) & 1)
        result[columns[index]][int(row[1 + index])] = int(row[-1])
    return result


def _bin_labels(edges: list[float]) -> list[str]:
    if not edges:
        return ["all values"]
    labels = [f"≤ {edges[0]:g}"]
    labels += [f"({low:g}, {high:g}]" for low, high in itertools.pairwise(edges)]
    labels.append(f"> {edges[-1]:g}")
    return labels


def _numeric_feature(
    workspace: Workspace,
    reference: Dataset,
    current: Dataset,
    column: str,
    edges: list[float],
    reference_counts: dict[int, int],
    current_counts: dict[int, int],
) -> FeatureDrift:
    indices = list(range(len(edges) + 1))
    labels = _bin_labels(edges)
    if reference_counts.get(-1) or current_counts.get(-1):
        indices.append(-1)
        labels.append(MISSING)
    ref = _shares([reference_counts.get(index, 0) for index in indices])
    cur = _shares([current_counts.get(index, 0) for index in indices])
    reasons: dict[str, str] = {}
    value_psi = None
    if sum(reference_counts.values()) and sum(current_counts.values()):
        value_psi = psi(ref, cur)
    else:
        reasons["psi"] = "one of the datasets has no rows"
    ks, p_value, ks_reason = _exact_ks(workspace, reference, current, column)
    if ks_reason:
        reasons["ks"] = reasons["ks_p_value"] = ks_reason
    elif p_value is None:
        reasons["ks_p_value"] = "too few values for the asymptotic distribution"
    return FeatureDrift(
        column=column,
        kind="numeric",
        psi=value_psi,
        ks=ks,
        ks_p_value=p_value,
        reference_missing_rate=_missing_share(reference_counts),
        current_missing_rate=_missing_share(current_counts),
        bins=tuple(DriftBin(label, r, c) for label, r, c in zip(labels, ref, cur, strict=True)),
        reasons=reasons,
    )


def _missing_share(counts: dict[int, int]) -> float | None:
    total = sum(counts.values())
    return counts.get(-1, 0) / total if total else None


def _exact_ks(
    workspace: Workspace, reference: Dataset, current: Dataset, column: str
) -> tuple[float | None, float | None, str | None]:
    quoted = quote_identifier(column)
    sql = f"""
    WITH r AS (SELECT CAST({quoted} AS DOUBLE) AS x, count(*) AS c FROM {reference.relation}
               WHERE {quoted} IS NOT NULL GROUP BY 1),
         k AS (SELECT CAST({quoted} AS DOUBLE) AS x, count(*) AS c FROM {current.relation}
               WHERE {quoted} IS NOT NULL GROUP BY 1),
         joined AS (SELECT coalesce(r.x, k.x) AS x, coalesce(r.c, 0) AS rc, coalesce(k.c, 0) AS kc
                    FROM r FULL OUTER JOIN k ON r.x = k.x),
         cumulative AS (SELECT sum(rc) OVER (ORDER BY x) AS rcum, sum(kc) OVER (ORDER BY x) AS kcum,
                               sum(rc) OVER () AS rn, sum(kc) OVER () AS kn FROM joined)
    SELECT max(abs(rcum / rn - kcum / kn)), max(rn), max(kn) FROM cumulative
    """
    row = workspace.connection.execute(sql).fetchone()
    if row is None or not row[1] or not row[2]:
        return None, None, "one of the datasets has no values in this column"
    statistic, m, n = float(row[0]), int(row[1]), int(row[2])
    from scipy.stats import kstwo

    effective = round(m * n / (m + n))
    if effective < 1:
        return statistic, None, None
    return statistic, float(min(1.0, max(0.0, kstwo.sf(statistic, effective)))), None


# Categorical columns --------------------------------------------------------------------------


def category_counts(
    workspace: Workspace, dataset: Dataset, columns: list[str]
) -> dict[str, dict[str, int]]:
    """One scan: counts per category (as text, missing as ``(missing)``) of every column."""
    if not columns:
        return {}
    aliases = [f"__c{index}" for index in range(len(columns))]
    projections = ", ".join(
        f"coalesce(CAST({quote_identifier(c)} AS VARCHAR), '{MISSING}') AS {a}"
        for c, a in zip(columns, aliases, strict=True)
    )
    sets = ", ".join(f"({alias})" for alias in aliases)
    sql = (
        f"SELECT GROUPING({', '.join(aliases)}) AS __gid, {', '.join(aliases)}, count(*) AS n "
        f"FROM (SELECT {projections} FROM {dataset.relation}) GROUP BY GROUPING SETS ({sets})"
    )
    result: dict[str, dict[str, int]] = {column: {} for column in columns}
    width = len(columns)
    for row in workspace.connection.execute(sql).fetchall():
        gid = int(row[0])
        index = next(i for i in range(width) if not (gid >> (width - 1 - i)) & 1)
        result[columns[index]][str(row[1 + index])] = int(row[-1])
    return result


def _categorical_drift(
    workspace: Workspace, reference: Dataset, current: Dataset, columns: list[str]
) -> list[FeatureDrift]:
    reference_counts = category_counts(workspace, reference, columns)
    current_counts = category_counts(workspace, current, columns)
    return [
        _categorical_feature(column, reference_counts[column], current_counts[column])
        for column in columns
    ]


def _categorical_feature(
    column: str, reference_counts: dict[str, int], current_counts: dict[str, int]
) -> FeatureDrift:
    categories = sorted(
        set(reference_counts) | set(current_counts), key=lambda name: (name == MISSING, name)
    )
    new = tuple(name for name in categories if name not in reference_counts and name != MISSING)
    vanished = tuple(name for name in categories if name not in current_counts and name != MISSING)
    reference_missing = _share_of(reference_counts, MISSING)
    current_missing = _share_of(current_counts, MISSING)
    if len(categories) > MAX_CATEGORIES:
        reason = f"{len(categories)} categories: too many for a distribution comparison"
        reasons = dict.fromkeys(
            ("psi", "chi_square", "chi_square_p_value", "js_divergence"), reason
        )
        return FeatureDrift(
            column,
            "categorical",
            new_categories=new,
            vanished_categories=vanished,
            reasons=reasons,
            reference_missing_rate=reference_missing,
            current_missing_rate=current_missing,
        )
    ref = _shares([reference_counts.get(name, 0) for name in categories])
    cur = _shares([current_counts.get(name, 0) for name in categories])
    chi_square, p_value, reasons = _chi_square(categories, reference_counts, current_counts)
    empty = not sum(reference_counts.values()) or not sum(current_counts.values())
    if empty:
        reasons["psi"] = reasons["js_divergence"] = "one of the datasets has no rows"
    return FeatureDrift(
        column=column,
        kind="categorical",
        psi=None if empty else psi(ref, cur),
        chi_square=chi_square,
        chi_square_p_value=p_value,
        js_divergence=None if empty else js_divergence(ref, cur),
        new_categories=new,
        vanished_categories=vanished,
        bins=tuple(DriftBin(name, r, c) for name, r, c in zip(categories, ref, cur, strict=True)),
        reasons=reasons,
        reference_missing_rate=reference_missing,
        current_missing_rate=current_missing,
    )


def _share_of(counts: dict[str, int], name: str) -> float | None:
    total = sum(counts.values())
    return counts.get(name, 0) / total if total else None


def _chi_square(
    categories: list[str], reference_counts: dict[str, int], current_counts: dict[str, int]
) -> tuple[float | None, float | None, dict[str, str]]:
    table = [
        [reference_counts.get(name, 0) for name in categories],
        [current_counts.get(name, 0) for name in categories],
    ]
    if len(categories) < 2 or not all(sum(row) for row in table):
        reason = "needs two categories and rows on both sides"
        return None, None, {"chi_square": reason, "chi_square_p_value": reason}
    from scipy.stats import chi2_contingency

    result = chi2_contingency(table, correction=False)
    return float(result.statistic), float(result.pvalue), {}
