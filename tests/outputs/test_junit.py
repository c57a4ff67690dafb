"""JUnit XML parses, and its counts agree with the findings they come from."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest

from auditkit.check import CheckResult
from auditkit.outputs import OUTPUT_FORMATS
from auditkit.policy.findings import GroupOutcome
from tests.outputs import fixed_result as fixed


def parse(result: CheckResult) -> ElementTree.Element:
    return ElementTree.fromstring(OUTPUT_FORMATS["junit"].render(result).encode("utf-8"))


@pytest.mark.parametrize("fail_on_inconclusive", [False, True])
def test_counts_match_the_findings(fail_on_inconclusive: bool) -> None:
    result = fixed.fixed_result(fail_on_inconclusive=fail_on_inconclusive)
    statuses = Counter(finding.status for finding in result.findings)
    expected = {
        "tests": len(result.findings),
        "failures": statuses["fail"] + (statuses["inconclusive"] if fail_on_inconclusive else 0),
        "errors": statuses["error"],
        "skipped": statuses["waived"] + statuses["not_applicable"],
    }
    root = parse(result)
    suite = root.find("testsuite")
    assert suite is not None
    assert {key: int(suite.get(key, -1)) for key in expected} == expected
    # <testsuites> carries the totals the common JUnit schema allows there (no skipped count).
    assert {key: int(value) for key, value in root.attrib.items() if key != "name"} == {
        key: expected[key] for key in ("tests", "failures", "errors")
    }
    assert len(suite.findall("testcase")) == expected["tests"]
    assert len(suite.findall("testcase/failure")) == expected["failures"]
    assert len(suite.findall("testcase/error")) == expected["errors"]
    assert len(suite.findall("testcase/skipped")) == expected["skipped"]


def cases(result: CheckResult) -> dict[str, ElementTree.Element]:
    return {case.get("name", "").split(":")[0]: case for case in parse(result).iter("testcase")}


def test_each_outcome_has_its_element() -> None:
    by_rule = cases(fixed.fixed_result())
    assert list(by_rule["PERF-001"]) == []
    assert [child.tag for child in by_rule["FAIR-001"]] == ["failure"]
    assert [child.tag for child in by_rule["SQL-001"]] == ["error"]
    assert [child.tag for child in by_rule["DRIFT-001"]] == ["skipped"]
    assert [child.tag for child in by_rule["EXPL-001"]] == ["skipped"]
    assert [child.tag for child in by_rule["EEOC-4-5"]] == ["system-out"]
    skipped = by_rule["DRIFT-001"].find("skipped")
    assert skipped is not None and "WVR-001" in skipped.get("message", "")
    assert "jane.roe@example.com" in skipped.get("message", "")


def test_special_characters_round_trip() -> None:
    failure = cases(fixed.fixed_result())["FAIR-001"].find("failure")
    assert failure is not None and failure.get("message") == fixed.TRICKY
    assert failure.text is not None and failure.text.startswith(fixed.TRICKY)
    assert "Find the proxy <feature> & retrain;\nthen" in failure.text


def test_failure_text_lists_groups_and_the_gate() -> None:
    by_rule = cases(fixed.fixed_result())
    fairness = by_rule["FAIR-001"].find("failure")
    assert fairness is not None and fairness.text is not None
    assert "fail race=Black: 0.5045 (n=1060)" in fairness.text
    assert "race=White" not in fairness.text, "groups that passed are not listed"
    low = by_rule["DQ-001"].find("failure")
    assert low is not None and "below --fail-on high" in (low.text or "")


def test_control_characters_from_data_do_not_break_the_xml() -> None:
    finding = replace(
        fixed.failing(),
        message="group \x1b[31mred\x00",
        groups=(GroupOutcome({"region": "north\x07"}, "fail", 0.5, 40),),
    )
    failure = cases(fixed.fixed_result(finding))["FAIR-001"].find("failure")
    assert failure is not None and failure.get("message") == "group \ufffd[31mred\ufffd"


JUNIT_SCHEMA = Path(__file__).resolve().parents[1] / "data" / "junit-10.xsd"
"""The JUnit XML schema of Jenkins and Maven Surefire (Gregory Boissinot, MIT licence) that pytest
validates its own ``--junitxml`` output against (``testing/example_scripts/junit-10.xsd`` in pytest's
source distribution), unchanged."""


@pytest.mark.parametrize("fail_on_inconclusive", [False, True])
def test_output_is_valid_against_the_common_junit_schema(fail_on_inconclusive: bool) -> None:
    etree = pytest.importorskip("lxml.etree")
    schema = etree.XMLSchema(etree.parse(str(JUNIT_SCHEMA)))
    rendered = OUTPUT_FORMATS["junit"].render(
        fixed.fixed_result(fail_on_inconclusive=fail_on_inconclusive)
    )
    document = etree.fromstring(rendered.encode("utf-8"))
    assert schema.validate(document), [str(error) for error in schema.error_log]
