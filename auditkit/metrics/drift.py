"""Drift of each feature between the reference (training) data and the current data, in DuckDB.

Which statistics a column gets depends on its DuckDB type. A column is **numeric** when its type is
numeric in both datasets (TINYINT … HUGEINT, the unsigned integers, FLOAT, REAL, DOUBLE, DECIMAL);
values are compared as DOUBLE. Every other column (VARCHAR, BOOLEAN, DATE, TIMESTAMP, nested types,
or a column numeric on one side only) is **categorical** and compared by its text form. The split is by
type alone: an integer-coded category (say ``region`` 1-9) is treated as numeric; store it as text
to compare it as categories. A missing value is SQL NULL; in FLOAT / DOUBLE columns a NaN also counts
as missing. Positive and negative infinity are ordinary (extreme) values.

Numeric columns
  * **PSI**, the population stability index, Σ (c − r)·ln(c / r) over bins, where r and c are the
    shares of reference and current rows in each bin. The bin edges are the reference's quantiles at
    1/b, 2/b, …, (b−1)/b (b = ``bins``, 10 by default: deciles) with linear interpolation between
    order statistics, numpy's default ``quantile`` definition (computed exactly, then rounded once);
    equal edges are merged. The bins are (−∞, e₁], (e₁, e₂], …, (e_k, +∞): a value equal to an edge
    belongs to the bin that the edge closes. Missing values form a bin of their own when either
    dataset has any. An empty bin would make the logarithm infinite, so a share of exactly zero is
    replaced by ``EPSILON`` = 0.0001 on both sides of the term (in the difference and in the ratio).
    The constant is also written into the JSON output. Common reading: PSI < 0.1 stable, 0.1–0.25 a
    moderate shift, > 0.25 a significant shift.
  * **KS**, the two-sample Kolmogorov–Smirnov statistic D = max |F_ref(x) − F_cur(x)| over every value
    x seen in either dataset, where F is the empirical distribution function of the non-missing values.
    It is exact, not binned: computed from cumulative counts at every distinct value, with ties
    handled as scipy's ``ks_2samp`` handles them. Its p-value is the asymptotic one: the Kolmogorov distribution
    ``scipy.stats.kstwo`` with n = round(m·n' / (m + n')) (m, n' the two sample sizes), exactly what
    ``ks_2samp(method="asymp")`` reports. With thousands of rows per side it is indistinguishable
    from the exact p-value; with tiny samples it is approximate, and when the effective size rounds
    to zero it is undefined.

Categorical columns
  * **PSI** as above, with one bin per category (the union of both datasets' categories, missing as a
    category of its own).
  * **Chi-square** test of homogeneity on the 2 × k table of reference and current counts per
    category (missing included), as ``scipy.stats.chi2_contingency`` with its default correction:
    Yates' continuity correction applies only when the table is 2 × 2 (one degree of freedom) and is
    not used otherwise. It needs at least two categories and rows on both sides. With very large
    samples even a negligible shift is "significant": read the p-value together with PSI / JS.
  * **Jensen–Shannon divergence** of the category shares, in bits (base-2 logarithms), so it lies in
    [0, 1]: 0 for identical shares, 1 for shares on disjoint categories. It is the square of scipy's
    ``jensenshannon(p, q, base=2)`` distance.
  * **New categories** (in the current data, never in the reference) and **vanished categories** (in
    the reference, not in the current data), missing excluded.

A categorical column with more than ``MAX_CATEGORIES`` distinct values (an identifier, free text) gets
no distribution statistics; its new and vanished categories are counted, and the first
``SHOWN_CATEGORIES`` of each (in sort order) are listed.

Work is done in DuckDB and only per-bin and per-category tables reach Python. Whatever the number of
columns, the reference is scanned twice for the numeric columns (value counts, then the order
statistics the quantiles need), each dataset once for the bin counts of every numeric column, and
each dataset once for the category counts of every categorical column (GROUPING SETS). The exact KS
statistic is one query per numeric column: it counts rows per distinct value when values repeat a lot,
and otherwise sorts the column's values of both datasets; that sort is the costliest part of drift on
large data.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any, Literal

from auditkit.data.datasets import Dataset
from auditkit.data.sql import FLOATING_TYPES, is_numeric_type, quote_identifier, quote_literal
from auditkit.data.workspace import Workspace
from auditkit.errors import InputError, UsageError
from auditkit.yamlsource import did_you_mean

EPSILON = 1e-4
"""Share used in place of an empty bin's zero share in the PSI sum."""
MAX_CATEGORIES = 250
"""Categorical columns with more distinct values get no distribution statistics."""
SHOWN_CATEGORIES = 20
"""How many new / vanished categories are listed for a column with too many categories."""
MISSING = "(missing)"
"""The label of the bin (or category) of missing values."""

Kind = Literal["numeric", "categorical"]
_STATISTICS = ("psi", "ks", "ks_p_value", "chi_square", "chi_square_p_value", "js_divergence")


# Results ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DriftBin:
    """One bin (numeric) or category (categorical) with each dataset's share of rows in it."""

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
    """The drift statistics of one column; a statistic that cannot be computed is None with a reason."""

    column: str
    kind: Kind
    psi: float | None = None
    ks: float | None = None
    ks_p_value: float | None = None
    chi_square: float | None = None
    chi_square_p_value: float | None = None
    js_divergence: float | None = None
    """Jensen–Shannon divergence in bits, in [0, 1]."""
    new_categories: tuple[str, ...] = ()
    vanished_categories: tuple[str, ...] = ()
    reference_missing_rate: float | None = None
    current_missing_rate: float | None = None
    bins: tuple[DriftBin, ...] = ()
    reasons: dict[str, str] = field(default_factory=dict)
    """Statistic name -> why it is None."""
    new_category_count: int = 0
    """How many new categories there are (``new_categories`` may list only the first few)."""
    vanished_category_count: int = 0

    def statistic(self, name: str) -> float | None:
        """The value of statistic ``name`` (``psi``, ``ks``, ...), None when undefined or not computed."""
        value = getattr(self, name, None) if name in _STATISTICS else None
        return None if value is None else float(value)

    def to_dict(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "kind": self.kind,
            **{name: getattr(self, name) for name in _STATISTICS},
            "new_categories": list(self.new_categories),
            "new_category_count": self.new_category_count,
            "vanished_categories": list(self.vanished_categories),
            "vanished_category_count": self.vanished_category_count,
            "reference_missing_rate": self.reference_missing_rate,
            "current_missing_rate": self.current_missing_rate,
            "bins": [item.to_dict() for item in self.bins],
            "reasons": dict(self.reasons),
        }


@dataclass(frozen=True)
class DriftReport:
    """Drift of every compared column, in the order the columns were asked for."""

    features: tuple[FeatureDrift, ...]
    bins: int
    reference_rows: int
    current_rows: int

    def feature(self, column: str) -> FeatureDrift | None:
        return next((feature for feature in self.features if feature.column == column), None)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary (no NaN or infinity anywhere)."""
        return {
            "bins": self.bins,
            "psi_epsilon": EPSILON,
            "max_categories": MAX_CATEGORIES,
            "ks_p_value_method": "asymptotic (scipy.stats.kstwo, as ks_2samp method='asymp')",
            "reference_rows": self.reference_rows,
            "current_rows": self.current_rows,
            "features": [feature.to_dict() for feature in self.features],
        }


# Entry point -----------------------------------------------------------------------------------


def compute_drift(
    workspace: Workspace,
    reference: Dataset,
    current: Dataset,
    *,
    columns: Sequence[str] | None = None,
    bins: int = 10,
) -> DriftReport:
    """Drift statistics of ``columns`` between ``reference`` and ``current``.

    ``columns`` defaults to the reference's feature columns that the current data also has. A column
    that only one dataset has is reported with every statistic None and the reason; a column that
    neither has is an :class:`InputError`.
    """
    if bins < 1:
        raise UsageError(f"bins must be at least 1, got {bins}")
    chosen = _drift_columns(reference, current, columns)
    shared = [
        column for column in chosen if column in reference.schema and column in current.schema
    ]
    numeric = [column for column in shared if column_kind(column, reference, current) == "numeric"]
    categorical = [column for column in shared if column not in numeric]
    summaries = numeric_summaries(workspace, reference, current, numeric, bins)
    comparisons = compare_categories(workspace, reference, current, categorical)
    features: dict[str, FeatureDrift] = {
        **{column: _numeric_feature(summary) for column, summary in summaries.items()},
        **{column: _categorical_feature(found) for column, found in comparisons.items()},
    }
    reference_rows, current_rows = _row_counts(
        workspace, reference, current, [*summaries.values(), *comparisons.values()]
    )
    return DriftReport(
        features=tuple(
            features[column] if column in features else _one_sided(column, reference, current)
            for column in chosen
        ),
        bins=bins,
        reference_rows=reference_rows,
        current_rows=current_rows,
    )


def _drift_columns(
    reference: Dataset, current: Dataset, columns: Sequence[str] | None
) -> list[str]:
    if columns is None:
        return [column for column in reference.feature_columns if column in current.schema]
    unknown = [c for c in columns if c not in reference.schema and c not in current.schema]
    if unknown:
        known = [*reference.schema, *current.schema]
        raise InputError(
            "; ".join(
                f"drift column {column!r} is in neither dataset{did_you_mean(column, known)}"
                for column in unknown
            )
        )
    return list(dict.fromkeys(columns))


def _one_sided(column: str, reference: Dataset, current: Dataset) -> FeatureDrift:
    """A column that one dataset lacks: nothing can be compared."""
    present, absent = (reference, current) if column in reference.schema else (current, reference)
    reason = f"the {absent.name} data has no column {column!r}"
    kind: Kind = "numeric" if is_numeric_type(present.schema[column]) else "categorical"
    return FeatureDrift(column, kind, reasons=dict.fromkeys(_STATISTICS, reason))


def _row_counts(
    workspace: Workspace,
    reference: Dataset,
    current: Dataset,
    summaries: Sequence[NumericSummary | CategoryComparison],
) -> tuple[int, int]:
    """Row counts, taken from a summary already computed when there is one (saves two scans)."""
    if summaries:
        return summaries[0].reference_rows, summaries[0].current_rows
    row = workspace.connection.execute(
        f"SELECT (SELECT count(*) FROM {reference.relation}), "
        f"(SELECT count(*) FROM {current.relation})"
    ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


# SQL building blocks shared with the data-quality checks --------------------------------------


def column_kind(column: str, reference: Dataset, current: Dataset) -> Kind:
    """Numeric when the column is numeric in both datasets, categorical otherwise."""
    both_numeric = is_numeric_type(reference.schema[column]) and is_numeric_type(
        current.schema[column]
    )
    return "numeric" if both_numeric else "categorical"


def present_value_sql(column: str, column_type: str) -> str:
    """The column's value, with a floating-point NaN turned into NULL (NaN counts as missing)."""
    quoted = quote_identifier(column)
    if column_type.strip().upper() in FLOATING_TYPES:
        # Parquet min/max statistics leave NaN out, and DuckDB's optimizer may then fold isnan(x)
        # to false (duckdb/duckdb#25521). Taking the value out of a one-element list hides those
        # statistics from the optimizer, so the test is made on every row.
        return f"(CASE WHEN isnan([{quoted}][1]) THEN NULL ELSE {quoted} END)"
    return quoted


def double_sql(column: str, column_type: str) -> str:
    """The column as DOUBLE, NaN as NULL."""
    return f"CAST({present_value_sql(column, column_type)} AS DOUBLE)"


def double_literal(value: float) -> str:
    """A DOUBLE literal that also works for ±infinity (``repr`` gives ``inf``, not valid SQL)."""
    if math.isfinite(value):
        return f"CAST({value!r} AS DOUBLE)"
    return f"CAST({quote_literal(str(value))} AS DOUBLE)"


def counts_by_column_sql(relation: str, expressions: Sequence[str]) -> str:
    """Rows (i, v, n): how many rows of ``relation`` have the value v of expression i.

    One scan for every expression (GROUPING SETS); the expressions must share a type. Each set is
    recognised by its own one-column ``GROUPING()``, as one ``GROUPING()`` call takes at most 64.
    """
    aliases = [f"__v{index}" for index in range(len(expressions))]
    projected = ", ".join(f"{e} AS {a}" for e, a in zip(expressions, aliases, strict=True))
    which = " ".join(f"WHEN GROUPING({a}) = 0 THEN {i}" for i, a in enumerate(aliases))
    value = " ".join(f"WHEN GROUPING({a}) = 0 THEN {a}" for a in aliases)
    sets = ", ".join(f"({alias})" for alias in aliases)
    return (
        f"SELECT CASE {which} END AS i, CASE {value} END AS v, count(*) AS n "
        f"FROM (SELECT {projected} FROM {relation}) GROUP BY GROUPING SETS ({sets})"
    )


# Statistics on small tables ------------------------------------------------------------------


def psi(reference: Sequence[float], current: Sequence[float]) -> float:
    """PSI of two share vectors over the same bins; a zero share counts as ``EPSILON``."""
    total = 0.0
    for ref, cur in zip(reference, current, strict=True):
        ref, cur = ref or EPSILON, cur or EPSILON
        total += (cur - ref) * math.log(cur / ref)
    return total


def js_divergence(reference: Sequence[float], current: Sequence[float]) -> float:
    """Jensen–Shannon divergence of two share vectors, in bits (between 0 and 1)."""
    total = 0.0
    for p, q in zip(reference, current, strict=True):
        middle = (p + q) / 2
        if p > 0:
            total += 0.5 * p * math.log2(p / middle)
        if q > 0:
            total += 0.5 * q * math.log2(q / middle)
    return max(0.0, min(1.0, total))


def _shares(counts: Sequence[int]) -> list[float]:
    total = sum(counts)
    return [count / total if total else 0.0 for count in counts]


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


# Numeric columns ------------------------------------------------------------------------------

_GROUPED_KS_MAX_DISTINCT_SHARE = 0.1
"""Below this share of distinct values KS counts each value first (fast); above it, it sorts rows."""


@dataclass(frozen=True)
class NumericSummary:
    """What the drift of one numeric column is computed from (small: one entry per bin)."""

    column: str
    edges: tuple[float, ...]
    reference_bins: dict[int, int]
    """Bin index -> reference rows; index -1 holds the missing values."""
    current_bins: dict[int, int]
    ks: float | None
    """The exact two-sample KS statistic; None when one side has no values."""

    @property
    def reference_rows(self) -> int:
        return sum(self.reference_bins.values())

    @property
    def current_rows(self) -> int:
        return sum(self.current_bins.values())

    @property
    def reference_values(self) -> int:
        return self.reference_rows - self.reference_bins.get(-1, 0)

    @property
    def current_values(self) -> int:
        return self.current_rows - self.current_bins.get(-1, 0)


@dataclass(frozen=True)
class _Profile:
    values: int
    """Non-missing reference values."""
    distinct: int
    """Distinct reference values (approximately: it only picks the faster KS query)."""


def numeric_summaries(
    workspace: Workspace, reference: Dataset, current: Dataset, columns: Sequence[str], bins: int
) -> dict[str, NumericSummary]:
    """Bin counts and the exact KS statistic of every numeric column."""
    if not columns:
        return {}
    profiles = _reference_profiles(workspace, reference, columns)
    edges = _reference_edges(workspace, reference, profiles, bins)
    counts = _bin_counts(workspace, reference, current, edges)
    summaries = {}
    for column in columns:
        reference_bins, current_bins = counts[column]
        summary = NumericSummary(column, tuple(edges[column]), reference_bins, current_bins, None)
        if summary.reference_values and summary.current_values:
            few = (
                profiles[column].distinct
                <= _GROUPED_KS_MAX_DISTINCT_SHARE * summary.reference_values
            )
            summary = replace(summary, ks=_exact_ks(workspace, reference, current, summary, few))
        summaries[column] = summary
    return summaries


def _reference_profiles(
    workspace: Workspace, reference: Dataset, columns: Sequence[str]
) -> dict[str, _Profile]:
    parts = []
    for column in columns:
        value = double_sql(column, reference.schema[column])
        parts += [f"count({value})", f"approx_count_distinct({value})"]
    row = workspace.connection.execute(
        f"SELECT {', '.join(parts)} FROM {reference.relation}"
    ).fetchone()
    assert row is not None
    return {
        column: _Profile(int(row[2 * index]), int(row[2 * index + 1]))
        for index, column in enumerate(columns)
    }


def _reference_edges(
    workspace: Workspace, reference: Dataset, profiles: dict[str, _Profile], bins: int
) -> dict[str, list[float]]:
    """The reference's quantiles at 1/bins … (bins-1)/bins of every column, equal ones merged.

    The quantile at level q lies between the order statistics x_(j) and x_(j+1) with
    j + t = (n − 1)·q (0-based, 0 <= t < 1), at x_(j) + t·(x_(j+1) − x_(j)): numpy's default
    ("linear") definition. DuckDB returns the two order statistics exactly; the interpolation is
    done here in exact rational arithmetic and rounded once, so a quantile that is a data value
    (say 8 between 1 and 11 at 0.7) is that value, not a neighbour one ulp away.
    """
    positions = {
        column: [divmod((profile.values - 1) * k, bins) for k in range(1, bins)]
        for column, profile in profiles.items()
        if profile.values
    }
    order_statistics = _order_statistics(workspace, reference, profiles, positions)
    edges: dict[str, list[float]] = {column: [] for column in profiles}
    for column, wanted in positions.items():
        found = order_statistics[column]
        levels = [
            _interpolate(
                found[j], found[j + 1] if remainder else found[j], Fraction(remainder, bins)
            )
            for j, remainder in wanted
        ]
        edges[column] = sorted(set(levels))
    return edges


def _order_statistics(
    workspace: Workspace,
    reference: Dataset,
    profiles: dict[str, _Profile],
    positions: dict[str, list[tuple[int, int]]],
) -> dict[str, dict[int, float]]:
    """The reference's j-th smallest values (0-based) that ``positions`` need, in one scan."""
    needed = {column: _needed_positions(wanted) for column, wanted in positions.items()}
    if not any(needed.values()):
        return {column: {} for column in needed}
    # quantile_disc(q) is the ceil(n·q)-th smallest value; q = (j + 0.5) / n picks the (j+1)-th
    # with half a position to spare for rounding.
    selects = []
    for column, indices in needed.items():
        levels = ", ".join(repr((j + 0.5) / profiles[column].values) for j in indices)
        selects.append(f"quantile_disc({double_sql(column, reference.schema[column])}, [{levels}])")
    row = workspace.connection.execute(
        f"SELECT {', '.join(selects)} FROM {reference.relation}"
    ).fetchone()
    assert row is not None
    return {
        column: dict(zip(indices, (float(v) for v in values), strict=True))
        for (column, indices), values in zip(needed.items(), row, strict=True)
    }


def _needed_positions(wanted: list[tuple[int, int]]) -> list[int]:
    """Order statistics to fetch: j for every level, and j + 1 where the level lies beyond j."""
    needed = {j for j, _ in wanted} | {j + 1 for j, remainder in wanted if remainder}
    return sorted(needed)


def _interpolate(low: float, high: float, fraction: Fraction) -> float:
    if fraction == 0 or low == high:
        return low
    if math.isinf(low) or math.isinf(high):
        # Nothing finite lies between an infinity and a number: take the nearer order statistic.
        return low if fraction < Fraction(1, 2) else high
    return float(Fraction(low) + (Fraction(high) - Fraction(low)) * fraction)


def _bin_sql(value: str, edges: Sequence[float]) -> str:
    """Bin index of ``value``: 0 for (-inf, e0], i for (e(i-1), ei], len(edges) above; -1 if missing."""
    cases = " ".join(
        f"WHEN {value} <= {double_literal(edge)} THEN {index}" for index, edge in enumerate(edges)
    )
    return f"(CASE WHEN {value} IS NULL THEN -1 {cases} ELSE {len(edges)} END)"


def _bin_counts(
    workspace: Workspace, reference: Dataset, current: Dataset, edges: dict[str, list[float]]
) -> dict[str, tuple[dict[int, int], dict[int, int]]]:
    """Rows per bin of every column in both datasets: one scan of each."""
    columns = list(edges)

    def counts_sql(dataset: Dataset) -> str:
        expressions = [
            _bin_sql(double_sql(column, dataset.schema[column]), edges[column])
            for column in columns
        ]
        return counts_by_column_sql(dataset.relation, expressions)

    sql = f"SELECT 0, * FROM ({counts_sql(reference)}) UNION ALL SELECT 1, * FROM ({counts_sql(current)})"
    result: dict[str, tuple[dict[int, int], dict[int, int]]] = {c: ({}, {}) for c in columns}
    for side, index, bin_index, count in workspace.connection.execute(sql).fetchall():
        result[columns[index]][side][int(bin_index)] = int(count)
    return result


def _exact_ks(
    workspace: Workspace,
    reference: Dataset,
    current: Dataset,
    summary: NumericSummary,
    few_values: bool,
) -> float:
    """The exact two-sample KS statistic max |F_ref(x) − F_cur(x)| of one column.

    F_ref and F_cur are step functions that change only at observed values, so the largest
    distance is found at one of them: cumulative counts up to and including each distinct value
    (all tied rows together), divided by each side's number of values. With few distinct values
    the rows are counted per value first; otherwise the rows are sorted once.
    """
    column, m, n = summary.column, summary.reference_values, summary.current_values
    both = (
        f"SELECT {double_sql(column, reference.schema[column])} AS x, 1 AS r FROM {reference.relation} "
        f"UNION ALL SELECT {double_sql(column, current.schema[column])}, 0 FROM {current.relation}"
    )
    if few_values:
        sql = f"""
        SELECT max(abs(rcum / {m} - ccum / {n})) FROM (
            SELECT sum(rn) OVER running AS rcum, sum(cn) OVER running AS ccum
            FROM (SELECT x, sum(r) AS rn, count(*) - sum(r) AS cn FROM ({both})
                  WHERE x IS NOT NULL GROUP BY x)
            WINDOW running AS (ORDER BY x ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW))
        """
    else:
        sql = f"""
        SELECT max(abs(rcum / {m} - ccum / {n})) FROM (
            SELECT sum(r) OVER running AS rcum, sum(1 - r) OVER running AS ccum
            FROM ({both}) WHERE x IS NOT NULL
            WINDOW running AS (ORDER BY x RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW))
        """
    row = workspace.connection.execute(sql).fetchone()
    assert row is not None and row[0] is not None
    return float(row[0])


def bin_labels(edges: Sequence[float]) -> list[str]:
    """Readable labels of the bins that ``edges`` define."""
    if not edges:
        return ["all values"]
    shown = _edge_texts(edges)
    labels = [f"≤ {shown[0]}"]
    labels += [f"({low}, {high}]" for low, high in itertools.pairwise(shown)]
    labels.append(f"> {shown[-1]}")
    return labels


def _edge_texts(edges: Sequence[float]) -> list[str]:
    short = [f"{edge:.6g}" for edge in edges]
    # Close edges can look equal at six digits; then show them in full.
    return short if len(set(short)) == len(short) else [repr(edge) for edge in edges]


def _numeric_feature(summary: NumericSummary) -> FeatureDrift:
    indices = list(range(len(summary.edges) + 1))
    labels = bin_labels(summary.edges)
    if -1 in summary.reference_bins or -1 in summary.current_bins:
        indices.append(-1)
        labels.append(MISSING)
    ref = _shares([summary.reference_bins.get(index, 0) for index in indices])
    cur = _shares([summary.current_bins.get(index, 0) for index in indices])
    reasons: dict[str, str] = {}
    value_psi = None
    if summary.reference_rows and summary.current_rows:
        value_psi = psi(ref, cur)
    else:
        reasons["psi"] = "one of the datasets has no rows"
    p_value = None
    if summary.ks is None:
        reasons["ks"] = reasons["ks_p_value"] = "one of the datasets has no values in this column"
    else:
        p_value, reason = ks_p_value(summary.ks, summary.reference_values, summary.current_values)
        if reason:
            reasons["ks_p_value"] = reason
    return FeatureDrift(
        column=summary.column,
        kind="numeric",
        psi=value_psi,
        ks=summary.ks,
        ks_p_value=p_value,
        reference_missing_rate=_missing_rate(summary.reference_bins),
        current_missing_rate=_missing_rate(summary.current_bins),
        bins=tuple(DriftBin(label, r, c) for label, r, c in zip(labels, ref, cur, strict=True)),
        reasons=reasons,
    )


def _missing_rate(bin_counts: dict[int, int]) -> float | None:
    total = sum(bin_counts.values())
    return bin_counts.get(-1, 0) / total if total else None


def ks_p_value(statistic: float, m: int, n: int) -> tuple[float | None, str | None]:
    """Two-sided asymptotic p-value of the KS statistic, as ``ks_2samp(method="asymp")``."""
    from scipy.stats import kstwo

    larger, smaller = sorted([float(m), float(n)], reverse=True)
    effective = round(larger * smaller / (larger + smaller))
    if effective < 1:
        return None, "too few values for the asymptotic KS distribution"
    value = float(kstwo.sf(statistic, effective))
    if math.isnan(value):
        return None, "the KS distribution is undefined for these sample sizes"
    return min(1.0, max(0.0, value)), None


# Categorical columns --------------------------------------------------------------------------


@dataclass(frozen=True)
class CategoryComparison:
    """Category counts of one column in both datasets (small: at most ``MAX_CATEGORIES`` rows)."""

    column: str
    reference_rows: int
    current_rows: int
    reference_missing: int
    current_missing: int
    category_count: int
    """Distinct non-missing values in either dataset."""
    new_count: int
    vanished_count: int
    new_rows: int
    """Current rows whose value never occurs in the reference."""
    counts: tuple[tuple[str | None, int, int], ...]
    """(category, reference rows, current rows), None for missing. Every category when ``complete``;
    otherwise only the first ``SHOWN_CATEGORIES`` new and vanished ones."""

    @property
    def complete(self) -> bool:
        return self.category_count <= MAX_CATEGORIES

    def new_categories(self) -> tuple[str, ...]:
        return tuple(sorted(name for name, rn, _ in self.counts if name is not None and not rn))

    def vanished_categories(self) -> tuple[str, ...]:
        return tuple(sorted(name for name, _, cn in self.counts if name is not None and not cn))


def compare_categories(
    workspace: Workspace, reference: Dataset, current: Dataset, columns: Sequence[str]
) -> dict[str, CategoryComparison]:
    """Category counts of every column in both datasets, in one query (values compared as text)."""
    if not columns:
        return {}
    rows = workspace.connection.execute(_category_sql(reference, current, columns)).fetchall()
    found = {int(row[0]): row[1:] for row in rows}
    return {column: _comparison(column, found.get(index)) for index, column in enumerate(columns)}


def _category_sql(reference: Dataset, current: Dataset, columns: Sequence[str]) -> str:
    def counts_per_column(dataset: Dataset) -> str:
        texts = [f"CAST({present_value_sql(c, dataset.schema[c])} AS VARCHAR)" for c in columns]
        return counts_by_column_sql(dataset.relation, texts)

    return f"""
    WITH reference_counts AS ({counts_per_column(reference)}),
    current_counts AS ({counts_per_column(current)}),
    sided AS (
        SELECT coalesce(r.i, c.i) AS i, coalesce(r.v, c.v) AS v,
               coalesce(r.n, 0) AS rn, coalesce(c.n, 0) AS cn,
               CASE WHEN coalesce(r.v, c.v) IS NULL THEN 'missing' WHEN r.n IS NULL THEN 'new'
                    WHEN c.n IS NULL THEN 'vanished' ELSE 'shared' END AS side
        FROM reference_counts AS r FULL OUTER JOIN current_counts AS c
          ON r.i = c.i AND r.v IS NOT DISTINCT FROM c.v),
    ranked AS (
        SELECT *, count(v) OVER (PARTITION BY i) AS categories,
               row_number() OVER (PARTITION BY i, side ORDER BY v) AS position
        FROM sided)
    SELECT i, sum(rn), sum(cn),
           coalesce(sum(rn) FILTER (WHERE side = 'missing'), 0),
           coalesce(sum(cn) FILTER (WHERE side = 'missing'), 0),
           any_value(categories),
           count(*) FILTER (WHERE side = 'new'),
           count(*) FILTER (WHERE side = 'vanished'),
           coalesce(sum(cn) FILTER (WHERE side = 'new'), 0),
           list({{'v': v, 'rn': rn, 'cn': cn}}) FILTER (
               WHERE categories <= {MAX_CATEGORIES}
                  OR (side IN ('new', 'vanished') AND position <= {SHOWN_CATEGORIES}))
    FROM ranked GROUP BY i
    """


def _comparison(column: str, row: Sequence[Any] | None) -> CategoryComparison:
    if row is None:  # neither dataset has a row
        return CategoryComparison(column, 0, 0, 0, 0, 0, 0, 0, 0, ())
    (
        reference_rows,
        current_rows,
        reference_missing,
        current_missing,
        categories,
        new,
        vanished,
        new_rows,
    ) = (int(value) for value in row[:-1])
    return CategoryComparison(
        column=column,
        reference_rows=reference_rows,
        current_rows=current_rows,
        reference_missing=reference_missing,
        current_missing=current_missing,
        category_count=categories,
        new_count=new,
        vanished_count=vanished,
        new_rows=new_rows,
        counts=tuple((item["v"], int(item["rn"]), int(item["cn"])) for item in row[-1] or []),
    )


def _categorical_feature(found: CategoryComparison) -> FeatureDrift:
    described = FeatureDrift(
        found.column,
        "categorical",
        new_categories=found.new_categories(),
        vanished_categories=found.vanished_categories(),
        new_category_count=found.new_count,
        vanished_category_count=found.vanished_count,
        reference_missing_rate=_rate(found.reference_missing, found.reference_rows),
        current_missing_rate=_rate(found.current_missing, found.current_rows),
    )
    if not found.complete:
        reason = (
            f"{found.category_count} distinct values: too many for a distribution comparison "
            f"(more than {MAX_CATEGORIES})"
        )
        statistics = ("psi", "chi_square", "chi_square_p_value", "js_divergence")
        return replace(described, reasons=dict.fromkeys(statistics, reason))
    ordered = sorted(found.counts, key=lambda item: (item[0] is None, item[0] or ""))
    labels = [MISSING if name is None else name for name, _, _ in ordered]
    ref = _shares([rn for _, rn, _ in ordered])
    cur = _shares([cn for _, _, cn in ordered])
    chi_square, p_value, reasons = _chi_square(ordered)
    empty = not found.reference_rows or not found.current_rows
    if empty:
        reasons["psi"] = reasons["js_divergence"] = "one of the datasets has no rows"
    return replace(
        described,
        psi=None if empty else psi(ref, cur),
        chi_square=chi_square,
        chi_square_p_value=p_value,
        js_divergence=None if empty else js_divergence(ref, cur),
        bins=tuple(DriftBin(label, r, c) for label, r, c in zip(labels, ref, cur, strict=True)),
        reasons=reasons,
    )


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _chi_square(
    counts: Sequence[tuple[str | None, int, int]],
) -> tuple[float | None, float | None, dict[str, str]]:
    table = [[rn for _, rn, _ in counts], [cn for _, _, cn in counts]]
    if len(counts) < 2 or not all(sum(row) for row in table):
        reason = "needs at least two categories and rows in both datasets"
        return None, None, {"chi_square": reason, "chi_square_p_value": reason}
    from scipy.stats import chi2_contingency

    # correction=True is scipy's default: Yates' correction, applied only to a 2 x 2 table.
    result = chi2_contingency(table, correction=True)
    statistic, p_value = _finite(float(result.statistic)), _finite(float(result.pvalue))
    reasons = {}
    if statistic is None or p_value is None:
        reasons = dict.fromkeys(("chi_square", "chi_square_p_value"), "not finite")
        statistic = p_value = None
    return statistic, p_value, reasons
