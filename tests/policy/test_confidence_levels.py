"""Each rule judges with intervals at its own confidence level, also when rules of one run differ."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from statsmodels.stats.proportion import proportion_confint

from tests.policy.test_label_free_check import (
    PASS_MARK,
    RICCI,
    SHARED_DATA,
    by_id,
    check_json,
    write_project,
)

pytestmark = pytest.mark.skipif(
    not SHARED_DATA.is_dir(), reason=f"real datasets not available: {SHARED_DATA} is not a folder"
)


LEVELS = {"LOW": 0.6, "HIGH": 0.999}


def selection_rule(rule_id: str, confidence: float) -> dict[str, Any]:
    return {
        "id": rule_id,
        "title": f"Pass rate at least 0.3, judged at {confidence:.1%}",
        "kind": "threshold",
        "metric": "selection_rate",
        "by": ["Race"],
        "op": ">=",
        "value": 0.3,
        "confidence": confidence,
    }


def test_rules_of_one_run_get_intervals_at_their_own_confidence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = {
        "apiVersion": "auditkit/v1",
        "kind": "Policy",
        "metadata": {"id": "levels", "title": "Two confidence levels"},
        "defaults": {"min_group_size": 5, "decision": "confident"},
        "rules": [selection_rule(rule_id, level) for rule_id, level in LEVELS.items()],
    }
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(policy, sort_keys=False))
    _code, document = check_json(write_project(tmp_path, [str(path)]), capsys)
    frame = pd.read_csv(RICCI)
    passed = (frame["Combine"] >= PASS_MARK).groupby(frame["Race"]).agg(["sum", "size"])
    rules = by_id(document)
    for rule_id, level in LEVELS.items():
        for group in rules[rule_id]["groups"]:
            count, n = passed.loc[group["group"]["Race"]]
            low, high = proportion_confint(count, n, alpha=1 - level, method="wilson")
            assert group["interval"] == pytest.approx([low, high], rel=1e-9), (rule_id, group)


def test_a_pack_override_of_one_rule_s_confidence_leaves_the_others_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def run(overrides: dict[str, Any]) -> dict[str, Any]:
        policy = {
            "apiVersion": "auditkit/v1",
            "kind": "Policy",
            "metadata": {"id": "ricci-four-fifths", "title": "Four-fifths"},
            "extends": [{"policy": "builtin:eeoc-four-fifths", "overrides": overrides}],
        }
        path = tmp_path / "policy.yaml"
        path.write_text(yaml.safe_dump(policy, sort_keys=False))
        _code, document = check_json(write_project(tmp_path, [str(path)]), capsys)
        rule = by_id(document)["EEOC-4-5"]
        return {g["group"]["Race"]: (g["status"], g.get("interval")) for g in rule["groups"]}

    judged = {"min_group_size": 15, "decision": "confident"}
    wide = run({"EEOC-4-5": {**judged, "confidence": 0.999}})
    narrow = run({"EEOC-4-5": {**judged, "confidence": 0.6}})
    assert wide != narrow  # the level changes the intervals the rule judges with
    for race in wide:
        low_wide, high_wide = wide[race][1]
        low_narrow, high_narrow = narrow[race][1]
        assert low_wide <= low_narrow and high_narrow <= high_wide
    # Another rule's confidence (the group-size rule uses no interval) changes nothing here.
    other = run(
        {"EEOC-4-5": {**judged, "confidence": 0.999}, "EEOC-GROUP-SIZE": {"confidence": 0.6}}
    )
    assert other == wide
