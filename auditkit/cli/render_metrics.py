"""Plain-text tables of a metric report, for terminals and CI logs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from auditkit.metrics.registry import needs_label

UNKNOWN_LABEL = "(unknown)"


def format_value(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def group_label(group: dict[str, Any]) -> str:
    parts = [UNKNOWN_LABEL if value is None else str(value) for value in group["group"].values()]
    return " × ".join(parts)


def render_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Left-align the first column, right-align the others."""
    widths = [
        max(len(headers[i]), *(len(row[i]) for row in rows)) if rows else len(headers[i])
        for i in range(len(headers))
    ]

    def line(cells: Sequence[str]) -> str:
        first = cells[0].ljust(widths[0])
        rest = [cell.rjust(width) for cell, width in zip(cells[1:], widths[1:], strict=True)]
        return "  ".join([first, *rest]).rstrip()

    return [line(headers), line(["─" * width for width in widths]), *(line(row) for row in rows)]


def render_metrics_text(document: dict[str, Any], metric_keys: Sequence[str], source: str) -> str:
    lines = [source, ""]
    headers = ["group", "n", *metric_keys]
    overall = document["overall"]
    lines += render_table(
        headers,
        [
            [
                "overall",
                format_value(overall["n"]),
                *(format_value(overall.get(k)) for k in metric_keys),
            ]
        ],
    )
    for grouping in _groupings(document):
        lines += ["", f"by {' × '.join(grouping)}"]
        rows = []
        for group in document["groups"]:
            if tuple(group["by"]) != grouping:
                continue
            label = group_label(group) + (" *" if group.get("inconclusive") else "")
            rows.append(
                [
                    label,
                    format_value(group["n"]),
                    *(format_value(group.get(k)) for k in metric_keys),
                ]
            )
        lines += render_table(headers, rows)
        lines += _fairness_lines(document, grouping)
    if any(group.get("inconclusive") for group in document["groups"]):
        minimum = document.get("settings", {}).get("min_group_size")
        note = f" (fewer than {minimum} rows)" if minimum else ""
        lines += ["", f"* inconclusive: group too small for a decision{note}"]
    if not _labelled(document):
        lines += [
            "",
            "no label column: the metrics that need observed outcomes (accuracy, error rates, "
            "ROC AUC, calibration ...) are not computed",
        ]
    return "\n".join(lines) + "\n"


def _labelled(document: dict[str, Any]) -> bool:
    return bool(document.get("settings", {}).get("labelled", True))


def _groupings(document: dict[str, Any]) -> list[tuple[str, ...]]:
    seen: list[tuple[str, ...]] = []
    for group in document["groups"]:
        grouping = tuple(group["by"])
        if grouping not in seen:
            seen.append(grouping)
    return seen


def _fairness_lines(document: dict[str, Any], grouping: tuple[str, ...]) -> list[str]:
    for entry in document.get("fairness", []):
        if tuple(entry["by"]) != grouping:
            continue
        names = (
            "demographic_parity_difference",
            "demographic_parity_ratio",
            "equalized_odds_difference",
            "equalized_odds_ratio",
            "impact_ratio",
        )
        parts = [
            f"{name.replace('_', ' ')} {format_value(entry.get(name))}"
            for name in names
            if name in entry and (_labelled(document) or not needs_label(name))
        ]
        return ["  " + " · ".join(parts[start : start + 3]) for start in range(0, len(parts), 3)]
    return []
