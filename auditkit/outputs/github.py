"""GitHub Actions workflow commands: an annotation per finding that did not pass, most severe first,
capped so a bad run does not flood the log."""

from __future__ import annotations

from auditkit.check import CheckResult
from auditkit.policy.findings import severity_rank

MAX_ANNOTATIONS = 10
LEVELS = {"fail": "error", "error": "error", "inconclusive": "warning", "waived": "notice"}


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render(result: CheckResult) -> str:
    shown = [finding for finding in result.findings if finding.status in LEVELS]
    shown.sort(key=lambda finding: (finding.status != "fail", severity_rank(finding.severity)))
    lines = []
    for finding in shown[:MAX_ANNOTATIONS]:
        properties = [
            f"title={escape_property(f'{finding.rule_id} ({finding.severity}): {finding.title}')}"
        ]
        if finding.source and ":" in finding.source:
            path, _, rest = finding.source.partition(":")
            line = rest.split(":")[0]
            properties = [
                f"file={escape_property(path)}",
                f"line={escape_property(line)}",
                *properties,
            ]
        lines.append(
            f"::{LEVELS[finding.status]} {','.join(properties)}::{escape_data(finding.message)}"
        )
    if len(shown) > MAX_ANNOTATIONS:
        lines.append(f"::notice::{len(shown) - MAX_ANNOTATIONS} more findings; see the full report")
    return "\n".join(lines) + ("\n" if lines else "")
