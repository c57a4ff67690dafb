"""Findings: the outcome of evaluating one rule, and the verdict of a whole run.

Frozen dataclasses with ``to_dict`` in the JSON shape of the ``check`` command; every output format
(text, JSON, JUnit, SARIF, Markdown, GitHub annotations), the audit trail and the report read these.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from auditkit.policy.model import SEVERITIES, Enforcement, Severity

Outcome = Literal["pass", "fail", "inconclusive", "waived", "error", "not_applicable", "reported"]
OUTCOMES: tuple[Outcome, ...] = (
    "pass",
    "fail",
    "inconclusive",
    "waived",
    "error",
    "not_applicable",
    "reported",
)
"""``reported``: a disclosure rule produced its figures; it judges nothing, so it neither passes nor fails."""


def severity_rank(severity: Severity) -> int:
    """0 for critical ... 4 for info: lower is more severe."""
    return SEVERITIES.index(severity)


@dataclass(frozen=True)
class GroupOutcome:
    """How one group (or one column, for drift and data quality) fared under a rule."""

    group: dict[str, Any]
    status: Outcome
    observed: float | None
    n: int | None = None
    interval: tuple[float, float] | None = None
    reason: str | None = None
    figures: dict[str, float | int | None] = field(default_factory=dict)
    """Further numbers a disclosure reports for the group (e.g. selection rate and impact ratio)."""

    def label(self) -> str:
        return ", ".join(
            f"{key}={'unknown' if value is None else value}" for key, value in self.group.items()
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "group": self.group,
            "status": self.status,
            "observed": self.observed,
            "n": self.n,
            "interval": list(self.interval) if self.interval else None,
            "reason": self.reason,
            **({"figures": dict(self.figures)} if self.figures else {}),
        }


@dataclass(frozen=True)
class Reference:
    framework: str
    clause: str | None = None
    url: str | None = None

    def __str__(self) -> str:
        return f"{self.framework} {self.clause}" if self.clause else self.framework

    def to_dict(self) -> dict[str, Any]:
        return {"framework": self.framework, "clause": self.clause, "url": self.url}


@dataclass(frozen=True)
class AppliedWaiver:
    """The waiver that turned a failure into ``waived``."""

    id: str
    justification: str
    approved_by: str
    expires: date

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "justification": self.justification,
            "approved_by": self.approved_by,
            "expires": self.expires.isoformat(),
        }


@dataclass(frozen=True)
class Finding:
    """The outcome of one rule."""

    rule_id: str
    title: str
    kind: str
    severity: Severity
    status: Outcome
    message: str
    policy_id: str
    enforcement: Enforcement = "soft-mandatory"
    observed: float | None = None
    threshold: float | None = None
    op: str | None = None
    metric: str | None = None
    groups: tuple[GroupOutcome, ...] = ()
    references: tuple[Reference, ...] = ()
    remediation: str | None = None
    waiver: AppliedWaiver | None = None
    source: str | None = None
    """``file:line`` of the rule, for SARIF locations and editor links."""
    aggregate: str | None = None
    """How a parity rule compares groups (``ratio_to_max``, ...): what its groups' values are."""
    min_group_size: int | None = None
    """The rule's minimum group size: smaller groups are inconclusive under it."""

    @property
    def failing_groups(self) -> tuple[GroupOutcome, ...]:
        return tuple(group for group in self.groups if group.status == "fail")

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.rule_id,
            "title": self.title,
            "kind": self.kind,
            "severity": self.severity,
            "status": self.status,
            "observed": self.observed,
            "threshold": self.threshold,
            "op": self.op,
            "metric": self.metric,
            "message": self.message,
            "policy": self.policy_id,
            "enforcement": self.enforcement,
            "references": [reference.to_dict() for reference in self.references],
            "remediation": self.remediation,
            "waiver": self.waiver.to_dict() if self.waiver else None,
            "groups": [group.to_dict() for group in self.groups],
            "source": self.source,
            "aggregate": self.aggregate,
            "min_group_size": self.min_group_size,
        }


@dataclass(frozen=True)
class Summary:
    """Counts of findings by outcome; waived results always have their own tally."""

    counts: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, findings: tuple[Finding, ...]) -> Summary:
        counts: dict[str, int] = dict.fromkeys(OUTCOMES, 0)
        for finding in findings:
            counts[finding.status] += 1
        return cls(counts)

    def to_dict(self) -> dict[str, int]:
        return {"rules": sum(self.counts.values()), **self.counts}


def overall_status(findings: tuple[Finding, ...], fail_on: Severity = "high") -> Outcome:
    """``error`` if anything could not be evaluated; ``fail`` if a failure at or above ``fail_on``;
    ``inconclusive`` if any rule was; otherwise ``pass``.

    Advisory rules are reported with their own outcome but never decide the run: their failures and
    inconclusive results leave the verdict alone. An advisory rule that could not be evaluated is
    still an ``error``: a policy that was not evaluated must not pass silently.
    """
    limit = severity_rank(fail_on)
    if any(finding.status == "error" for finding in findings):
        return "error"
    binding = [finding for finding in findings if finding.enforcement != "advisory"]
    if any(
        finding.status == "fail" and severity_rank(finding.severity) <= limit for finding in binding
    ):
        return "fail"
    if any(finding.status == "inconclusive" for finding in binding):
        return "inconclusive"
    return "pass"
