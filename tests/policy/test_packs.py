"""The built-in packs, the disclosure kind, advisory enforcement and `auditkit policy test`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from auditkit.cli.main import main
from auditkit.errors import ExitCode
from auditkit.policy.findings import Finding, overall_status
from auditkit.policy.loader import PolicyError, builtin_names, load_policies, load_policy
from tests.shared_datasets import copy_sample_project

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_data"
PACKS = (
    "baseline",
    "eeoc-four-fifths",
    "eu-ai-act-high-risk",
    "nyc-ll144",
    "reg-b-adverse-action",
    "us-bank-mrm",
)


def test_every_pack_loads_and_every_rule_cites_a_clause_with_remediation() -> None:
    assert set(PACKS) <= set(builtin_names())
    for name in PACKS:
        for rule in load_policy(f"builtin:{name}").rules:
            assert rule.spec.references, rule.id
            assert all(reference.clause for reference in rule.spec.references), rule.id
            assert rule.spec.remediation, rule.id


def test_rule_ids_are_unique_across_packs_and_the_sample_policy() -> None:
    references = [f"builtin:{name}" for name in PACKS] + [
        str(SAMPLE / "policies" / "baseline.yaml")
    ]
    policies = load_policies(references)
    ids = [rule.id for policy in policies for rule in policy.rules]
    assert len(ids) == len(set(ids))
    assert {policy.id for policy in policies} >= {"baseline", "credit-baseline"}


@pytest.mark.parametrize("folder", [ROOT / "policies", SAMPLE / "policies"])
def test_policy_test_passes_and_covers_every_rule(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["policy", "test", str(folder)])
    out = capsys.readouterr().out
    assert code == ExitCode.OK, out
    assert "FAIL" not in out and "rules without a case" not in out
    assert " 0 failed" in out


def write_case(folder: Path, text: str, name: str = "pack.test.yaml") -> Path:
    path = folder / name
    path.write_text(text)
    return path


CASE = """\
policy: builtin:eeoc-four-fifths
columns: {label: y, prediction: p, sensitive: [sex]}
cases:
  - name: women selected at half the rate of men
    rows:
      - {sex: F, p: 1, y: 1, _repeat: 20}
      - {sex: F, p: 0, y: 0, _repeat: 20}
      - {sex: M, p: 1, y: 1, _repeat: 40}
    expect:
      EEOC-4-5: %s
"""


def test_a_wrong_expectation_fails_with_expected_and_got(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_case(tmp_path, CASE % "pass")
    assert main(["policy", "test", str(tmp_path)]) == ExitCode.VIOLATIONS
    out = capsys.readouterr().out
    assert "FAIL" in out and "EEOC-4-5: expected pass, got fail" in out
    assert "1 cases, 1 expectations: 0 ok, 1 failed" in out
    assert "eeoc-four-fifths" in out and "EEOC-GROUP-SIZE" in out.split("rules without a case:")[1]


def test_observed_values_and_groups_are_compared(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_case(tmp_path, CASE % "{status: fail, observed: 0.5, groups: {sex=F: fail, sex=M: pass}}")
    assert main(["policy", "test", str(tmp_path)]) == ExitCode.OK, capsys.readouterr().out
    write_case(tmp_path, CASE % "{status: fail, observed: 0.6, groups: {sex=W: fail}}")
    assert main(["policy", "test", str(tmp_path)]) == ExitCode.VIOLATIONS
    out = capsys.readouterr().out
    assert "observed: expected 0.6, got 0.5" in out and "no group 'sex=W'" in out


def test_malformed_case_files_exit_2_with_positions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_case(tmp_path, (CASE % "fail").replace("    rows:", "    colour: red\n    rows:"))
    assert main(["policy", "test", str(tmp_path)]) == ExitCode.ERROR
    assert capsys.readouterr().err == f"{path}:5:5: unknown key 'colour'; did you mean 'columns'?\n"
    write_case(
        tmp_path,
        (CASE % "fial")
        + "  - name: typo\n    rows: [{sex: F, p: 1, y: 1}]\n"
        + "    expect: {EEOC-45: pass, EEOC-4-5: {status: fail, observd: 1}}\n",
    )
    assert main(["policy", "test", str(tmp_path)]) == ExitCode.ERROR
    assert capsys.readouterr().err.splitlines() == [
        f"{path}:10:17: expect EEOC-4-5: unknown outcome 'fial'; did you mean 'fail'? "
        "(outcomes: pass, fail, inconclusive, waived, error, not_applicable, reported)",
        f"{path}:13:14: case 'typo': policy eeoc-four-fifths has no rule 'EEOC-45'; did you mean 'EEOC-4-5'?",
    ]
    write_case(tmp_path, (CASE % "{status: fail, observd: 1}"))
    assert main(["policy", "test", str(tmp_path)]) == ExitCode.ERROR
    assert (
        f"{path}:10:32: expect EEOC-4-5: unknown key 'observd'; did you mean 'observed'?"
        in capsys.readouterr().err
    )
    write_case(tmp_path, (CASE % "fail").replace("builtin:eeoc-four-fifths", "builtin:eeoc"))
    assert main(["policy", "test", str(tmp_path)]) == ExitCode.ERROR
    assert f"{path}:1:9: unknown built-in policy 'builtin:eeoc'" in capsys.readouterr().err


def test_case_data_that_does_not_fit_its_roles_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_case(tmp_path, (CASE % "fail").replace("label: y", "label: outcome"))
    assert main(["policy", "test", str(tmp_path)]) == ExitCode.ERROR
    err = capsys.readouterr().err
    assert f"{path}:4:11: case 'women selected at half the rate of men':" in err
    assert "label column 'outcome' not found" in err


def test_the_exclusion_of_small_categories_needs_a_justification(tmp_path: Path) -> None:
    path = tmp_path / "ll144.yaml"
    path.write_text(
        "apiVersion: auditkit/v1\nkind: Policy\nmetadata: {id: ll144, title: t}\nextends:\n"
        "  - policy: builtin:nyc-ll144\n    overrides:\n      LL144-SELECTION:\n"
        "        exclude_small_categories: {below_share: 0.02}\n"
        "      LL144-UNKNOWN:\n        exclude_small_categories: {below_share: 0.05, justification: too few people in it}\n"
    )
    with pytest.raises(PolicyError) as caught:
        load_policy(str(path))
    lines = str(caught.value).splitlines()
    assert lines[0].startswith(
        f"{path}:8:35: extends.0.overrides.LL144-SELECTION.exclude_small_categories:"
    )
    assert "needs a written justification (6 RCNY 5-301(d))" in lines[0]
    assert lines[1] == (
        f"{path}:10:49: extends.0.overrides.LL144-UNKNOWN.exclude_small_categories.below_share: "
        "Input should be less than or equal to 0.02"
    )


def finding(status: str, enforcement: str, severity: str = "high") -> Finding:
    return Finding(
        rule_id="R",
        title="t",
        kind="parity",
        severity=severity,
        status=status,  # type: ignore[arg-type]
        message="m",
        policy_id="p",
        enforcement=enforcement,  # type: ignore[arg-type]
    )


def test_advisory_failures_are_reported_but_never_decide_the_run() -> None:
    assert overall_status((finding("fail", "advisory", "critical"),)) == "pass"
    assert overall_status((finding("inconclusive", "advisory"),)) == "pass"
    assert (
        overall_status((finding("fail", "advisory"), finding("fail", "soft-mandatory"))) == "fail"
    )
    assert overall_status((finding("error", "advisory"),)) == "error", "never a silent pass"
    assert overall_status((finding("reported", "soft-mandatory"),)) == "pass"


@pytest.fixture()
def sample_project(tmp_path: Path) -> Path:
    return copy_sample_project(tmp_path)


def test_ll144_reports_figures_and_an_advisory_four_fifths_judges_them(
    sample_project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = tmp_path / "ll144.yaml"
    policy.write_text(
        "apiVersion: auditkit/v1\nkind: Policy\nmetadata: {id: ll144-audit, title: t}\nextends:\n"
        "  - builtin:nyc-ll144\n  - {policy: builtin:eeoc-four-fifths, enforcement: advisory}\n"
    )
    args = ["check", "-c", str(sample_project), "--sensitive", "sex", "--sensitive", "race"]
    code = main([*args, "--policy", str(policy), "--format", "json"])
    document = json.loads(capsys.readouterr().out)
    assert code == ExitCode.OK and document["status"] == "pass"
    rules = {rule["id"]: rule for rule in document["rules"]}
    assert rules["EEOC-4-5"]["status"] == "fail" and rules["EEOC-4-5"]["enforcement"] == "advisory"
    selection = rules["LL144-SELECTION"]
    assert selection["status"] == "reported" and selection["threshold"] is None
    black = next(g for g in selection["groups"] if g["group"] == {"race": "Black"})
    four_fifths = next(g for g in rules["EEOC-4-5"]["groups"] if g["group"] == {"race": "Black"})
    assert black["figures"]["impact_ratio"] == pytest.approx(four_fifths["observed"], rel=1e-12)
    assert document["summary"]["reported"] == 3
    assert main([*args, "--policy", str(policy), "--format", "junit"]) == ExitCode.OK
    assert (
        "reported: selection rate and impact ratio reported for 2 sex, 6 race"
        in capsys.readouterr().out
    )
