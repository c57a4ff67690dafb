"""GitHub Actions workflow commands: an annotation for each of the top findings that did not pass.

GitHub shows at most 10 annotations of each level per step, so a bad run is capped to the most important
findings (failures and evaluation errors, most severe first; then inconclusive; then waived) plus one
notice saying how many were left out. The full list belongs in the Markdown step summary or the SARIF.
File paths are made relative to the working directory, the repository root in a workflow.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from auditkit.check import CheckResult
from auditkit.outputs.locations import SourceLocation, relative_path
from auditkit.policy.findings import Finding, severity_rank

MAX_ANNOTATIONS = 10
"""Lines written at most, the note about the rest included."""
LEVELS = {"fail": "error", "error": "error", "inconclusive": "warning", "waived": "notice"}
_PRIORITY = {"fail": 0, "error": 0, "inconclusive": 1, "waived": 2}


def escape_data(text: str) -> str:
    """A command's message: ``%``, CR and LF would end or corrupt the command."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A command's property value: also ``:`` and ``,``, which separate properties."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def ranked(findings: tuple[Finding, ...]) -> list[Finding]:
    """The findings to annotate, most important first (stable for equal rank)."""
    shown = [finding for finding in findings if finding.status in LEVELS]
    return sorted(
        shown,
        key=lambda finding: (_PRIORITY[finding.status], severity_rank(finding.severity)),
    )


def render(result: CheckResult) -> str:
    return render_relative_to(result, Path.cwd())


def render_relative_to(result: CheckResult, base: Path) -> str:
    shown = ranked(result.findings)
    room = MAX_ANNOTATIONS if len(shown) <= MAX_ANNOTATIONS else MAX_ANNOTATIONS - 1
    lines = [annotation(finding, base) for finding in shown[:room]]
    left_out = shown[room:]
    if left_out:
        lines.append(_overflow_note(left_out))
    return "\n".join(lines) + ("\n" if lines else "")


def annotation(finding: Finding, base: Path) -> str:
    title = f"{finding.rule_id} ({finding.severity}): {finding.title}"
    if finding.status == "waived" and finding.waiver is not None:
        title += f" [waived by {finding.waiver.id}]"
    properties = [*_position(finding, base), f"title={escape_property(title)}"]
    message = finding.message or finding.title
    if finding.status == "inconclusive":
        message = f"inconclusive: {message}"
    elif finding.status == "error":
        message = f"could not be evaluated: {message}"
    command = LEVELS[finding.status]
    if finding.enforcement == "advisory" and finding.status == "fail":
        # An advisory rule never decides the run, so it is not shown as an error.
        command, message = "warning", f"advisory: {message}"
    return f"::{command} {','.join(properties)}::{escape_data(message)}"


def _position(finding: Finding, base: Path) -> list[str]:
    source = SourceLocation.parse(finding.source)
    path = relative_path(source.path, base) if source else None
    if source is None or path is None:
        return []  # outside the repository: GitHub could not link it
    position = [f"file={escape_property(path)}"]
    if source.line is not None:
        position.append(f"line={source.line}")
    if source.column is not None:
        position.append(f"col={source.column}")
    return position


def _overflow_note(left_out: list[Finding]) -> str:
    counts = Counter(finding.status for finding in left_out)
    detail = ", ".join(f"{count} {status}" for status, count in sorted(counts.items()))
    message = (
        f"{len(left_out)} more findings not annotated ({detail}); "
        "see the step summary (--format markdown) or the SARIF/JSON output"
    )
    return f"::notice title=auditkit::{escape_data(message)}"
