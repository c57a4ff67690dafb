"""JUnit XML: one test case per rule, for CI test-report views.

``<failure>`` for violations (and for inconclusive rules when the run fails on them), ``<error>`` for rules
that could not be evaluated, ``<skipped>`` for waived and not-applicable rules. Passing rules are plain
test cases; inconclusive rules pass with a ``<system-out>`` note unless ``--fail-on-inconclusive``, and
reported (disclosure) rules pass with the figures they report as a note.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree
from datetime import datetime

from auditkit.check import CheckResult
from auditkit.policy.findings import Finding, severity_rank

# Characters XML 1.0 cannot hold at all (control characters that may come from data values).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
MAX_GROUP_LINES = 20


def render(result: CheckResult) -> str:
    suite = ElementTree.Element("testsuite", {"name": "auditkit"})
    for finding in result.findings:
        suite.append(_testcase(finding, result))
    totals = _totals(suite)
    suite.attrib |= totals | _timing(result)
    # The common JUnit schema (Jenkins', Maven Surefire's) has no skipped count on <testsuites>.
    root_totals = {key: value for key, value in totals.items() if key != "skipped"}
    root = ElementTree.Element("testsuites", {"name": "auditkit check", **root_totals})
    root.append(suite)
    ElementTree.indent(root)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        + ElementTree.tostring(root, encoding="unicode")
        + "\n"
    )


def _totals(suite: ElementTree.Element) -> dict[str, str]:
    """Counted from the elements written, so the attributes always agree with the test cases."""
    return {
        "tests": str(len(suite.findall("testcase"))),
        "failures": str(len(suite.findall("testcase/failure"))),
        "errors": str(len(suite.findall("testcase/error"))),
        "skipped": str(len(suite.findall("testcase/skipped"))),
    }


def _timing(result: CheckResult) -> dict[str, str]:
    if not result.started:
        return {}
    started = datetime.fromisoformat(result.started)
    # The JUnit schema's timestamp has no time zone; auditkit's times are UTC.
    timing = {"timestamp": started.replace(tzinfo=None).isoformat(timespec="seconds")}
    if result.finished:
        elapsed = datetime.fromisoformat(result.finished) - started
        timing["time"] = f"{elapsed.total_seconds():.3f}"
    return timing


def _clean(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def _testcase(finding: Finding, result: CheckResult) -> ElementTree.Element:
    case = ElementTree.Element(
        "testcase",
        {
            "classname": _clean(f"auditkit.{finding.policy_id}"),
            "name": _clean(f"{finding.rule_id}: {finding.title}"),
        },
    )
    message = _clean(finding.message or finding.title)
    if finding.status == "fail":
        failure = ElementTree.SubElement(
            case, "failure", {"message": message, "type": finding.severity}
        )
        failure.text = _clean(_details(finding, result))
    elif finding.status == "inconclusive" and result.fail_on_inconclusive:
        failure = ElementTree.SubElement(
            case, "failure", {"message": f"inconclusive: {message}", "type": "inconclusive"}
        )
        failure.text = _clean(_details(finding, result))
    elif finding.status == "error":
        error = ElementTree.SubElement(
            case, "error", {"message": message, "type": "evaluation-error"}
        )
        error.text = _clean(_details(finding, result))
    elif finding.status == "waived":
        ElementTree.SubElement(case, "skipped", {"message": _clean(_waived_message(finding))})
    elif finding.status == "not_applicable":
        ElementTree.SubElement(case, "skipped", {"message": f"not applicable: {message}"})
    elif finding.status in ("inconclusive", "reported"):
        # Inconclusive rules do not fail the run unless asked; reported (disclosure) rules never judge.
        output = ElementTree.SubElement(case, "system-out")
        output.text = _clean(f"{finding.status}: {_details(finding, result)}")
    return case


def _waived_message(finding: Finding) -> str:
    waiver = finding.waiver
    if waiver is None:
        return f"waived: {finding.message}"
    return (
        f"waived by {waiver.id} (approved by {waiver.approved_by}, until "
        f"{waiver.expires.isoformat()}): {waiver.justification}"
    )


def _details(finding: Finding, result: CheckResult) -> str:
    lines = [finding.message]
    if finding.op is not None and finding.threshold is not None:
        lines.append(f"required: {finding.metric or 'value'} {finding.op} {finding.threshold:g}")
    at_fault = [group for group in finding.groups if group.status in ("fail", "inconclusive")]
    for group in at_fault[:MAX_GROUP_LINES]:
        observed = "null" if group.observed is None else f"{group.observed:.6g}"
        size = f" (n={group.n})" if group.n is not None else ""
        reason = f": {group.reason}" if group.reason else ""
        lines.append(f"  {group.status} {group.label()}: {observed}{size}{reason}")
    if len(at_fault) > MAX_GROUP_LINES:
        lines.append(f"  ... and {len(at_fault) - MAX_GROUP_LINES} more groups")
    if finding.status == "fail" and severity_rank(finding.severity) > severity_rank(result.fail_on):
        lines.append(
            f"severity {finding.severity} is below --fail-on {result.fail_on}: reported only"
        )
    if finding.status == "fail" and finding.enforcement == "advisory":
        lines.append("advisory rule: reported only, it does not decide the run")
    if finding.references:
        lines.append("references: " + "; ".join(str(reference) for reference in finding.references))
    if finding.remediation:
        lines.append(f"remediation: {finding.remediation}")
    if finding.source:
        lines.append(f"rule defined at {finding.source}")
    return "\n".join(lines)
