"""Plain text: one line per rule, then the details of what did not pass."""

from __future__ import annotations

from typing import Any

from auditkit.check import CheckResult
from auditkit.policy.evidence import format_number
from auditkit.policy.findings import Finding

SYMBOLS = {
    "pass": "PASS",
    "fail": "FAIL",
    "inconclusive": "INCONCLUSIVE",
    "waived": "WAIVED",
    "error": "ERROR",
    "not_applicable": "N/A",
    "reported": "REPORTED",
}


def render(result: CheckResult) -> str:
    width = max((len(finding.rule_id) for finding in result.findings), default=4)
    lines = []
    for finding in result.findings:
        lines.append(
            f"{SYMBOLS[finding.status]:<12} {finding.rule_id:<{width}}  {finding.severity:<8}  {finding.title}"
        )
    lines.append("")
    for finding in result.findings:
        if finding.status in ("pass", "not_applicable"):
            continue
        lines += _details(finding)
    counts = result.summary.to_dict()
    tally = ", ".join(
        f"{counts[key]} {key.replace('_', ' ')}"
        for key in ("pass", "fail", "inconclusive", "waived", "error", "not_applicable", "reported")
        if counts[key]
    )
    lines.append(
        f"{result.status.upper()}: {counts['rules']} rules{_of_model(result.model)}: {tally} "
        f"(failing at {result.fail_on} or above)"
    )
    return "\n".join(lines) + "\n"


def _details(finding: Finding) -> list[str]:
    advisory = finding.enforcement == "advisory" and finding.status in ("fail", "inconclusive")
    note = ", advisory: does not decide the run" if advisory else ""
    lines = [f"{finding.rule_id} [{finding.status}{note}] {finding.message}"]
    failing = [group for group in finding.groups if group.status in ("fail", "inconclusive")]
    for group in failing[:8]:
        value = (
            "—"
            if group.observed is None
            else format_number(group.observed, against=finding.threshold)
        )
        reason = f" ({group.reason})" if group.reason else ""
        lines.append(f"    {group.status:<12} {group.label()}: {value}{reason}")
    if len(failing) > 8:
        lines.append(f"    … and {len(failing) - 8} more")
    if finding.waiver:
        waiver = finding.waiver
        lines.append(
            f"    waived by {waiver.id} (approved by {waiver.approved_by}, until {waiver.expires}): {waiver.justification}"
        )
    if finding.references:
        lines.append(
            "    references: " + "; ".join(str(reference) for reference in finding.references)
        )
    if finding.remediation and finding.status == "fail":
        lines.append(f"    remediation: {finding.remediation}")
    if finding.source:
        lines.append(f"    rule defined at {finding.source}")
    lines.append("")
    return lines


def _of_model(model: dict[str, Any] | None) -> str:
    """`` of NAME VERSION`` for a named model, else nothing."""
    if not model or not model.get("name"):
        return ""
    return f" of {model['name']}" + (f" {model['version']}" if model.get("version") else "")
