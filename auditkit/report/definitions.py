"""Methodology and definitions, read from where they are defined, never copied.

Metric definitions come from the metric registry, data-quality checks from their table, and the
statistics and drift statistics from the documentation of the modules that compute them: a report
always describes the code that produced its numbers.
"""

from __future__ import annotations

import inspect
import re
import textwrap
from collections.abc import Iterable, Mapping
from types import ModuleType
from typing import Any

from auditkit.metrics.registry import (
    FAIRNESS_METRICS,
    GROUP_DISPARITIES,
    GROUPING_DISPARITIES,
    METRICS,
    NO_LABEL_REASON,
)
from auditkit.report.evidence import recorded_metrics

_CITATION = re.compile(r"\(\d{4}\)\.")
_BULLET = re.compile(r"^\s*\*\s+\*\*(?P<name>[^*]+)\*\*[,:]?\s*(?P<rest>.*)$")


def methodology(run: Mapping[str, Any]) -> dict[str, Any]:
    """Definitions of every metric, disparity, test and drift statistic the run's numbers use."""
    from auditkit.metrics import drift as drift_module
    from auditkit.metrics import stats as stats_module

    metrics = run.get("metrics") or {}
    used = metrics_used(run)
    statistics = docstring_sections(stats_module)
    return {
        "metrics": [
            {
                "key": key,
                "title": METRICS[key].title,
                "description": METRICS[key].description,
                "undefined": METRICS[key].undefined,
            }
            for key in METRICS
            if key in used
        ],
        "fairness": [
            {"key": key, "title": definition.title, "description": definition.description}
            for key, definition in FAIRNESS_METRICS.items()
            if any(_has_value(entry, key) for entry in metrics.get("fairness", []))
        ],
        "disparities": [
            {"key": key, "description": description}
            for key, description in {**GROUP_DISPARITIES, **GROUPING_DISPARITIES}.items()
            if metrics
        ],
        "statistics_intro": statistics["intro"],
        "statistics": statistics["sections"],
        "references": statistics["references"],
        "drift": drift_definitions(drift_module) if run.get("drift") else [],
        "quality": quality_definitions(run.get("quality")),
        "confidence": (metrics.get("settings") or {}).get("confidence"),
        "min_group_size": (metrics.get("settings") or {}).get("min_group_size"),
    }


def _has_value(fairness: Mapping[str, Any], key: str) -> bool:
    """The grouping summary has the named metric, unless it needed a label the data lacked."""
    return key in fairness and (fairness.get("reasons") or {}).get(key) != NO_LABEL_REASON


def metrics_used(run: Mapping[str, Any]) -> set[str]:
    metrics = run.get("metrics") or {}
    used = set(recorded_metrics(metrics))
    used |= {rule.get("metric") for rule in run["result"].get("rules", []) if rule.get("metric")}
    return {key for key in used if key in METRICS}


def docstring_sections(module: ModuleType) -> dict[str, Any]:
    """Split a module docstring into its introduction and its titled sections.

    A section title is a line at the left margin; its body is the indented lines below it. Inside a
    body, lines indented further are formulas, kept as written; the rest is prose.
    """
    lines = [plain(line) for line in (inspect.getdoc(module) or "").splitlines()]
    intro: list[str] = []
    sections: list[dict[str, Any]] = []
    for index, line in enumerate(lines[1:], start=1):
        if line and not line[0].isspace() and _opens_section(lines, index):
            sections.append({"title": line.strip(), "body": []})
        elif sections:
            sections[-1]["body"].append(line)
        else:
            intro.append(line)
    references: list[str] = next((s["body"] for s in sections if s["title"] == "References"), [])
    return {
        "intro": " ".join(line.strip() for line in intro if line.strip()),
        "sections": [
            {"title": section["title"], "blocks": blocks(section["body"])}
            for section in sections
            if section["title"] != "References"
        ],
        "references": reference_entries(references),
    }


def reference_entries(lines: Iterable[str]) -> list[str]:
    """One entry per cited work: each starts with ``Author (year).``."""
    entries: list[str] = []
    for line in (line.strip() for line in lines):
        if not line:
            continue
        if _CITATION.search(line) or not entries:
            entries.append(line)
        else:
            entries[-1] += " " + line
    return entries


def _opens_section(lines: list[str], index: int) -> bool:
    """A title line sits at the margin, with its indented body right below it."""
    following = lines[index + 1] if index + 1 < len(lines) else ""
    return following.startswith(" ")


def plain(text: str) -> str:
    """Docstring markup (````code````, ``**bold**``) as plain text."""
    return text.replace("``", "").replace("**", "")


def blocks(lines: Iterable[str]) -> list[dict[str, str]]:
    """Prose paragraphs and formula blocks, in order."""
    dedented = textwrap.dedent("\n".join(lines)).splitlines()
    result: list[dict[str, str]] = []
    for line in dedented:
        kind = "formula" if line.startswith(" ") else "prose"
        if not line.strip():
            kind = "break"
        if result and result[-1]["kind"] == kind and kind != "break":
            joiner = "\n" if kind == "formula" else " "
            result[-1]["text"] += joiner + (line.strip() if kind == "prose" else line.rstrip())
        elif kind != "break":
            result.append(
                {"kind": kind, "text": line.strip() if kind == "prose" else line.rstrip()}
            )
        else:
            result.append({"kind": "break", "text": ""})
    return [block for block in result if block["kind"] != "break"]


def drift_definitions(module: ModuleType) -> list[dict[str, str]]:
    """The drift module documents each statistic as a bullet ``* **Name**, definition``."""
    definitions: list[dict[str, str]] = []
    heading = ""
    for line in (inspect.getdoc(module) or "").splitlines():
        match = _BULLET.match(line)
        line = plain(line)
        if match:
            definitions.append(
                {
                    "name": match["name"].strip(),
                    "scope": heading,
                    "text": plain(match["rest"].strip()),
                }
            )
        elif line.startswith("    ") and definitions and line.strip():
            definitions[-1]["text"] += " " + line.strip()
        elif line and not line[0].isspace():
            # Only the "Numeric columns" and "Categorical columns" lists define statistics.
            heading = line.strip() if line.strip().endswith("columns") else ""
    return [definition for definition in definitions if definition["scope"]]


def quality_definitions(quality: Mapping[str, Any] | None) -> list[dict[str, str]]:
    from auditkit.metrics.quality import QUALITY_CHECKS

    if not quality:
        return []
    present = {check.get("check") for check in quality.get("checks", [])}
    return [
        {"title": definition.title, "description": definition.description}
        for key, definition in QUALITY_CHECKS.items()
        if key in present
    ]
