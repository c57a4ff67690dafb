"""A Markdown summary for a pull-request comment or a CI step summary."""

from __future__ import annotations

from auditkit.check import CheckResult

ICONS = {
    "pass": "✅",
    "fail": "❌",
    "inconclusive": "❔",
    "waived": "⏸️",
    "error": "⚠️",
    "not_applicable": "➖",
    "reported": "📋",
}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render(result: CheckResult) -> str:
    counts = result.summary.to_dict()
    lines = [f"### auditkit check: {ICONS.get(result.status, '')} {result.status}", ""]
    tally = " · ".join(
        f"{counts[key]} {key.replace('_', ' ')}"
        for key in ("pass", "fail", "inconclusive", "waived", "error", "not_applicable", "reported")
        if counts[key]
    )
    lines += [
        f"{counts['rules']} rules: {tally}. Failing at severity **{result.fail_on}** or above.",
        "",
    ]
    lines += ["| | rule | severity | result |", "|---|---|---|---|"]
    order = {
        "fail": 0,
        "error": 1,
        "inconclusive": 2,
        "waived": 3,
        "pass": 4,
        "reported": 5,
        "not_applicable": 6,
    }
    for finding in sorted(result.findings, key=lambda f: order[f.status]):
        lines.append(
            f"| {ICONS[finding.status]} | `{finding.rule_id}` {_cell(finding.title)} | {finding.severity} | "
            f"{_cell(finding.message)} |"
        )
    return "\n".join(lines) + "\n"
