"""Output formats of ``auditkit check``, registered in one place.

Each format is a module with ``render(result) -> str``; the CLI's ``--format`` choices, its help and the
docs read :data:`OUTPUT_FORMATS`. Modules are imported only when a format is rendered, so the CLI can
list the formats without loading them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from auditkit.check import CheckResult


@dataclass(frozen=True)
class OutputFormat:
    name: str
    description: str
    module: str

    def render(self, result: CheckResult) -> str:
        import importlib

        renderer: Callable[[CheckResult], str] = importlib.import_module(self.module).render
        return renderer(result)


OUTPUT_FORMATS: dict[str, OutputFormat] = {
    fmt.name: fmt
    for fmt in (
        OutputFormat("text", "a readable table for terminals and logs", "auditkit.outputs.text"),
        OutputFormat("json", "the full result as one JSON object", "auditkit.outputs.json_output"),
        OutputFormat(
            "junit", "JUnit XML: failures, errors, skipped (waived)", "auditkit.outputs.junit"
        ),
        OutputFormat(
            "sarif",
            "SARIF 2.1.0 for GitHub code scanning: rules, results, waivers as suppressions",
            "auditkit.outputs.sarif",
        ),
        OutputFormat(
            "markdown",
            "a Markdown summary for pull requests and CI step summaries",
            "auditkit.outputs.markdown",
        ),
        OutputFormat(
            "github",
            "GitHub Actions workflow annotations for the top findings",
            "auditkit.outputs.github",
        ),
    )
}
