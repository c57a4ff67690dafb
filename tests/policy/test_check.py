"""`auditkit check` on the sample project: findings, waivers, exit codes and every output format."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

from auditkit.cli.main import main
from auditkit.errors import ExitCode
from tests.shared_datasets import copy_sample_project

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    """A copy of the sample project whose waivers file the test can write."""
    return copy_sample_project(tmp_path)


def check_json(project: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    code = main(["check", "-c", str(project), "--format", "json", *args])
    return code, json.loads(capsys.readouterr().out)


def by_id(document: dict) -> dict:  # type: ignore[type-arg]
    return {rule["id"]: rule for rule in document["rules"]}


def test_sample_audit_finds_the_disparity_and_the_drift(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, document = check_json(project, capsys)
    assert code == ExitCode.VIOLATIONS and document["status"] == "fail"
    rules = by_id(document)
    assert rules["FAIR-001"]["status"] == "fail" and rules["FAIR-001"]["severity"] == "critical"
    black = next(g for g in rules["FAIR-001"]["groups"] if g["group"] == {"race": "Black"})
    assert black["status"] == "fail" and black["observed"] < 0.8
    assert rules["DRIFT-001"]["status"] == "fail"
    assert {
        g["group"]["column"] for g in rules["DRIFT-001"]["groups"] if g["status"] == "fail"
    } == {"income", "purpose"}
    assert rules["PERF-001"]["status"] == "pass" and rules["PERF-001"]["observed"] >= 0.75
    assert rules["SQL-001"]["status"] == "pass" and rules["DQ-001"]["status"] == "pass"
    # The model does not take sex or race as inputs.
    assert rules["EXPL-001"]["status"] == "pass"
    assert {g["group"]["feature"] for g in rules["EXPL-001"]["groups"]} == {"sex", "race"}
    assert rules["EEOC-4-5"]["references"][0]["clause"] == "29 CFR 1607.4(D)"
    assert document["summary"] == {
        "rules": 9,
        "pass": 5,
        "fail": 4,
        "inconclusive": 0,
        "waived": 0,
        "error": 0,
        "not_applicable": 0,
        "reported": 0,
    }
    assert (
        len(document["inputs"]["current"]["sha256"]) == 64
        and document["inputs"]["model"]["format"] == "skops"
    )


def write_waivers(project: Path, rules: list[str], expires: str) -> None:
    entries = "".join(
        f"  - id: WVR-{i}\n    rule: {rule}\n    scope: {{model: credit-risk}}\n"
        f"    justification: Reviewed by the model-risk committee (MRC-2026-114).\n"
        f"    approved_by: jane.roe@example.com\n    expires: {expires}\n"
        for i, rule in enumerate(rules)
    )
    (project.parent / "waivers.yaml").write_text("waivers:\n" + entries)
    text = project.read_text()
    if "waivers:" not in text:
        project.write_text(text + "waivers: waivers.yaml\n")


def test_waivers_turn_failures_into_waived_and_exit_zero(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_waivers(project, ["EEOC-4-5", "FAIR-001", "FAIR-002", "DRIFT-001"], "2099-12-31")
    code, document = check_json(project, capsys)
    assert code == ExitCode.OK, document["summary"]
    assert document["summary"]["waived"] == 4 and document["summary"]["fail"] == 0
    waived = by_id(document)["FAIR-001"]
    assert (
        waived["status"] == "waived" and waived["waiver"]["approved_by"] == "jane.roe@example.com"
    )


def test_an_expired_waiver_is_itself_a_failure(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_waivers(project, ["EEOC-4-5", "FAIR-001", "FAIR-002", "DRIFT-001"], "2020-01-31")
    code, document = check_json(project, capsys)
    assert code == ExitCode.VIOLATIONS
    rules = by_id(document)
    assert rules["FAIR-001"]["status"] == "fail", "an expired waiver waives nothing"
    assert (
        rules["WAIVER.WVR-1"]["status"] == "fail"
        and "expired on 2020-01-31" in rules["WAIVER.WVR-1"]["message"]
    )


def test_fail_on_and_fail_on_inconclusive(
    project: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    policy = tmp_path / "small.yaml"
    policy.write_text(
        "apiVersion: auditkit/v1\nkind: Policy\nmetadata: {id: small, title: Small groups}\n"
        "defaults: {min_group_size: 100}\n"
        "rules:\n  - id: S-1\n    title: Native American approvals\n    kind: parity\n    metric: selection_rate\n"
        "    by: [race]\n    aggregate: ratio_to_max\n    op: '>='\n    value: 0.5\n    severity: low\n"
    )
    code, document = check_json(project, capsys, "--policy", str(policy))
    assert document["status"] == "inconclusive" and code == ExitCode.OK
    native = next(
        g for g in document["rules"][0]["groups"] if g["group"] == {"race": "Native American"}
    )
    assert native["status"] == "inconclusive" and "minimum group size 100" in native["reason"]
    code, _ = check_json(project, capsys, "--policy", str(policy), "--fail-on-inconclusive")
    assert code == ExitCode.INCONCLUSIVE


def test_low_severity_failures_pass_the_default_gate(
    project: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    policy = tmp_path / "low.yaml"
    policy.write_text(
        "apiVersion: auditkit/v1\nkind: Policy\nmetadata: {id: low, title: Low}\nrules:\n"
        "  - {id: L-1, title: Income never missing, kind: data_quality, check: missing_rate, columns: [income],"
        " op: '==', value: 0, severity: low}\n"
    )
    code, document = check_json(project, capsys, "--policy", str(policy))
    assert document["rules"][0]["status"] == "fail" and code == ExitCode.OK
    code, _ = check_json(project, capsys, "--policy", str(policy), "--fail-on", "low")
    assert code == ExitCode.VIOLATIONS


def test_all_formats_in_one_run(
    project: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(project.parent)  # annotations name files relative to the working directory
    out = tmp_path / "out"
    args = ["check", "-c", str(project)]
    for name in ("json", "junit", "sarif", "markdown", "github", "text"):
        args += ["--format", name, "--output", str(out / f"result.{name}")]
    assert main(args) == ExitCode.VIOLATIONS
    assert json.loads((out / "result.json").read_text())["status"] == "fail"
    suite = ElementTree.parse(out / "result.junit").getroot().find("testsuite")
    assert suite is not None and suite.get("tests") == "9" and suite.get("failures") == "4"
    assert (
        len(suite.findall("testcase/failure")) == 4 and len(suite.findall("testcase/skipped")) == 0
    )
    markdown = (out / "result.markdown").read_text()
    assert markdown.startswith("### auditkit check: ❌ fail") and "`FAIR-001`" in markdown
    github = (out / "result.github").read_text().splitlines()
    assert (
        github[0].startswith("::error file=policies/baseline.yaml,") and "FAIR-001" in github[0]
    ), "most severe failure first"
    assert "FAIL: 9 rules" in (out / "result.text").read_text()
    sarif = json.loads((out / "result.sarif").read_text())
    assert {result["ruleId"] for result in sarif["runs"][0]["results"]} == {
        "EEOC-4-5",
        "FAIR-001",
        "FAIR-002",
        "DRIFT-001",
    }


def test_a_rule_naming_a_missing_column_is_a_policy_error(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = tmp_path / "bad.yaml"
    policy.write_text(
        "apiVersion: auditkit/v1\nkind: Policy\nmetadata: {id: bad, title: Bad}\nrules:\n"
        "  - {id: B-1, title: By region, kind: parity, metric: selection_rate, by: [regoin], op: '>=', value: 0.8}\n"
    )
    assert main(["check", "-c", str(project), "--policy", str(policy)]) == ExitCode.ERROR
    err = capsys.readouterr().err
    assert (
        f"{policy}:5:10: rule B-1: the data has no column 'regoin'; did you mean 'region'?" in err
    )


def test_no_rows_to_audit_is_an_input_error_not_a_pass(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A header-only export, or a filter that matches nothing, must not pass the CI gate."""
    header_only = tmp_path / "export.csv"
    header_only.write_text("race,approved,defaulted\n")
    base = ["check", "--label", "defaulted", "--prediction", "approved", "--sensitive", "race"]
    policy = ["--policy", "builtin:eeoc-four-fifths", "--no-record"]
    assert main([*base, "--data", str(header_only), *policy]) == ExitCode.ERROR
    assert capsys.readouterr().err == (
        f"auditkit: error: {header_only}: no rows: there is nothing to audit\n"
    )
    current = str(SAMPLE / "applications_2026q3.parquet")
    where = ["--where", "region = 'Atlantis'"]
    assert main([*base, "--data", current, *where, *policy]) == ExitCode.ERROR
    assert "no rows match \"region = 'Atlantis'\"" in capsys.readouterr().err


def test_a_drift_rule_without_reference_data_is_not_applicable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "apiVersion: auditkit/v1\nkind: Policy\nmetadata: {id: p, title: P, version: 1.0.0}\n"
        "rules:\n"
        '  - {id: D1, title: t, kind: drift, statistic: psi, op: "<=", value: 0.25, severity: critical}\n'
    )
    code = main(
        [
            "check", "--data", str(SAMPLE / "applications_2026q3.parquet"), "--label", "defaulted",
            "--prediction", "approved", "--sensitive", "race", "--policy", str(policy),
            "--format", "json", "--no-record", "--fail-on", "critical",
        ]
    )  # fmt: skip
    (rule,) = json.loads(capsys.readouterr().out)["rules"]
    assert code == ExitCode.OK
    assert rule["status"] == "not_applicable" and "no reference dataset" in rule["message"]


def test_a_rules_yardstick_does_not_depend_on_the_other_rules(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The four-fifths rule (groups of 30+) divides by the highest group of 30+ rows, also beside
    NYC LL144's impact ratios (groups of 1+), which divide by the highest group of all."""
    data = tmp_path / "d.csv"
    rows = [("A", 1)] * 50 + [("A", 0)] * 50 + [("B", 1)] * 45 + [("B", 0)] * 55 + [("C", 1)] * 5
    data.write_text("grp,pred,y\n" + "".join(f"{g},{p},{p}\n" for g, p in rows))
    base = ["check", "--data", str(data), "--label", "y", "--prediction", "pred"]
    base += ["--sensitive", "grp", "--no-record", "--format", "json"]
    ratios = {}
    for packs in (["builtin:eeoc-four-fifths"], ["builtin:eeoc-four-fifths", "builtin:nyc-ll144"]):
        main([*base, *(argument for pack in packs for argument in ("--policy", pack))])
        rules = by_id(json.loads(capsys.readouterr().out))
        groups = {tuple(g["group"].values()): g for g in rules["EEOC-4-5"]["groups"]}
        ratios[len(packs)] = (groups[("A",)]["observed"], groups[("B",)]["observed"])
        assert groups[("B",)]["status"] == "pass" and groups[("C",)]["status"] == "inconclusive"
        assert rules["EEOC-4-5"]["status"] == "inconclusive"  # C is too small to decide, not failed
    assert ratios[1] == ratios[2] == (1.0, pytest.approx(0.9))
