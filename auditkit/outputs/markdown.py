"""A Markdown summary for a pull-request comment or a CI step summary (``$GITHUB_STEP_SUMMARY``).

GitHub-flavoured Markdown: a verdict line, a table of every rule (what did not pass first), the waivers
in force and the inputs with their hashes. Text from policies and data is escaped, so a message cannot
break the table or inject HTML.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from auditkit.check import CheckResult
from auditkit.outputs.locations import display_path
from auditkit.policy.findings import OUTCOMES, Finding

ICONS = {
    "pass": "✅",
    "fail": "❌",
    "inconclusive": "❔",
    "waived": "⏸️",
    "error": "⚠️",
    "not_applicable": "➖",
    "reported": "📋",
}
ORDER = {
    "fail": 0,
    "error": 1,
    "inconclusive": 2,
    "waived": 3,
    "pass": 4,
    "reported": 5,
    "not_applicable": 6,
}
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]|~])")
_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def cell(text: str) -> str:
    """Text made safe for a table cell: Markdown and HTML characters escaped, newlines as ``<br>``."""
    escaped = "".join(_HTML.get(character, character) for character in text)
    escaped = _MARKDOWN_SPECIAL.sub(r"\\\1", escaped)
    return escaped.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "<br>")


def render(result: CheckResult) -> str:
    lines = [f"### auditkit check: {ICONS.get(result.status, '')} {result.status}", ""]
    lines += [_verdict_line(result), ""]
    lines += _model_line(result.model)
    lines += _rules_table(result)
    lines += _waivers_table(result.findings)
    lines += _inputs(result.inputs, result.policies)
    return "\n".join(lines) + "\n"


def _model_line(model: dict[str, Any] | None) -> list[str]:
    if not model or not model.get("name"):
        return []
    version = f" {cell(str(model['version']))}" if model.get("version") else ""
    return [f"Model: **{cell(str(model['name']))}**{version}", ""]


def _verdict_line(result: CheckResult) -> str:
    counts = result.summary.to_dict()
    tally = " · ".join(f"{counts[key]} {key.replace('_', ' ')}" for key in OUTCOMES if counts[key])
    gate = f"failing at severity **{result.fail_on}** or above"
    if result.fail_on_inconclusive:
        gate += " and on inconclusive results"
    return f"{counts['rules']} rules: {tally}. Exit code {int(result.exit_code)}; {gate}."


def _rules_table(result: CheckResult) -> list[str]:
    lines = ["| result | rule | severity | policy | details |", "|---|---|---|---|---|"]
    for finding in sorted(result.findings, key=lambda f: ORDER[f.status]):
        status = f"{ICONS[finding.status]} {finding.status.replace('_', ' ')}"
        if finding.enforcement == "advisory" and finding.status in ("fail", "inconclusive"):
            status += " (advisory)"
        lines.append(
            f"| {status} | `{finding.rule_id}` {cell(finding.title)} | {finding.severity} | "
            f"{cell(finding.policy_id)} | {_details(finding)} |"
        )
    return [*lines, ""]


def _details(finding: Finding) -> str:
    parts = [cell(finding.message)]
    if finding.status == "fail" and finding.remediation:
        parts.append(f"**Remediation:** {cell(finding.remediation)}")
    if finding.references and finding.status != "pass":
        parts.append(
            "**References:** " + "; ".join(cell(str(reference)) for reference in finding.references)
        )
    return "<br>".join(parts)


def _waivers_table(findings: tuple[Finding, ...]) -> list[str]:
    waived = [finding for finding in findings if finding.waiver is not None]
    if not waived:
        return []
    lines = [
        "#### Waivers in force",
        "",
        "| rule | waiver | approved by | expires | justification |",
        "|---|---|---|---|---|",
    ]
    for finding in waived:
        waiver = finding.waiver
        assert waiver is not None
        lines.append(
            f"| `{finding.rule_id}` | {cell(waiver.id)} | {cell(waiver.approved_by)} | "
            f"{waiver.expires.isoformat()} | {cell(waiver.justification)} |"
        )
    return [*lines, ""]


def _inputs(inputs: dict[str, Any], policies: tuple[dict[str, Any], ...]) -> list[str]:
    rows = [
        (name, entry)
        for name, entry in inputs.items()
        if isinstance(entry, dict) and "path" in entry
    ]
    rows += [(f"policy {policy.get('id')}", policy) for policy in policies if "path" in policy]
    if not rows:
        return []
    lines = [
        "<details><summary>Inputs</summary>",
        "",
        "| input | path | sha256 |",
        "|---|---|---|",
    ]
    base = Path.cwd()
    lines += [
        f"| {cell(name)} | {cell(display_path(str(entry['path']), base))} | "
        f"`{entry.get('sha256') or '—'}` |"
        for name, entry in rows
    ]
    return [*lines, "", "</details>", ""]
