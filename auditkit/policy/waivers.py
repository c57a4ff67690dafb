"""Waivers: a reviewed, time-limited exception to one rule.

A waiver names the rule, its scope (model and/or dataset), a justification, who approved it and when it
expires. Applied waivers turn ``fail`` or ``inconclusive`` into ``waived`` (always reported in their own
tally). A waiver that has expired, or that cannot be read, is itself a failing finding; a waiver for a
hard-mandatory rule is ignored and said so.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError

from auditkit.errors import AuditkitError, ConfigError, ConfigErrors, SourcePosition
from auditkit.policy.findings import AppliedWaiver, Finding
from auditkit.policy.model import RuleId, Strict
from auditkit.yamlsource import load_yaml, validation_errors

WAIVABLE = frozenset({"fail", "inconclusive"})


class WaiverScope(Strict):
    model: str | None = None
    """Model name the waiver applies to (``model.name`` in the project file)."""
    dataset: str | None = None
    """File name pattern of the current dataset, e.g. ``applications_2026q*.parquet``."""


class WaiverEntry(Strict):
    id: RuleId
    rule: RuleId
    """The rule id this waiver applies to."""
    scope: WaiverScope = Field(default_factory=WaiverScope)
    justification: str = Field(min_length=10)
    """Why the exception is acceptable (a committee reference helps the next reviewer)."""
    approved_by: str = Field(min_length=3)
    expires: date
    """Last day the waiver applies."""
    created: date | None = None


class WaiversFile(Strict):
    waivers: list[dict[str, Any]] = Field(default_factory=list)


@dataclass(frozen=True)
class Waiver:
    entry: WaiverEntry
    source: SourcePosition

    def applies_to(self, rule_id: str, model_name: str | None, dataset_path: str | None) -> bool:
        scope = self.entry.scope
        if self.entry.rule != rule_id:
            return False
        if scope.model is not None and scope.model != model_name:
            return False
        return not (
            scope.dataset is not None
            and (
                dataset_path is None or not fnmatch.fnmatch(Path(dataset_path).name, scope.dataset)
            )
        )

    def expired(self, today: date) -> bool:
        return self.entry.expires < today


@dataclass(frozen=True)
class WaiverSet:
    waivers: tuple[Waiver, ...]
    problems: tuple[AuditkitError, ...]
    """Entries that could not be read: each becomes a failing finding."""
    path: str | None = None


def load_waivers(path: Path | None) -> WaiverSet:
    """Read a waivers file. A missing ``path`` means no waivers; a file that does not parse is an error."""
    if path is None:
        return WaiverSet((), ())
    if not path.is_file():
        raise ConfigError("waivers file not found", position=SourcePosition(str(path)))
    document = load_yaml(path)
    data = document.data if document.data is not None else {}
    try:
        parsed = WaiversFile.model_validate(data)
    except ValidationError as error:
        raise validation_errors(document, error, WaiversFile) from None
    waivers: list[Waiver] = []
    problems: list[AuditkitError] = []
    seen: set[str] = set()
    for index, raw in enumerate(parsed.waivers):
        location = ("waivers", index)
        try:
            entry = WaiverEntry.model_validate(raw)
        except ValidationError as error:
            label = f"waiver {raw.get('id', f'#{index + 1}') if isinstance(raw, dict) else f'#{index + 1}'}: "
            problems += validation_errors(
                document, error, WaiverEntry, prefix=location, label=label
            ).errors
            continue
        position = document.position((*location, "id"))
        if entry.id in seen:
            problems.append(ConfigError(f"duplicate waiver id {entry.id!r}", position=position))
            continue
        seen.add(entry.id)
        waivers.append(Waiver(entry, position))
    return WaiverSet(tuple(waivers), tuple(problems), str(path))


def apply_waivers(
    findings: tuple[Finding, ...],
    waivers: WaiverSet,
    *,
    model_name: str | None,
    dataset_path: str | None,
    today: date,
) -> tuple[Finding, ...]:
    """Waive what valid waivers cover, and add a finding for every expired or unreadable waiver."""
    result = [_waived(finding, waivers, model_name, dataset_path, today) for finding in findings]
    result += [_expired_finding(waiver) for waiver in waivers.waivers if waiver.expired(today)]
    result += [_malformed_finding(problem) for problem in waivers.problems]
    return tuple(result)


def _waived(
    finding: Finding, waivers: WaiverSet, model: str | None, dataset: str | None, today: date
) -> Finding:
    if finding.status not in WAIVABLE:
        return finding
    for waiver in waivers.waivers:
        if not waiver.applies_to(finding.rule_id, model, dataset) or waiver.expired(today):
            continue
        if finding.enforcement == "hard-mandatory":
            note = f" (waiver {waiver.entry.id} ignored: the rule is hard-mandatory)"
            return replace(finding, message=finding.message + note)
        entry = waiver.entry
        applied = AppliedWaiver(entry.id, entry.justification, entry.approved_by, entry.expires)
        return replace(finding, status="waived", waiver=applied)
    return finding


def _expired_finding(waiver: Waiver) -> Finding:
    entry = waiver.entry
    return Finding(
        rule_id=f"WAIVER.{entry.id}",
        title=f"Waiver {entry.id} for {entry.rule} has expired",
        kind="waiver",
        severity="high",
        status="fail",
        message=f"waiver {entry.id} for rule {entry.rule} expired on {entry.expires.isoformat()}; "
        "renew it with a fresh review or fix the underlying finding",
        policy_id="waivers",
        source=str(waiver.source),
        remediation="Review the exception again and extend its expiry, or remove the waiver.",
    )


def _malformed_finding(problem: AuditkitError) -> Finding:
    return Finding(
        rule_id="WAIVER.INVALID",
        title="A waiver cannot be read",
        kind="waiver",
        severity="high",
        status="fail",
        message=str(problem),
        policy_id="waivers",
        source=str(problem.position) if problem.position else None,
    )


def waiver_errors(waivers: WaiverSet) -> ConfigErrors | None:
    return ConfigErrors(list(waivers.problems)) if waivers.problems else None
