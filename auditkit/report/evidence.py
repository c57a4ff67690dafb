"""The evidence sections of the report (fairness, performance, explainability, drift, data quality).

Each function turns one part of the stored run into rows for a table and the data of a chart; nothing
is recomputed here except presentation (ordering, labels, which columns a table needs).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from auditkit.metrics.registry import COUNT_KEYS, FAIRNESS_LIST, METRICS

FOUR_FIFTHS = 0.8
"""The impact-ratio line drawn when no policy rule sets one (EEOC 29 CFR 1607.4(D))."""
GROUP_TABLE_METRICS = ("selection_rate", "tpr", "fpr")
"""The group rates every fairness table shows (when the run computed them)."""
PSI_MODERATE, PSI_SIGNIFICANT = 0.1, 0.25
"""The common reading of PSI: below 0.1 stable, 0.1-0.25 a moderate shift, above 0.25 significant."""


def fairness_section(
    metrics: Mapping[str, Any] | None, rules: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """Per-group tables with Wilson intervals, disparity charts, intersections and unknown groups."""
    if not metrics:
        return {"computed": False, "attributes": [], "intersections": [], "unknown": []}
    settings = metrics.get("settings") or {}
    computed = set(settings.get("metrics") or [])
    rates = [key for key in GROUP_TABLE_METRICS if key in computed]
    groupings = [
        grouping_entry(entry, metrics.get("groups", []), rates, rules)
        for entry in metrics.get("fairness", [])
    ]
    return {
        "computed": True,
        "confidence": settings.get("confidence", 0.95),
        "min_group_size": settings.get("min_group_size"),
        "rates": [{"key": key, "title": METRICS[key].title} for key in rates],
        "attributes": [grouping for grouping in groupings if len(grouping["by"]) == 1],
        "intersections": [grouping for grouping in groupings if len(grouping["by"]) > 1],
        "unknown": unknown_counts(metrics),
    }


def grouping_entry(
    fairness: Mapping[str, Any],
    all_groups: Sequence[Mapping[str, Any]],
    rates: Sequence[str],
    rules: Sequence[Mapping[str, Any]],
) -> dict[str, Any]:
    by = list(fairness["by"])
    groups = [group for group in all_groups if list(group.get("by", [])) == by]
    rows = [group_row(group, rates) for group in groups]
    threshold, threshold_source = impact_threshold(by, rules)
    return {
        "by": by,
        "title": " × ".join(by),
        "rows": rows,
        "summary": [
            {"title": definition.title, "value": fairness.get(definition.key)}
            for definition in FAIRNESS_LIST
            if definition.key in fairness
        ],
        "chart": {
            "title": f"Impact ratio of the selection rate by {' × '.join(by)}",
            "labels": [row["label"] for row in rows if not row["unknown"]],
            "values": [row["impact_ratio"] for row in rows if not row["unknown"]],
            "intervals": [row["impact_interval"] for row in rows if not row["unknown"]],
            "inconclusive": [row["inconclusive"] for row in rows if not row["unknown"]],
            "threshold": threshold,
            "threshold_label": threshold_source,
        },
        "threshold": threshold,
    }


def group_row(group: Mapping[str, Any], rates: Sequence[str]) -> dict[str, Any]:
    values = group.get("group") or {}
    intervals = group.get("ci") or {}
    selection = (group.get("disparity") or {}).get("selection_rate") or {}
    reasons = group.get("reasons") or {}
    return {
        "label": ", ".join("unknown" if value is None else str(value) for value in values.values()),
        "n": group.get("n"),
        "rates": [
            {"value": group.get(key), "interval": intervals.get(key), "reason": reasons.get(key)}
            for key in rates
        ],
        "impact_ratio": selection.get("ratio_to_max"),
        "impact_interval": (selection.get("ci") or {}).get("ratio_to_max"),
        "inconclusive": bool(group.get("inconclusive")),
        "inconclusive_reason": group.get("inconclusive_reason"),
        "unknown": any(value is None for value in values.values()),
    }


def impact_threshold(by: Sequence[str], rules: Sequence[Mapping[str, Any]]) -> tuple[float, str]:
    """The strictest selection-rate ratio a policy requires of these groups, else four fifths."""
    required = [
        (float(rule["threshold"]), rule["id"])
        for rule in rules
        if rule.get("kind") == "parity"
        and rule.get("metric") == "selection_rate"
        and rule.get("op") in (">=", ">")
        and rule.get("threshold") is not None
        and 0 < rule["threshold"] <= 1
        and any(set(group.get("group") or {}) == set(by) for group in rule.get("groups", []))
    ]
    if not required:
        return FOUR_FIFTHS, "four-fifths rule (0.8)"
    threshold, rule_id = max(required)
    return threshold, f"{rule_id} requires ≥ {threshold:g}"


def unknown_counts(metrics: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Rows whose sensitive value is missing, per attribute: reported, never judged."""
    total = metrics.get("rows") or 0
    counts = []
    for group in metrics.get("groups", []):
        by = list(group.get("by", []))
        values = group.get("group") or {}
        if len(by) == 1 and values.get(by[0], "") is None:
            rows = group.get("n") or 0
            counts.append(
                {"attribute": by[0], "rows": rows, "share": rows / total if total else None}
            )
    return counts


def performance_section(
    metrics: Mapping[str, Any] | None, columns: Mapping[str, Any]
) -> dict[str, Any]:
    """Overall metrics with intervals, the confusion matrix, and calibration when recorded."""
    if not metrics:
        return {"computed": False}
    overall = metrics.get("overall") or {}
    intervals = overall.get("ci") or {}
    reasons = overall.get("reasons") or {}
    keys = [
        key
        for key in (metrics.get("settings") or {}).get("metrics", [])
        if key in METRICS and key not in COUNT_KEYS
    ]
    confusion = None
    if all(cell in overall for cell in ("tp", "fp", "tn", "fn")):
        confusion = {cell: overall[cell] for cell in ("tp", "fp", "tn", "fn")}
        confusion["n"] = sum(confusion.values())
    return {
        "computed": True,
        "rows": overall.get("n") or metrics.get("rows"),
        "metrics": [
            {
                "key": key,
                "title": METRICS[key].title,
                "value": overall.get(key),
                "interval": intervals.get(key),
                "reason": reasons.get(key),
                "better": {True: "higher", False: "lower", None: ""}[METRICS[key].higher_is_better],
            }
            for key in keys
        ],
        "confusion": confusion,
        "decision": columns.get("prediction") or columns.get("score") or "decision",
        "outcome": columns.get("label") or "outcome",
        "positive_decision": columns.get("positive_prediction", columns.get("positive_label")),
        "positive_outcome": columns.get("positive_label"),
        "calibration": calibration_chart(overall.get("calibration")),
    }


def calibration_chart(bins: Any) -> dict[str, Any] | None:
    """Reliability-diagram data when the run recorded calibration bins (mean score vs outcome)."""
    if not isinstance(bins, list) or not bins:
        return None
    points = [
        entry
        for entry in bins
        if isinstance(entry, Mapping)
        and entry.get("mean_score") is not None
        and entry.get("mean_outcome") is not None
    ]
    if not points:
        return None
    return {
        "title": "Calibration: mean outcome against mean score, per score bin",
        "scores": [float(entry["mean_score"]) for entry in points],
        "outcomes": [float(entry["mean_outcome"]) for entry in points],
        "counts": [entry.get("n") for entry in points],
    }


def drift_section(drift: Mapping[str, Any] | None) -> dict[str, Any]:
    if not drift:
        return {"computed": False}
    features = [drift_row(feature) for feature in drift.get("features", [])]
    charted = [row for row in features if row["psi"] is not None]
    return {
        "computed": True,
        "reference_rows": drift.get("reference_rows"),
        "current_rows": drift.get("current_rows"),
        "features": features,
        "chart": {
            "title": "Population stability index (PSI) per feature, reference → current",
            "labels": [row["column"] for row in charted],
            "values": [row["psi"] for row in charted],
            "lines": [
                {"value": PSI_MODERATE, "label": "moderate shift (0.1)"},
                {"value": PSI_SIGNIFICANT, "label": "significant shift (0.25)"},
            ],
        },
    }


def drift_row(feature: Mapping[str, Any]) -> dict[str, Any]:
    psi = feature.get("psi")
    return {
        "column": feature.get("column", ""),
        "kind": feature.get("kind", ""),
        "psi": psi,
        "psi_reading": psi_reading(psi),
        "ks": feature.get("ks"),
        "ks_p_value": feature.get("ks_p_value"),
        "chi_square": feature.get("chi_square"),
        "chi_square_p_value": feature.get("chi_square_p_value"),
        "js_divergence": feature.get("js_divergence"),
        "reference_missing_rate": feature.get("reference_missing_rate"),
        "current_missing_rate": feature.get("current_missing_rate"),
        "new_categories": feature.get("new_category_count", 0),
        "vanished_categories": feature.get("vanished_category_count", 0),
        "reasons": "; ".join(
            f"{key}: {value}" for key, value in (feature.get("reasons") or {}).items()
        ),
    }


def psi_reading(psi: float | None) -> str:
    if psi is None:
        return ""
    if psi < PSI_MODERATE:
        return "stable"
    return "moderate shift" if psi <= PSI_SIGNIFICANT else "significant shift"


QUALITY_COLUMNS = ("missing_rate", "out_of_range_rate", "new_category_rate", "constant")


def quality_section(quality: Mapping[str, Any] | None) -> dict[str, Any]:
    """Column checks as one row per column; dataset-wide checks in their own table."""
    from auditkit.metrics.quality import QUALITY_CHECKS

    if not quality:
        return {"computed": False}
    by_column: dict[str, dict[str, Any]] = {}
    dataset_checks = []
    for check in quality.get("checks", []):
        column = check.get("column")
        if column is None:
            dataset_checks.append(
                {
                    "title": title_of(QUALITY_CHECKS, check.get("check", "")),
                    "value": check.get("value"),
                    "detail": check.get("detail") or check.get("reason") or "",
                }
            )
            continue
        by_column.setdefault(column, {})[check.get("check", "")] = check
    present = [key for key in QUALITY_COLUMNS if any(key in row for row in by_column.values())]
    return {
        "computed": True,
        "rows": quality.get("row_count"),
        "checks": [{"key": key, "title": title_of(QUALITY_CHECKS, key)} for key in present],
        "columns": [
            {
                "column": column,
                "cells": [quality_cell(checks.get(key)) for key in present],
            }
            for column, checks in by_column.items()
        ],
        "dataset": dataset_checks,
    }


def title_of(definitions: Mapping[str, Any], key: str) -> str:
    definition = definitions.get(key)
    return str(definition.title) if definition is not None else key.replace("_", " ")


def quality_cell(check: Mapping[str, Any] | None) -> dict[str, Any]:
    if check is None:
        return {"value": None, "detail": "", "present": False}
    return {
        "value": check.get("value"),
        "detail": check.get("detail") or check.get("reason") or "",
        "present": True,
    }


def explainability_section(explanations: Any) -> dict[str, Any]:
    """Tables of whatever the explainability module recorded; a note when it did not run."""
    if not explanations:
        return {"computed": False, "tables": [], "facts": [], "importance": None}
    tables, facts = [], []
    for key, value in explanations.items() if isinstance(explanations, Mapping) else ():
        if isinstance(value, list) and value and all(isinstance(row, Mapping) for row in value):
            header = list(dict.fromkeys(column for row in value for column in row))
            tables.append(
                {
                    "title": key.replace("_", " ").capitalize(),
                    "header": header,
                    "rows": [[row.get(column) for column in header] for row in value],
                }
            )
        elif not isinstance(value, Mapping | list):
            facts.append({"name": key.replace("_", " "), "value": value})
    return {
        "computed": True,
        "tables": tables,
        "facts": facts,
        "importance": importance_chart(explanations),
    }


def importance_chart(explanations: Any) -> dict[str, Any] | None:
    """Bar-chart data of the global feature importance, when recorded as ``importance`` rows."""
    rows = explanations.get("importance") if isinstance(explanations, Mapping) else None
    if not isinstance(rows, list):
        return None
    pairs = []
    for row in rows:
        if not isinstance(row, Mapping) or "feature" not in row:
            continue
        number = next(
            (
                value
                for key, value in row.items()
                if key != "feature" and isinstance(value, int | float)
            ),
            None,
        )
        if number is not None:
            pairs.append((str(row["feature"]), float(number)))
    if not pairs:
        return None
    return {
        "title": "Global feature importance",
        "labels": [label for label, _ in pairs],
        "values": [value for _, value in pairs],
    }
