"""The evidence sections of the report (fairness, performance, explainability, drift, data quality).

Each function turns one part of the stored run into rows for a table and the data of a chart; nothing
is recomputed here except presentation (ordering, labels, which columns a table needs).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from auditkit.metrics.registry import (
    COUNT_KEYS,
    FAIRNESS_LIST,
    METRICS,
    NO_LABEL_REASON,
    computable_keys,
)

FOUR_FIFTHS = 0.8
"""The impact-ratio line drawn when no policy rule sets one (EEOC 29 CFR 1607.4(D))."""
GROUP_TABLE_METRICS = ("selection_rate", "tpr", "fpr")
"""The group rates every fairness table shows (when the run computed them)."""
READABLE_GROUP_SIZE = 30
"""An intersectional group with fewer rows is listed compactly, not charted: its rates' intervals are
too wide to read (the minimum the built-in eeoc-four-fifths pack asks for before comparing groups)."""
PSI_MODERATE, PSI_SIGNIFICANT = 0.1, 0.25
"""The common reading of PSI: below 0.1 stable, 0.1-0.25 a moderate shift, above 0.25 significant."""


def fairness_section(
    metrics: Mapping[str, Any] | None, rules: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """Per-group tables with Wilson intervals, disparity charts, intersections and unknown groups."""
    if not metrics:
        return {"computed": False, "attributes": [], "intersections": [], "unknown": []}
    settings = metrics.get("settings") or {}
    computed = set(recorded_metrics(metrics))
    rates = [key for key in GROUP_TABLE_METRICS if key in computed]
    readable = max(READABLE_GROUP_SIZE, int(settings.get("min_group_size") or 0))
    groupings = [
        grouping_entry(entry, metrics.get("groups", []), rates, rules)
        for entry in metrics.get("fairness", [])
    ]
    intersections = [
        condensed(grouping, readable) for grouping in groupings if len(grouping["by"]) > 1
    ]
    return {
        "computed": True,
        "confidence": settings.get("confidence", 0.95),
        "min_group_size": settings.get("min_group_size"),
        "rates": [{"key": key, "title": METRICS[key].title} for key in rates],
        "attributes": [grouping for grouping in groupings if len(grouping["by"]) == 1],
        "intersections": intersections,
        "readable_group_size": readable,
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
    judging = judging_rule(by, rules)
    threshold, threshold_source = impact_threshold(by, [judging] if judging else rules)
    if judging is not None:
        rows = [
            as_the_rule_judges(row, group, judging) for row, group in zip(rows, groups, strict=True)
        ]
    return {
        "by": by,
        "title": " × ".join(by),
        "rows": rows,
        "judged_by": (
            {"id": judging["id"], "min_group_size": judging["min_group_size"]}
            if judging is not None
            else None
        ),
        "summary": [
            {"title": definition.title, "value": fairness.get(definition.key)}
            for definition in FAIRNESS_LIST
            if definition.key in fairness
            and (fairness.get("reasons") or {}).get(definition.key) != NO_LABEL_REASON
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


def condensed(grouping: dict[str, Any], readable: int) -> dict[str, Any]:
    """An intersection's table and chart for a reader: the groups with enough rows, lowest impact
    ratio first; the smaller ones (too uncertain to read one by one) in a compact list after them."""
    known = [row for row in grouping["rows"] if not row["unknown"]]
    shown = sorted(
        (row for row in known if (row["n"] or 0) >= readable),
        key=lambda row: (row["impact_ratio"] is None, row["impact_ratio"] or 0.0, row["label"]),
    )
    small = sorted(
        (row for row in known if (row["n"] or 0) < readable),
        key=lambda row: (-(row["n"] or 0), row["label"]),
    )
    unknown = [row for row in grouping["rows"] if row["unknown"]]
    chart = grouping["chart"]
    return {
        **grouping,
        "rows": shown,
        "small": small,
        "unknown_rows": unknown,
        "unknown_total": sum(row["n"] or 0 for row in unknown),
        "group_count": len(grouping["rows"]),
        "chart": {
            **chart,
            "title": f"{chart['title']}, groups of at least {readable} rows",
            "labels": [row["label"] for row in shown],
            "values": [row["impact_ratio"] for row in shown],
            "intervals": [row["impact_interval"] for row in shown],
            "inconclusive": [row["inconclusive"] for row in shown],
        },
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


def judging_rule(by: Sequence[str], rules: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The strictest rule that judged each group's impact ratio (its selection rate over the highest
    group's) by ``by``: its verdict on each group is the one the section shows. It divides by the
    highest group large enough for it, which need not be the metrics' minimum group size when packs
    differ (NYC LL144 reports groups of any size, a four-fifths rule compares groups of at least 30)."""
    judging = [
        rule
        for rule in rules
        if rule.get("kind") == "parity"
        and rule.get("metric") == "selection_rate"
        and rule.get("aggregate") == "ratio_to_max"
        and rule.get("op") in (">=", ">")
        and rule.get("threshold") is not None
        and rule.get("min_group_size") is not None
        and any(set(group.get("group") or {}) == set(by) for group in rule.get("groups", []))
    ]
    return max(judging, key=_deciding_first, default=None)


def as_the_rule_judges(
    row: dict[str, Any], group: Mapping[str, Any], rule: Mapping[str, Any]
) -> dict[str, Any]:
    """``row`` with the impact ratio, its interval and the inconclusive mark the rule gave the group
    (the rule divides by the highest group large enough for it)."""
    values = group.get("group") or {}
    outcome = next(
        (judged for judged in rule.get("groups", []) if (judged.get("group") or {}) == values),
        None,
    )
    if outcome is None:
        return row
    inconclusive = outcome.get("status") == "inconclusive"
    return row | {
        "impact_ratio": outcome.get("observed"),
        "impact_interval": outcome.get("interval"),
        "inconclusive": inconclusive,
        "inconclusive_reason": outcome.get("reason") if inconclusive else None,
    }


def impact_threshold(by: Sequence[str], rules: Sequence[Mapping[str, Any]]) -> tuple[float, str]:
    """The line a policy draws for these groups' selection-rate ratios (a deciding rule before an
    advisory one, then the strictest), else four fifths."""
    required = [
        rule
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
    drawn = max(required, key=_deciding_first)
    threshold = float(drawn["threshold"])
    return threshold, f"{drawn['id']} requires ≥ {threshold:g}"


def _deciding_first(rule: Mapping[str, Any]) -> tuple[bool, float]:
    """A rule that can fail the audit before an advisory one; then the strictest."""
    return rule.get("enforcement") != "advisory", float(rule["threshold"])


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
    keys = [key for key in recorded_metrics(metrics) if key in METRICS and key not in COUNT_KEYS]
    cells = ("tp", "fp", "tn", "fn")
    confusion = None
    if all(isinstance(overall.get(cell), int | float) for cell in cells):
        confusion = {cell: overall[cell] for cell in cells}
        confusion["n"] = sum(confusion.values())
    return {
        "computed": True,
        "outcomes": has_outcomes(metrics),
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


def has_outcomes(metrics: Mapping[str, Any]) -> bool:
    """Whether the stored run's data had a label column (observed outcomes)."""
    return bool((metrics.get("settings") or {}).get("labelled", True))


def recorded_metrics(metrics: Mapping[str, Any]) -> list[str]:
    """The metric keys the stored run computed: without a label, those that need no outcomes."""
    keys = (metrics.get("settings") or {}).get("metrics") or []
    return computable_keys(keys, labelled=has_outcomes(metrics))


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


PROXIES_SHOWN = 10
"""Proxy pairs listed in full (highest risk first); the rest are counted."""
GROUP_DIFFERENCES_SHOWN = 10
EXPLANATION_KEYS = (
    "method",
    "sample",
    "expected_value",
    "importance",
    "groups",
    "group_differences",
    "proxies",
    "reasons",
    "timings",
)
"""The parts of a stored explanation laid out by name; any other part is shown as a plain table."""


def explainability_section(explanations: Any) -> dict[str, Any]:
    """SHAP importance, per-group attribution, proxy risks and reason codes, as the run recorded them."""
    if not explanations or not isinstance(explanations, Mapping):
        return {"computed": False, "tables": [], "facts": [], "importance": None}
    importance = [row for row in explanations.get("importance") or [] if isinstance(row, Mapping)]
    features = [str(row["feature"]) for row in importance if row.get("feature") is not None]
    proxies = sorted(
        (row for row in explanations.get("proxies") or [] if isinstance(row, Mapping)),
        key=lambda row: -(row.get("risk") or 0.0),
    )
    differences = [
        row for row in explanations.get("group_differences") or [] if isinstance(row, Mapping)
    ]
    return {
        "computed": True,
        "facts": method_facts(explanations),
        "importance": importance_chart(explanations),
        "importance_rows": importance,
        "group_tables": group_attribution_tables(explanations.get("groups"), features),
        "differences": differences[:GROUP_DIFFERENCES_SHOWN],
        "differences_left": max(0, len(differences) - GROUP_DIFFERENCES_SHOWN),
        "proxies": proxies[:PROXIES_SHOWN],
        "proxies_left": max(0, len(proxies) - PROXIES_SHOWN),
        "reasons": reason_summary(explanations.get("reasons")),
        "tables": other_tables(explanations),
    }


def method_facts(explanations: Mapping[str, Any]) -> list[dict[str, Any]]:
    """How the attributions were computed: explainer, model output, sample and its seed."""
    method = explanations.get("method") or {}
    sample = explanations.get("sample") or {}
    facts = [
        {"name": "Explainer", "value": method.get("explainer")},
        {"name": "Model", "value": method.get("model")},
        {"name": "Attributions are in", "value": method.get("output")},
    ]
    if sample.get("rows") is not None:
        strata = (
            f", stratified by {', '.join(sample['stratified_by'])}"
            if sample.get("stratified_by")
            else ""
        )
        facts.append(
            {
                "name": "Sample",
                "value": f"{sample['rows']:,} of {sample.get('population_rows') or 0:,} rows"
                f"{strata}, weighted back to the population (seed {sample.get('seed')})",
            }
        )
    if method.get("additive") is not None:
        facts.append(
            {
                "name": "Additivity check",
                "value": "attributions add up to the model output"
                if method["additive"]
                else "attributions do not add up to the model output: read them with caution",
            }
        )
    for note in method.get("notes") or []:
        facts.append({"name": "Note", "value": note})
    return [fact for fact in facts if fact["value"] not in (None, "")]


def group_attribution_tables(groups: Any, features: Sequence[str]) -> list[dict[str, Any]]:
    """Per sensitive attribute, a table of mean |SHAP| per feature (rows) and group (columns)."""
    by_attribute: dict[str, list[Mapping[str, Any]]] = {}
    for group in groups or []:
        if isinstance(group, Mapping) and isinstance(group.get("mean_abs"), Mapping):
            by_attribute.setdefault(str(group.get("attribute")), []).append(group)
    tables = []
    for attribute, members in by_attribute.items():
        listed = list(features) or list(dict.fromkeys(f for g in members for f in g["mean_abs"]))
        tables.append(
            {
                "attribute": attribute,
                "groups": [
                    {
                        "label": "unknown" if group.get("unknown") else str(group.get("group")),
                        "rows": group.get("rows"),
                    }
                    for group in members
                ],
                "rows": [
                    {
                        "feature": feature,
                        "values": [group["mean_abs"].get(feature) for group in members],
                    }
                    for feature in listed
                ],
            }
        )
    return tables


def reason_summary(reasons: Any) -> dict[str, Any] | None:
    """The principal reasons given for adverse decisions, most frequent first."""
    if not isinstance(reasons, Mapping):
        return None
    codes = sorted(
        (code for code in reasons.get("codes") or [] if isinstance(code, Mapping)),
        key=lambda code: -(code.get("rows") or 0),
    )
    return {
        "k": reasons.get("k"),
        "declined_rows": reasons.get("declined_rows"),
        "decision": reasons.get("decision"),
        "codes": codes,
        "stability": reasons.get("stability"),
    }


def other_tables(explanations: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Parts of the explanation this report does not know by name, as plain tables."""
    tables = []
    for key, value in explanations.items():
        if key in EXPLANATION_KEYS:
            continue
        if isinstance(value, list) and value and all(isinstance(row, Mapping) for row in value):
            header = list(dict.fromkeys(column for row in value for column in row))
            tables.append(
                {
                    "title": key.replace("_", " ").capitalize(),
                    "header": header,
                    "rows": [[row.get(column) for column in header] for row in value],
                }
            )
    return tables


def importance_chart(explanations: Any) -> dict[str, Any] | None:
    """Bar-chart data of the global feature importance (mean |SHAP|), most important on top."""
    rows = explanations.get("importance") if isinstance(explanations, Mapping) else None
    if not isinstance(rows, list):
        return None
    pairs = [
        (str(row["feature"]), float(row[key]))
        for row in rows
        if isinstance(row, Mapping) and "feature" in row
        for key in (importance_key(row),)
        if key is not None
    ]
    if not pairs:
        return None
    pairs.sort(key=lambda pair: -pair[1])
    return {
        "title": "Global feature importance: mean absolute SHAP value over the sample",
        "labels": [label for label, _ in pairs],
        "values": [value for _, value in pairs],
    }


def importance_key(row: Mapping[str, Any]) -> str | None:
    """The row's importance: ``mean_abs`` as the explainer records it, else its first number that
    is not a rank."""
    if isinstance(row.get("mean_abs"), int | float):
        return "mean_abs"
    return next(
        (
            key
            for key, value in row.items()
            if key not in ("feature", "rank")
            and isinstance(value, int | float)
            and not isinstance(value, bool)
        ),
        None,
    )
