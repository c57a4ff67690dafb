"""SARIF 2.1.0 for GitHub code scanning and other SARIF viewers.

One run. ``tool.driver.rules`` describes every rule that was evaluated, including those that passed, so a
viewer can tell "this rule ran and found nothing" from "this rule is gone" and close alerts that were
fixed. Results are only the findings someone must look at: ``fail``, ``error``, ``inconclusive`` and
``waived`` (the last with a SARIF suppression, so it is reported but not counted as open). ``pass`` and
``not_applicable`` are not results: SARIF consumers such as code scanning open an alert for every result
whatever its level, and a rule that held is not a problem to triage.

Each result points at its rule in the policy file (URIs relative to the working directory, ``%SRCROOT%``,
which in CI is the repository root), and carries a fingerprint that survives re-runs: a hash of the
policy, the rule and the groups at fault, never of the numbers, which move from one run to the next.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from auditkit import __version__
from auditkit.check import CheckResult
from auditkit.outputs.locations import SourceLocation, file_uri, relative_path, relative_uri
from auditkit.policy.findings import Finding, GroupOutcome

SCHEMA_URI = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
SRCROOT = "%SRCROOT%"
FINGERPRINT_KEY = "auditkitFinding/v1"
REPORTED = ("fail", "error", "inconclusive", "waived")
MAX_TAGS = 20  # GitHub code scanning reads at most 20 tags per rule.

CATEGORIES = {
    "parity": "fairness",
    "disclosure": "fairness",
    "coverage": "fairness",
    "proxy": "fairness",
    "attribution": "explainability",
    "drift": "drift",
    "data_quality": "data-quality",
    "threshold": "performance",
    "sql": "data-quality",
    "waiver": "governance",
}

# Code scanning accepts the levels error, warning and note. No rule sets `security-severity`: these are
# model-governance findings, and that property would make code scanning file them as security alerts.
_FAIL_LEVELS = {
    "critical": "error",
    "high": "error",
    "medium": "warning",
    "low": "note",
    "info": "note",
}
_INCONCLUSIVE_LEVELS = {"critical": "warning", "high": "warning"}


def render(result: CheckResult) -> str:
    """The SARIF log, with paths relative to the current working directory."""
    return render_log(sarif_log(result, base=Path.cwd()))


def render_log(log: dict[str, Any]) -> str:
    return json.dumps(log, indent=2, ensure_ascii=False, allow_nan=False, default=str) + "\n"


def sarif_log(result: CheckResult, *, base: Path) -> dict[str, Any]:
    """The SARIF document as a dict; ``base`` is the directory that relative URIs start from."""
    rule_index = _rule_index(result.findings)
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "auditkit",
                "version": __version__,
                "semanticVersion": __version__,
                "rules": [_descriptor(finding) for finding in rule_index.values()],
            }
        },
        "invocations": [_invocation(result)],
        "originalUriBaseIds": {SRCROOT: {"uri": file_uri(str(base)).rstrip("/") + "/"}},
        "artifacts": _artifacts(result, base),
        "results": _results(result, list(rule_index), base),
        "columnKind": "unicodeCodePoints",
        "properties": {
            "status": result.status,
            "exit_code": int(result.exit_code),
            "fail_on": result.fail_on,
            "summary": result.summary.to_dict(),
            **({"model": result.model} if result.model else {}),
        },
    }
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def _rule_index(findings: Iterable[Finding]) -> dict[str, Finding]:
    """The first finding of each rule id, in evaluation order: the order of ``tool.driver.rules``."""
    index: dict[str, Finding] = {}
    for finding in findings:
        index.setdefault(finding.rule_id, finding)
    return index


def level(finding: Finding) -> str:
    """The SARIF level of a reported finding: from its outcome and its rule's severity."""
    if finding.status == "error":
        return "error"
    if finding.status == "inconclusive":
        return _INCONCLUSIVE_LEVELS.get(finding.severity, "note")
    if finding.enforcement == "advisory":  # reported, never fails the run: no red in the PR
        return "note"
    return _FAIL_LEVELS[finding.severity]


def _descriptor(finding: Finding) -> dict[str, Any]:
    return {
        "id": finding.rule_id,
        "name": _pascal_case(finding.title) or finding.rule_id,
        "shortDescription": {"text": finding.title},
        "fullDescription": {"text": _full_description(finding)},
        "help": {"text": _help_text(finding), "markdown": _help_markdown(finding)},
        "defaultConfiguration": {"level": _FAIL_LEVELS[finding.severity]},
        "properties": _without_nulls(
            {
                "kind": finding.kind,
                "severity": finding.severity,
                "policy": finding.policy_id,
                "enforcement": finding.enforcement,
                "metric": finding.metric,
                "tags": _tags(finding),
            }
        ),
    }


def _without_nulls(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


def _pascal_case(text: str) -> str:
    words = re.findall(r"[A-Za-z0-9]+", re.sub(r"['’]", "", text))
    return "".join(word[:1].upper() + word[1:] for word in words)


def _criterion(finding: Finding) -> str | None:
    if finding.op is None or finding.threshold is None:
        return None
    subject = finding.metric or "the observed value"
    return f"holds when {subject} {finding.op} {_number_text(finding.threshold)}"


def _full_description(finding: Finding) -> str:
    parts = [f"{finding.title}.", f"A {finding.kind} rule of policy {finding.policy_id}"]
    criterion = _criterion(finding)
    parts[-1] += f" that {criterion}." if criterion else "."
    parts.append(f"Severity {finding.severity}, {finding.enforcement}.")
    return " ".join(parts)


def _help_text(finding: Finding) -> str:
    lines = [_full_description(finding)]
    if finding.remediation:
        lines.append(f"Remediation: {finding.remediation}")
    if finding.references:
        lines.append("References: " + "; ".join(str(reference) for reference in finding.references))
    return "\n".join(lines)


def _help_markdown(finding: Finding) -> str:
    lines = [_full_description(finding), ""]
    if finding.remediation:
        lines += [f"**Remediation:** {finding.remediation}", ""]
    if finding.references:
        lines.append("**References:**")
        lines += [
            f"- [{reference}]({reference.url})" if reference.url else f"- {reference}"
            for reference in finding.references
        ]
    return "\n".join(lines).strip()


def _tags(finding: Finding) -> list[str]:
    tags = [
        "auditkit",
        CATEGORIES.get(finding.kind, finding.kind),
        finding.kind,
        *(reference.framework for reference in finding.references),
    ]
    return list(dict.fromkeys(tags))[:MAX_TAGS]


def _invocation(result: CheckResult) -> dict[str, Any]:
    errors = [finding for finding in result.findings if finding.status == "error"]
    invocation: dict[str, Any] = {
        # Violations are a successful analysis; a rule that could not be evaluated is not.
        "executionSuccessful": not errors,
        "exitCode": int(result.exit_code),
        "exitCodeDescription": result.exit_code.name.lower(),
    }
    if result.started:
        invocation["startTimeUtc"] = _utc(result.started)
    if result.finished:
        invocation["endTimeUtc"] = _utc(result.finished)
    if errors:
        invocation["toolExecutionNotifications"] = [
            {
                "level": "error",
                "message": {"text": finding.message or finding.title},
                "associatedRule": {"id": finding.rule_id},
            }
            for finding in errors
        ]
    return invocation


def _utc(timestamp: str) -> str:
    """SARIF times are UTC written with a ``Z``."""
    return timestamp.removesuffix("+00:00") + "Z" if timestamp.endswith("+00:00") else timestamp


def _artifact_location(path: str, base: Path) -> dict[str, Any]:
    relative = relative_path(path, base)
    if relative is None:
        return {"uri": file_uri(path)}
    return {"uri": relative_uri(relative), "uriBaseId": SRCROOT}


def _artifacts(result: CheckResult, base: Path) -> list[dict[str, Any]]:
    """The inputs the verdict was computed from, with their sha256."""
    roles = {
        "current": "analysisTarget",
        "reference": "analysisTarget",
        "model": "analysisTarget",
        "waivers": "userSpecifiedConfiguration",
    }
    described = [
        (name, roles.get(name, "analysisTarget"), entry)
        for name, entry in result.inputs.items()
        if isinstance(entry, dict) and entry.get("path")
    ]
    described += [
        (f"policy {policy.get('id')}", "policy", policy)
        for policy in result.policies
        if policy.get("path")
    ]
    return [_artifact(name, role, entry, base) for name, role, entry in described]


def _artifact(name: str, role: str, entry: dict[str, Any], base: Path) -> dict[str, Any]:
    artifact: dict[str, Any] = {
        "location": _artifact_location(str(entry["path"]), base),
        "roles": [role],
        "properties": {"input": name},
    }
    digest = entry.get("sha256")
    # A dataset of several files (a glob or a partitioned folder) has one fingerprint over all of
    # them: that is not the hash of any one artifact, so it goes in the properties.
    if digest and entry.get("files", 1) == 1:
        artifact["hashes"] = {"sha-256": digest}
    elif digest:
        artifact["properties"] |= {"fingerprint_sha256": digest, "files": entry["files"]}
    return artifact


def _results(result: CheckResult, rule_ids: list[str], base: Path) -> list[dict[str, Any]]:
    files = _files_by_policy(result)
    results = []
    seen: dict[str, int] = {}
    for finding in result.findings:
        if finding.status not in REPORTED:
            continue
        fingerprint = finding_fingerprint(finding)
        seen[fingerprint] = seen.get(fingerprint, 0) + 1
        if seen[fingerprint] > 1:  # the same rule reported twice (e.g. two unreadable waivers)
            fingerprint = _sha256(f"{fingerprint}\n{seen[fingerprint]}")
        location = SourceLocation.parse(finding.source) or _file_of(finding, files)
        results.append(
            _result(finding, rule_ids.index(finding.rule_id), fingerprint, location, base)
        )
    return results


def _files_by_policy(result: CheckResult) -> dict[str, str]:
    """The file behind each policy id (and ``waivers``), for findings that carry no position."""
    files = {
        str(policy["id"]): str(policy["path"]) for policy in result.policies if policy.get("path")
    }
    waivers = result.inputs.get("waivers")
    if isinstance(waivers, dict) and waivers.get("path"):
        files["waivers"] = str(waivers["path"])
    return files


def _file_of(finding: Finding, files: dict[str, str]) -> SourceLocation | None:
    path = files.get(finding.policy_id)
    # Code scanning wants a line in every location: the file's first stands for the whole file.
    return SourceLocation(path, 1) if path else None


def _result(
    finding: Finding,
    rule_index: int,
    fingerprint: str,
    source: SourceLocation | None,
    base: Path,
) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": finding.rule_id,
        "ruleIndex": rule_index,
        "level": level(finding),
        "message": {"text": _message(finding)},
        "locations": _locations(source, base),
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint},
        "properties": _result_properties(finding),
    }
    if finding.status == "waived":
        result["suppressions"] = [_suppression(finding)]
    return result


def _message(finding: Finding) -> str:
    text = finding.message or finding.title
    if finding.status == "inconclusive":
        return f"Inconclusive: {text}"
    if finding.status == "error":
        return f"Could not be evaluated: {text}"
    if finding.status == "waived" and finding.waiver is not None:
        return f"{text} (waived by {finding.waiver.id} until {finding.waiver.expires.isoformat()})"
    return text


def _locations(source: SourceLocation | None, base: Path) -> list[dict[str, Any]]:
    if source is None:
        return []
    physical: dict[str, Any] = {"artifactLocation": _artifact_location(source.path, base)}
    if source.line is not None:
        physical["region"] = {"startLine": source.line}
        if source.column is not None:
            physical["region"]["startColumn"] = source.column
    return [{"physicalLocation": physical}]


def flagged_groups(finding: Finding) -> tuple[GroupOutcome, ...]:
    """The groups a finding is about: those that failed, or for an inconclusive rule the undecided ones."""
    wanted = "inconclusive" if finding.status == "inconclusive" else "fail"
    return tuple(group for group in finding.groups if group.status == wanted)


def finding_fingerprint(finding: Finding) -> str:
    """Stable across runs: policy, rule, outcome family and the keys of the groups at fault; no numbers."""
    keys = sorted(
        json.dumps(group.group, sort_keys=True, default=str) for group in flagged_groups(finding)
    )
    return _sha256("\n".join([finding.policy_id, finding.rule_id, *keys]))


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _result_properties(finding: Finding) -> dict[str, Any]:
    return {
        "outcome": finding.status,
        "severity": finding.severity,
        "policy": finding.policy_id,
        "metric": finding.metric,
        "observed": _number(finding.observed),
        "threshold": _number(finding.threshold),
        "op": finding.op,
        "failing_groups": [_group(group) for group in flagged_groups(finding)],
    }


def _group(group: GroupOutcome) -> dict[str, Any]:
    return {
        "group": group.group,
        "status": group.status,
        "observed": _number(group.observed),
        "n": group.n,
        "interval": [_number(bound) for bound in group.interval] if group.interval else None,
        "reason": group.reason,
    }


def _suppression(finding: Finding) -> dict[str, Any]:
    suppression: dict[str, Any] = {"kind": "external", "status": "accepted"}
    waiver = finding.waiver
    if waiver is not None:
        suppression["justification"] = waiver.justification
        suppression["properties"] = {
            "waiver_id": waiver.id,
            "approved_by": waiver.approved_by,
            "expires": waiver.expires.isoformat(),
        }
    return suppression


def _number(value: float | None) -> float | None:
    """JSON has no NaN or infinity: such a value is reported as null."""
    if value is None or not math.isfinite(value):
        return None
    return value


def _number_text(value: float) -> str:
    return f"{value:g}"
