"""The result of ``auditkit check``: findings, their tally, the inputs they were computed from, the verdict."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from auditkit import __version__
from auditkit.errors import ExitCode
from auditkit.policy.findings import Finding, Outcome, Summary, overall_status
from auditkit.policy.model import Severity


@dataclass(frozen=True)
class CheckResult:
    findings: tuple[Finding, ...]
    inputs: dict[str, Any]
    fail_on: Severity = "high"
    fail_on_inconclusive: bool = False
    started: str = ""
    finished: str = ""
    policies: tuple[dict[str, Any], ...] = field(default_factory=tuple)
    model: dict[str, Any] | None = None
    """The audited model as the project names it (``name``, ``version``), None without one; its file,
    when there is one, is among the ``inputs``."""

    @property
    def status(self) -> Outcome:
        return overall_status(self.findings, self.fail_on)

    @property
    def summary(self) -> Summary:
        return Summary.of(self.findings)

    @property
    def exit_code(self) -> ExitCode:
        status = self.status
        if status == "error":
            return ExitCode.ERROR
        if status == "fail":
            return ExitCode.VIOLATIONS
        if status == "inconclusive" and self.fail_on_inconclusive:
            return ExitCode.INCONCLUSIVE
        return ExitCode.OK

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "exit_code": int(self.exit_code),
            "summary": self.summary.to_dict(),
            "fail_on": self.fail_on,
            "tool": {"name": "auditkit", "version": __version__},
            "started": self.started,
            "finished": self.finished,
            "model": self.model,
            "inputs": self.inputs,
            "policies": list(self.policies),
            "rules": [finding.to_dict() for finding in self.findings],
        }
