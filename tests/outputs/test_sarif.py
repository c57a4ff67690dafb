"""SARIF 2.1.0: valid against the official schema, and what GitHub code scanning needs of it."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from auditkit.cli.main import main
from auditkit.errors import ExitCode
from auditkit.outputs.sarif import finding_fingerprint, render_log, sarif_log
from auditkit.policy.findings import GroupOutcome
from tests.outputs import fixed_result as fixed
from tests.outputs.conftest import SCHEMA, SCHEMA_SHA256

REPORTED = {"fail", "error", "inconclusive", "waived"}


def errors_of(validator: Any, log: dict[str, Any]) -> list[str]:
    return [f"{list(error.path)}: {error.message}" for error in validator.iter_errors(log)]


def fixed_log() -> dict[str, Any]:
    # Through the text form, as a consumer reads it.
    return json.loads(render_log(sarif_log(fixed.fixed_result(), base=fixed.BASE)))


def results_by_rule(log: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {result["ruleId"]: result for result in log["runs"][0]["results"]}


def test_every_outcome_validates_against_the_official_schema(sarif_validator: Any) -> None:
    log = fixed_log()
    assert errors_of(sarif_validator, log) == []
    assert log["version"] == "2.1.0" and log["$schema"].endswith("sarif-schema-2.1.0.json")


def test_the_schema_shipped_is_the_official_one_and_rejects_a_broken_log(
    sarif_validator: Any,
) -> None:
    assert hashlib.sha256(SCHEMA.read_bytes()).hexdigest() == SCHEMA_SHA256
    assert sarif_validator.schema["id"].startswith(
        "https://docs.oasis-open.org/sarif/sarif/v2.1.0/"
    )
    log = fixed_log()
    log["runs"][0]["results"][0]["level"] = "critical"
    del log["runs"][0]["tool"]["driver"]["name"]
    assert len(errors_of(sarif_validator, log)) == 2


def test_rules_describe_every_evaluated_rule_and_results_only_what_needs_attention() -> None:
    result = fixed.fixed_result()
    run = fixed_log()["runs"][0]
    rule_ids = [rule["id"] for rule in run["tool"]["driver"]["rules"]]
    assert rule_ids == [finding.rule_id for finding in result.findings]
    reported = [f.rule_id for f in result.findings if f.status in REPORTED]
    assert [r["ruleId"] for r in run["results"]] == reported
    assert "PERF-001" not in reported and "EXPL-001" not in reported
    for entry in run["results"]:
        assert rule_ids[entry["ruleIndex"]] == entry["ruleId"]


def test_rule_descriptors_carry_title_help_and_properties() -> None:
    rules = {rule["id"]: rule for rule in fixed_log()["runs"][0]["tool"]["driver"]["rules"]}
    fairness = rules["FAIR-001"]
    assert fairness["shortDescription"]["text"] == fixed.failing().title
    assert "selection_rate >= 0.8" in fairness["fullDescription"]["text"]
    assert "Find the proxy <feature> & retrain" in fairness["help"]["text"]
    assert "EEOC UGESP 29 CFR 1607.4(D)" in fairness["help"]["text"]
    assert f"]({fixed.EEOC.url})" in fairness["help"]["markdown"]
    assert fairness["properties"] | {"tags": None} == {
        "kind": "parity",
        "severity": "critical",
        "policy": "credit-baseline",
        "enforcement": "soft-mandatory",
        "metric": "selection_rate",
        "tags": None,
    }
    assert set(fairness["properties"]["tags"]) >= {"fairness", "parity", "EEOC UGESP"}
    assert all(" " not in rule["name"] for rule in rules.values())


@pytest.mark.parametrize(
    ("rule_id", "expected"),
    [
        ("FAIR-001", "error"),  # fail, critical
        ("DQ-001", "note"),  # fail, low
        ("EEOC-4-5", "warning"),  # inconclusive, high
        ("DRIFT-001", "warning"),  # waived medium: the level it would have had
        ("SQL-001", "error"),  # could not be evaluated
    ],
)
def test_levels_follow_outcome_and_severity(rule_id: str, expected: str) -> None:
    assert results_by_rule(fixed_log())[rule_id]["level"] == expected


def test_levels_are_those_code_scanning_accepts() -> None:
    levels = {entry["level"] for entry in fixed_log()["runs"][0]["results"]}
    assert levels <= {"error", "warning", "note"}


def test_locations_point_at_the_rule_relative_to_the_working_directory() -> None:
    results = results_by_rule(fixed_log())
    inside = results["FAIR-001"]["locations"][0]["physicalLocation"]
    assert inside == {
        "artifactLocation": {"uri": "policies/baseline.yaml", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 17, "startColumn": 9},
    }
    outside = results["EEOC-4-5"]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert outside == {"uri": "file:///opt/auditkit/policies/eeoc-four-fifths.yaml"}
    # No position: the file the finding comes from, at its first line.
    fallback = results["WAIVER.INVALID"]["locations"][0]["physicalLocation"]
    assert fallback["artifactLocation"]["uri"] == "waivers.yaml"
    assert fallback["region"] == {"startLine": 1}


def test_waived_findings_are_reported_as_accepted_external_suppressions() -> None:
    results = results_by_rule(fixed_log())
    waiver = fixed.waived().waiver
    assert waiver is not None
    assert results["DRIFT-001"]["suppressions"] == [
        {
            "kind": "external",
            "status": "accepted",
            "justification": waiver.justification,
            "properties": {
                "waiver_id": "WVR-001",
                "approved_by": "jane.roe@example.com",
                "expires": "2027-01-31",
            },
        }
    ]
    assert all("suppressions" not in r for k, r in results.items() if k != "DRIFT-001")


def test_result_properties_carry_the_numbers_and_the_failing_groups() -> None:
    properties = results_by_rule(fixed_log())["FAIR-001"]["properties"]
    assert (properties["observed"], properties["threshold"], properties["op"]) == (
        0.5045,
        0.8,
        ">=",
    )
    assert [group["group"] for group in properties["failing_groups"]] == [
        {"race": "Black"},
        {"race": "Hispanic"},
    ]
    inconclusive = results_by_rule(fixed_log())["EEOC-4-5"]["properties"]["failing_groups"]
    assert [group["group"] for group in inconclusive] == [{"race": "Pacific Islander"}]


def test_message_keeps_special_characters_verbatim() -> None:
    assert results_by_rule(fixed_log())["FAIR-001"]["message"]["text"] == fixed.TRICKY


def test_fingerprints_ignore_numbers_but_follow_the_groups_at_fault() -> None:
    finding = fixed.failing()
    moved = replace(
        finding,
        observed=0.61,
        message="another message",
        source="elsewhere.yaml:99:1",
        groups=tuple(replace(group, observed=0.5, n=999) for group in finding.groups),
    )
    assert finding_fingerprint(moved) == finding_fingerprint(finding)
    fewer = replace(finding, groups=finding.groups[:2])  # Hispanic no longer fails
    assert finding_fingerprint(fewer) != finding_fingerprint(finding)
    other_rule = replace(finding, rule_id="FAIR-009")
    assert finding_fingerprint(other_rule) != finding_fingerprint(finding)
    reordered = replace(finding, groups=tuple(reversed(finding.groups)))
    assert finding_fingerprint(reordered) == finding_fingerprint(finding)


def test_fingerprints_are_unique_within_a_run() -> None:
    second = replace(fixed.unreadable_waiver(), message="waiver WVR-10: no rule")
    result = fixed.fixed_result(fixed.unreadable_waiver(), second, fixed.failing())
    fingerprints = [
        entry["partialFingerprints"]["auditkitFinding/v1"]
        for entry in sarif_log(result, base=fixed.BASE)["runs"][0]["results"]
    ]
    assert len(fingerprints) == 3 == len(set(fingerprints))


def test_invocation_and_artifacts() -> None:
    run = fixed_log()["runs"][0]
    invocation = run["invocations"][0]
    assert invocation["exitCode"] == ExitCode.ERROR and invocation["executionSuccessful"] is False
    assert invocation["startTimeUtc"] == "2026-07-01T12:00:00Z"
    assert [n["associatedRule"]["id"] for n in invocation["toolExecutionNotifications"]] == [
        "SQL-001"
    ]
    artifacts = {a["properties"]["input"]: a for a in run["artifacts"]}
    assert artifacts["current"]["location"]["uri"] == "data/current%20quarter.parquet"
    assert artifacts["current"]["hashes"] == {"sha-256": "a" * 64}
    # Three files under one fingerprint: not the hash of one artifact.
    assert "hashes" not in artifacts["reference"]
    assert artifacts["reference"]["properties"]["fingerprint_sha256"] == "b" * 64
    assert artifacts["policy credit-baseline"]["roles"] == ["policy"]
    for artifact in run["artifacts"]:
        uri = urlsplit(artifact["location"]["uri"])
        assert " " not in artifact["location"]["uri"] and uri.scheme in ("", "file")


def test_a_clean_run_is_a_successful_execution() -> None:
    log = sarif_log(fixed.fixed_result(fixed.passing()), base=fixed.BASE)
    run = log["runs"][0]
    assert run["results"] == [] and len(run["tool"]["driver"]["rules"]) == 1
    assert run["invocations"][0] == {
        "executionSuccessful": True,
        "exitCode": 0,
        "exitCodeDescription": "ok",
        "startTimeUtc": "2026-07-01T12:00:00Z",
        "endTimeUtc": "2026-07-01T12:00:07Z",
    }


def test_non_finite_numbers_become_null() -> None:
    finding = replace(
        fixed.failing(),
        observed=float("nan"),
        groups=(GroupOutcome({"race": "Black"}, "fail", float("inf"), 3),),
    )
    text = render_log(sarif_log(fixed.fixed_result(finding), base=fixed.BASE))
    properties = json.loads(text)["runs"][0]["results"][0]["properties"]
    assert properties["observed"] is None and properties["failing_groups"][0]["observed"] is None


@pytest.mark.slow
def test_sarif_of_the_sample_project_validates_and_matches_the_json(
    sample_project: Path, tmp_path: Path, sarif_validator: Any
) -> None:
    sarif_path, json_path = tmp_path / "out" / "check.sarif", tmp_path / "out" / "check.json"
    outputs = ["--format", "sarif", "--output", str(sarif_path)]
    outputs += ["--format", "json", "--output", str(json_path)]
    code = main(["check", "-c", str(sample_project), *outputs])
    assert code == ExitCode.VIOLATIONS
    log = json.loads(sarif_path.read_text(encoding="utf-8"))
    assert errors_of(sarif_validator, log) == []
    document = json.loads(json_path.read_text(encoding="utf-8"))
    rules = {rule["id"]: rule for rule in document["rules"]}
    run = log["runs"][0]
    assert [rule["id"] for rule in run["tool"]["driver"]["rules"]] == list(rules)
    assert {r["ruleId"] for r in run["results"]} == {
        rule_id for rule_id, rule in rules.items() if rule["status"] in REPORTED
    }
    for entry in run["results"]:
        path, line, column = rules[entry["ruleId"]]["source"].rsplit(":", 2)
        location = entry["locations"][0]["physicalLocation"]
        if Path(path).is_relative_to(sample_project.parent):
            expected = Path(path).relative_to(sample_project.parent).as_posix()
            assert location["artifactLocation"]["uri"] == expected
        assert location["region"] == {"startLine": int(line), "startColumn": int(column)}
    assert run["invocations"][0]["exitCode"] == code
