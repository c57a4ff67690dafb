"""`auditkit check` and `auditkit metrics` on data without observed outcomes: the Ricci v. DeStefano
promotion exams (a pass when the combined score is at least 70), audited as NYC LL144 and EEOC
four-fifths analyses. Expected figures are computed here with pandas from the CSV."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from auditkit.cli.main import main
from auditkit.errors import ExitCode
from auditkit.metrics.registry import METRICS, NO_LABEL_REASON
from tests.shared_datasets import SHARED_DATA

pytestmark = pytest.mark.skipif(
    not SHARED_DATA.is_dir(), reason=f"real datasets not available: {SHARED_DATA} is not a folder"
)


RICCI = SHARED_DATA / "fc_ricci.csv"
PASS_MARK = 70
FOUR_FIFTHS = 0.8


def ricci_rates(where: str | None = None) -> pd.DataFrame:
    """Per race: applicants, pass rate, and impact ratio (rate over the highest race's rate)."""
    frame = pd.read_csv(RICCI)
    if where is not None:
        frame = frame[frame["Position"] == where]
    frame["passed"] = frame["Combine"] >= PASS_MARK
    rates = frame.groupby("Race")["passed"].agg(n="size", rate="mean")
    rates["impact_ratio"] = rates["rate"] / rates["rate"].max()
    return rates


def write_project(folder: Path, policies: list[str], position: str | None = None) -> Path:
    project: dict[str, Any] = {
        "data": {"current": str(RICCI)},
        "columns": {"score": "Combine", "threshold": PASS_MARK, "sensitive": ["Race"]},
        "policies": policies,
        "store": str(folder / "audit.duckdb"),
    }
    if position is not None:
        project["data"]["where"] = f"Position = '{position}'"
    path = folder / "auditkit.yaml"
    path.write_text(yaml.safe_dump(project))
    return path


def write_policy(folder: Path, rules: list[dict[str, Any]], min_group_size: int = 30) -> str:
    policy = {
        "apiVersion": "auditkit/v1",
        "kind": "Policy",
        "metadata": {"id": "ricci", "title": "Promotion exam"},
        "defaults": {"min_group_size": min_group_size},
        "rules": rules,
    }
    path = folder / "policy.yaml"
    path.write_text(yaml.safe_dump(policy, sort_keys=False))
    return str(path)


def check_json(project: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    code = main(["check", "-c", str(project), "--format", "json"])
    return code, json.loads(capsys.readouterr().out)


def by_id(document: dict[str, Any]) -> dict[str, Any]:
    return {rule["id"]: rule for rule in document["rules"]}


def four_fifths(severity: str = "high") -> dict[str, Any]:
    return {
        "id": "FOUR-FIFTHS",
        "title": "Pass rates meet the four-fifths rule",
        "kind": "parity",
        "metric": "selection_rate",
        "by": ["Race"],
        "aggregate": "ratio_to_max",
        "op": ">=",
        "value": FOUR_FIFTHS,
        "severity": severity,
    }


def test_builtin_ll144_and_four_fifths_packs_run_without_a_label(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = write_project(tmp_path, ["builtin:nyc-ll144", "builtin:eeoc-four-fifths"])
    code, document = check_json(project, capsys)
    rules = by_id(document)
    expected = ricci_rates()
    selection = {g["group"]["Race"]: g for g in rules["LL144-SELECTION"]["groups"]}
    assert rules["LL144-SELECTION"]["status"] == "reported"
    assert set(selection) == set(expected.index)
    for race, group in selection.items():
        assert group["n"] == expected.loc[race, "n"]
        assert group["figures"]["selection_rate"] == pytest.approx(expected.loc[race, "rate"])
        assert group["figures"]["impact_ratio"] == pytest.approx(expected.loc[race, "impact_ratio"])
    # The data has a score: the scoring-rate disclosure is reported too, not "not applicable".
    assert rules["LL144-SCORING"]["status"] == "reported"
    # The four-fifths pack judges groups of at least 30; smaller ones are inconclusive, not passed.
    eeoc = {g["group"]["Race"]: g for g in rules["EEOC-4-5"]["groups"]}
    for race, group in eeoc.items():
        assert group["observed"] == pytest.approx(expected.loc[race, "impact_ratio"])
        if expected.loc[race, "n"] < 30:
            assert group["status"] == "inconclusive"
        else:
            below = expected.loc[race, "impact_ratio"] < FOUR_FIFTHS
            assert group["status"] == ("fail" if below else "pass")
    smallest = int(expected["n"].min())
    assert rules["EEOC-GROUP-SIZE"]["observed"] == smallest
    assert rules["EEOC-GROUP-SIZE"]["status"] == ("fail" if smallest < 30 else "pass")
    # Only the low-severity group-size rule can fail here: below --fail-on high, so exit 0.
    assert code == ExitCode.OK
    assert all(rule["status"] != "error" for rule in document["rules"])


@pytest.mark.parametrize("position", [None, "Lieutenant", "Captain"])
def test_four_fifths_fails_exactly_the_groups_pandas_puts_below_four_fifths(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], position: str | None
) -> None:
    minimum = 15
    policy = write_policy(tmp_path, [four_fifths()], min_group_size=minimum)
    code, document = check_json(write_project(tmp_path, [policy], position), capsys)
    expected = ricci_rates(position)
    judged = expected[expected["n"] >= minimum]
    failing = set(judged.index[judged["impact_ratio"] < FOUR_FIFTHS])
    groups = {g["group"]["Race"]: g for g in by_id(document)["FOUR-FIFTHS"]["groups"]}
    assert {race for race, g in groups.items() if g["status"] == "fail"} == failing
    for race, group in groups.items():
        assert group["observed"] == pytest.approx(expected.loc[race, "impact_ratio"])
    assert code == (ExitCode.VIOLATIONS if failing else ExitCode.OK)


def outcome_rules() -> list[dict[str, Any]]:
    common = {"op": ">=", "value": 0.5, "severity": "high"}
    return [
        {"id": "ACC", "title": "Accurate", "kind": "threshold", "metric": "accuracy", **common},
        {
            "id": "FPR",
            "title": "Error rates alike",
            "kind": "parity",
            "metric": "fpr",
            "by": ["Race"],
            "aggregate": "max_min_difference",
            **common,
        },
        {
            "id": "EODDS",
            "title": "Equalized odds",
            "kind": "threshold",
            "metric": "equalized_odds_difference",
            "by": ["Race"],
            **common,
        },
        {
            "id": "TPR-DISCLOSED",
            "title": "True positive rates disclosed",
            "kind": "disclosure",
            "metrics": ["tpr"],
            "by": ["Race"],
            "severity": "info",
        },
        {
            "id": "PARITY",
            "title": "Demographic parity ratio",
            "kind": "threshold",
            "metric": "demographic_parity_ratio",
            "by": ["Race"],
            **common,
        },
    ]


def test_rules_that_need_outcomes_are_errors_naming_the_metric(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = write_policy(tmp_path, [*outcome_rules(), four_fifths()], min_group_size=1)
    code, document = check_json(write_project(tmp_path, [policy]), capsys)
    rules = by_id(document)
    for rule_id, metric in [
        ("ACC", "accuracy"),
        ("FPR", "fpr"),
        ("EODDS", "equalized_odds_difference"),
        ("TPR-DISCLOSED", "tpr"),
    ]:
        assert rules[rule_id]["status"] == "error"
        assert metric in rules[rule_id]["message"]
        assert "no label column" in rules[rule_id]["message"]
    # Rules on label-free metrics are judged as usual, on the figures pandas gives.
    expected = ricci_rates()
    parity = rules["PARITY"]
    assert parity["observed"] == pytest.approx(expected["rate"].min() / expected["rate"].max())
    assert parity["status"] == ("pass" if parity["observed"] >= 0.5 else "fail")
    failing = set(expected.index[expected["impact_ratio"] < FOUR_FIFTHS])
    groups = rules["FOUR-FIFTHS"]["groups"]
    assert {g["group"]["Race"] for g in groups if g["status"] == "fail"} == failing
    # A policy that could not be evaluated never exits 0.
    assert document["status"] == "error" and code == ExitCode.ERROR


def test_metrics_command_without_a_label(capsys: pytest.CaptureFixture[str]) -> None:
    arguments = ["metrics", "--data", str(RICCI), "--score", "Combine", "--threshold", "70"]
    assert main([*arguments, "--by", "Race", "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    expected = ricci_rates()
    applicable = [key for key, m in METRICS.items() if m.family != "regression"]
    for entry in [document["overall"], *document["groups"]]:
        assert set(applicable) <= set(entry)  # every key present, as with a label
        for key in applicable:
            if METRICS[key].needs_label:
                assert entry[key] is None and entry["reasons"][key] == NO_LABEL_REASON
    for group in document["groups"]:
        race = group["group"]["Race"]
        assert group["n"] == expected.loc[race, "n"]
        assert group["selection_rate"] == pytest.approx(expected.loc[race, "rate"])
        ratio = group["disparity"]["selection_rate"]["ratio_to_max"]
        assert ratio == pytest.approx(expected.loc[race, "impact_ratio"])

    assert main([*arguments, "--by", "Race"]) == 0
    text = capsys.readouterr().out
    assert "no label (decisions only)" in text and "no label column" in text
    header = next(line for line in text.splitlines() if line.startswith("group"))
    assert header.split() == ["group", "n", "selection_rate", "scoring_rate"]
    for race, row in expected.iterrows():
        line = next(line for line in text.splitlines() if line.split()[:1] == [race])
        assert f"{row['rate']:.4f}" in line


def test_a_pack_applied_with_a_lower_minimum_group_size_judges_the_smaller_groups(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    minimum = 15
    policy = {
        "apiVersion": "auditkit/v1",
        "kind": "Policy",
        "metadata": {"id": "ricci-four-fifths", "title": "Four-fifths, groups of 15 or more"},
        "extends": [
            {
                "policy": "builtin:eeoc-four-fifths",
                "overrides": {
                    "EEOC-4-5": {"min_group_size": minimum},
                    "EEOC-GROUP-SIZE": {"value": minimum},
                },
            }
        ],
    }
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(policy, sort_keys=False))
    code, document = check_json(write_project(tmp_path, [str(path)]), capsys)
    expected = ricci_rates()
    failing = set(expected.index[expected["impact_ratio"] < FOUR_FIFTHS])
    assert expected["n"].min() >= minimum and failing  # every race is judged, and some fail
    rules = by_id(document)
    groups = {g["group"]["Race"]: g["status"] for g in rules["EEOC-4-5"]["groups"]}
    assert {race for race, status in groups.items() if status == "fail"} == failing
    assert "inconclusive" not in groups.values()
    assert rules["EEOC-GROUP-SIZE"]["status"] == "pass"
    assert code == ExitCode.VIOLATIONS
