"""Proxy detection: how strongly each model input is associated with each sensitive attribute.

Computed in DuckDB over every row of the dataset (rows where either value is missing are left out):

* a categorical input: Cramér's V of its contingency table with the attribute, from the cell counts of
  one ``GROUP BY GROUPING SETS`` scan per attribute (all categorical inputs at once);
* a numeric input: the correlation ratio η = sqrt(1 - within-group variance / total variance), from
  per-group ``count`` and ``var_pop`` in one scan per attribute (all numeric inputs at once).

Both lie in [0, 1]. The proxy risk of a pair is the association times the input's importance relative
to the most important input: a feature that closely tracks a protected attribute *and* drives the
model's decisions.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from auditkit.data.datasets import Dataset
from auditkit.data.sql import is_numeric_type, quote_identifier
from auditkit.data.workspace import Workspace
from auditkit.explain.report import FeatureImportance, ProxyRisk
from auditkit.progress import Progress

MAX_CATEGORIES = 200
"""Cramér's V of a column with more distinct values than this is biased upwards; it is not reported."""


@dataclass(frozen=True)
class Association:
    """How strongly one input tracks one sensitive attribute, over every row where both are present."""

    feature: str
    attribute: str
    measure: str
    value: float | None
    rows: int
    note: str | None = None


def proxy_risks(
    workspace: Workspace,
    dataset: Dataset,
    features: Sequence[str],
    attributes: Sequence[str],
    importance: Sequence[FeatureImportance],
    progress: Progress,
    measured: Sequence[Association] | None = None,
) -> tuple[ProxyRisk, ...]:
    """Every (input, attribute) pair with its association and risk, highest risk first.

    ``measured`` are associations computed beforehand (:func:`associations`, over these features or
    more); each pair depends on its two columns alone, so they are used as they are.
    """
    if measured is None:
        measured = associations(workspace, dataset, features, attributes, progress)
    else:
        progress.report("proxies", len(attributes), len(attributes))
    top = max((item.mean_abs for item in importance), default=0.0)
    relative = {item.feature: (item.mean_abs / top if top else 0.0) for item in importance}
    wanted, among = set(features), set(attributes)
    risks = [
        ProxyRisk(
            pair.feature,
            pair.attribute,
            pair.measure,
            pair.value,
            relative[pair.feature],
            pair.rows,
            pair.note,
        )
        for pair in measured
        if pair.feature in wanted and pair.attribute in among
    ]
    risks.sort(key=lambda r: (-(r.risk if r.risk is not None else -1.0), r.feature, r.attribute))
    return tuple(risks)


def associations(
    workspace: Workspace,
    dataset: Dataset,
    features: Sequence[str],
    attributes: Sequence[str],
    progress: Progress,
) -> tuple[Association, ...]:
    """The association of every input with every other sensitive attribute: one scan per attribute
    for the numeric inputs and one for the categorical ones."""
    numeric = [f for f in features if is_numeric_type(dataset.schema[f])]
    categorical = [f for f in features if f not in numeric]
    wide = _too_many_categories(workspace, dataset, categorical)
    found: list[Association] = []
    for done, attribute in enumerate(attributes):
        progress.report("proxies", done, len(attributes))
        others = [f for f in numeric if f != attribute]
        for feature, (value, rows) in correlation_ratios(
            workspace, dataset, others, attribute
        ).items():
            found.append(Association(feature, attribute, "correlation_ratio", value, rows))
        narrow = [f for f in categorical if f != attribute and f not in wide]
        for feature, (value, rows) in cramers_vs(workspace, dataset, narrow, attribute).items():
            found.append(Association(feature, attribute, "cramers_v", value, rows))
        for feature, distinct in wide.items():
            if feature != attribute:
                note = f"{distinct:,} distinct values: Cramér's V would be biased upwards"
                found.append(Association(feature, attribute, "cramers_v", None, 0, note))
    progress.report("proxies", len(attributes), len(attributes))
    return tuple(found)


def _too_many_categories(
    workspace: Workspace, dataset: Dataset, categorical: Sequence[str]
) -> dict[str, int]:
    if not categorical:
        return {}
    counts = ", ".join(f"approx_count_distinct({quote_identifier(f)})" for f in categorical)
    (row,) = workspace.query(f"SELECT {counts} FROM {dataset.relation}")
    return {f: int(n) for f, n in zip(categorical, row, strict=True) if n > MAX_CATEGORIES}


def correlation_ratios(
    workspace: Workspace, dataset: Dataset, numeric: Sequence[str], attribute: str
) -> dict[str, tuple[float | None, int]]:
    """η of each numeric column with ``attribute``, and the rows it is computed over."""
    if not numeric:
        return {}
    group = quote_identifier(attribute)
    aggregates = ", ".join(
        f"count({quote_identifier(f)}), var_pop(CAST({quote_identifier(f)} AS DOUBLE))"
        for f in numeric
    )
    rows = workspace.query(
        f"SELECT GROUPING({group}), {aggregates} FROM {dataset.relation} "
        f"WHERE {group} IS NOT NULL GROUP BY GROUPING SETS (({group}), ())"
    )
    overall = next(row for row in rows if row[0] == 1)
    groups = [row for row in rows if row[0] == 0]
    result: dict[str, tuple[float | None, int]] = {}
    for i, feature in enumerate(numeric):
        n, total_variance = overall[1 + 2 * i], overall[2 + 2 * i]
        within = sum(row[1 + 2 * i] * (row[2 + 2 * i] or 0.0) for row in groups if row[1 + 2 * i])
        if not n or not total_variance:
            result[feature] = (None, int(n or 0))
            continue
        ratio = max(0.0, 1.0 - within / (n * total_variance))
        result[feature] = (math.sqrt(ratio), int(n))
    return result


def cramers_vs(
    workspace: Workspace, dataset: Dataset, categorical: Sequence[str], attribute: str
) -> dict[str, tuple[float | None, int]]:
    """Cramér's V of each categorical column with ``attribute``, and the rows it is computed over."""
    if not categorical:
        return {}
    group = quote_identifier(attribute)
    columns = [quote_identifier(f) for f in categorical]
    sets = ", ".join(f"({group}, {column})" for column in columns)
    flags = ", ".join(f"GROUPING({column})" for column in columns)
    rows = workspace.query(
        f"SELECT {group}, {', '.join(columns)}, {flags}, count(*) FROM {dataset.relation} "
        f"WHERE {group} IS NOT NULL GROUP BY GROUPING SETS ({sets})"
    )
    width = len(categorical)
    result: dict[str, tuple[float | None, int]] = {}
    for i, feature in enumerate(categorical):
        cells: dict[tuple[Any, Any], int] = {}
        for row in rows:
            value = row[1 + i]
            if row[1 + width + i] == 0 and value is not None:
                cells[(row[0], value)] = int(row[-1])
        result[feature] = cramers_v(cells)
    return result


def cramers_v(cells: dict[tuple[Any, Any], int]) -> tuple[float | None, int]:
    """Cramér's V (without bias correction, as scipy's ``association``) from contingency cell counts."""
    n = sum(cells.values())
    rows: dict[Any, int] = {}
    columns: dict[Any, int] = {}
    for (a, b), count in cells.items():
        rows[a] = rows.get(a, 0) + count
        columns[b] = columns.get(b, 0) + count
    smaller = min(len(rows), len(columns))
    if n == 0 or smaller < 2:
        return None, n
    chi2_over_n = sum(count * count / (rows[a] * columns[b]) for (a, b), count in cells.items()) - 1
    return math.sqrt(max(0.0, chi2_over_n) / (smaller - 1)), n
