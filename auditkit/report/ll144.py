"""The NYC Local Law 144 bias-audit summary, laid out as 6 RCNY 5-303 requires it to be published.

Built from the findings of the ``nyc-ll144`` pack and nothing else: the date of the audit, the source and
explanation of the data, the number of individuals assessed and in an unknown category, the selection or
scoring rates and impact ratios of every category (each attribute and the intersection), categories
excluded for being under 2% with their justification, and the tool's distribution date. What the run
cannot know (the auditor, the distribution date, where the data came from) is read from the project's
``report:`` settings and is marked "not provided" when they do not give it, never made up.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

PACK_ID = "nyc-ll144"
NOT_PROVIDED = "not provided"
RATE_WORDS = {"selection_rate": "Selection rate", "scoring_rate": "Scoring rate"}
EXCLUDED_PREFIX = "left out of the impact ratios"
"""How the disclosure kind words the reason of a category excluded under the 2% rule."""


def ll144_section(
    run: Mapping[str, Any], *, audit_date: str, data_file: str | None
) -> dict[str, Any] | None:
    """The summary's facts and tables, or ``None`` when the run has no finding of the pack."""
    findings = [rule for rule in run["result"].get("rules", []) if rule.get("policy") == PACK_ID]
    if not findings:
        return None
    settings = run["project"].get("report") or {}
    model = run["project"].get("model") or {}
    inputs = run["result"].get("inputs", {})
    unknown = next((rule for rule in findings if _is_unknown_counts(rule)), None)
    rate_findings = [
        rule for rule in findings if rule.get("metric") in RATE_WORDS and rule.get("groups")
    ]
    return {
        "facts": [
            {"name": "Date of the bias audit", "value": audit_date, "provided": True},
            _setting(settings, "auditor", "Independent auditor"),
            {
                "name": "Tool audited",
                "value": " ".join(filter(None, (model.get("name"), model.get("version"))))
                or NOT_PROVIDED,
                "provided": bool(model.get("name")),
            },
            _setting(settings, "distribution_date", "Distribution date of the tool"),
            _setting(settings, "data_source", "Source and explanation of the data"),
            {
                "name": "Data file audited",
                "value": data_file or NOT_PROVIDED,
                "provided": data_file is not None,
            },
        ],
        "assessed": _assessed(unknown, inputs),
        "unknown": _unknown_rows(unknown),
        "tables": [table for rule in rate_findings for table in _rate_tables(rule)],
        "excluded": [row for rule in rate_findings for row in _excluded(rule)],
        "not_applicable": [
            {"id": rule["id"], "title": rule.get("title", ""), "message": rule.get("message", "")}
            for rule in findings
            if rule.get("status") == "not_applicable"
        ],
        "score_median": ((run.get("metrics") or {}).get("settings") or {}).get("score_median"),
        "rule_ids": [rule["id"] for rule in findings],
    }


def _setting(settings: Mapping[str, Any], key: str, name: str) -> dict[str, Any]:
    value = settings.get(key)
    return {
        "name": name,
        "value": str(value) if value else NOT_PROVIDED,
        "provided": bool(value),
    }


def _is_unknown_counts(rule: Mapping[str, Any]) -> bool:
    groups = rule.get("groups") or []
    return bool(groups) and all("unknown" in (group.get("figures") or {}) for group in groups)


def _assessed(unknown: Mapping[str, Any] | None, inputs: Mapping[str, Any]) -> int | None:
    """Individuals the tool assessed: the disclosure's total, else the audited data's row count."""
    if unknown is not None:
        totals = {(group.get("figures") or {}).get("total") for group in unknown["groups"]}
        if len(totals) == 1:
            return totals.pop()
    rows = (inputs.get("current") or {}).get("rows")
    return rows if isinstance(rows, int) else None


def _unknown_rows(unknown: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    if unknown is None:
        return []
    return [
        {
            "grouping": in_words(str((group.get("group") or {}).get("by", ""))),
            "unknown": (group.get("figures") or {}).get("unknown"),
            "total": (group.get("figures") or {}).get("total"),
        }
        for group in unknown["groups"]
    ]


def in_words(grouping: str) -> str:
    """``sex × race`` → ``sex or race`` (an individual missing either is in an unknown category)."""
    parts = grouping.split(" × ")
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} or {parts[-1]}"


def _rate_tables(rule: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One table per grouping (sex, race/ethnicity, their intersection), categories in recorded order."""
    metric = rule["metric"]
    tables: dict[tuple[str, ...], dict[str, Any]] = {}
    for group in rule["groups"]:
        values: Mapping[str, Any] = group.get("group") or {}
        by = tuple(values)
        table = tables.setdefault(
            by,
            {
                "rule_id": rule["id"],
                "grouping": " × ".join(by),
                "intersection": len(by) > 1,
                "rate_title": RATE_WORDS[metric],
                "rows": [],
            },
        )
        table["rows"].append(_category_row(group, metric))
    return list(tables.values())


def _category_row(group: Mapping[str, Any], metric: str) -> dict[str, Any]:
    values: Mapping[str, Any] = group.get("group") or {}
    figures: Mapping[str, Any] = group.get("figures") or {}
    reason = group.get("reason") or ""
    return {
        "category": ", ".join(
            "unknown" if value is None else str(value) for value in values.values()
        ),
        "unknown": any(value is None for value in values.values()),
        "n": group.get("n"),
        "rate": figures.get(metric),
        "impact_ratio": figures.get("impact_ratio"),
        "excluded": reason.startswith(EXCLUDED_PREFIX),
        "note": reason,
    }


def _excluded(rule: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Categories left out of the impact ratios under the 2% rule, with the recorded justification."""
    rows = []
    for table in _rate_tables(rule):
        rows += [
            {
                "grouping": table["grouping"],
                "category": row["category"],
                "n": row["n"],
                "why": row["note"],
            }
            for row in table["rows"]
            if row["excluded"]
        ]
    return rows
