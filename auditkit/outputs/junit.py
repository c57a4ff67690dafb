"""JUnit XML: one test case per rule; ``<failure>`` for violations, ``<error>`` for rules that could not be
evaluated, ``<skipped>`` for waived and not-applicable rules. Inconclusive and reported (disclosure) rules pass with a system-out note."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree

from auditkit.check import CheckResult


def render(result: CheckResult) -> str:
    counts = result.summary.to_dict()
    suite = ElementTree.Element(
        "testsuite",
        {
            "name": "auditkit",
            "tests": str(counts["rules"]),
            "failures": str(counts["fail"]),
            "errors": str(counts["error"]),
            "skipped": str(counts["waived"] + counts["not_applicable"]),
            "timestamp": result.started,
        },
    )
    for finding in result.findings:
        case = ElementTree.SubElement(
            suite,
            "testcase",
            {
                "classname": f"auditkit.{finding.policy_id}",
                "name": f"{finding.rule_id}: {finding.title}",
            },
        )
        if finding.status == "fail":
            failure = ElementTree.SubElement(
                case, "failure", {"message": finding.message, "type": finding.severity}
            )
            failure.text = (
                "\n".join(f"{g.label()}: {g.observed}" for g in finding.failing_groups)
                or finding.message
            )
        elif finding.status == "error":
            ElementTree.SubElement(
                case, "error", {"message": finding.message, "type": "evaluation-error"}
            )
        elif finding.status == "waived" and finding.waiver is not None:
            ElementTree.SubElement(
                case,
                "skipped",
                {
                    "message": f"waived by {finding.waiver.id} until {finding.waiver.expires}: {finding.waiver.justification}"
                },
            )
        elif finding.status == "not_applicable":
            ElementTree.SubElement(case, "skipped", {"message": finding.message})
        elif finding.status in ("inconclusive", "reported"):
            output = ElementTree.SubElement(case, "system-out")
            output.text = f"{finding.status}: {finding.message}"
    root = ElementTree.Element("testsuites", {"name": "auditkit check"})
    root.append(suite)
    ElementTree.indent(root)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        + ElementTree.tostring(root, encoding="unicode")
        + "\n"
    )
