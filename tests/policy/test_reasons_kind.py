"""The ``reasons`` rule kind on hand-made reason codes: each check, and its edge cases (no model, no
declined row, too few, values on the threshold, a run with fewer reasons than the rule asks)."""

from __future__ import annotations

from pathlib import Path

import pytest

from auditkit.explain.attributions import ExplainerInfo
from auditkit.explain.reasons import Reason, count_patterns, row_reasons
from auditkit.explain.report import (
    ExplanationReport,
    FeatureImportance,
    ReasonCodes,
    ReasonCount,
    ReasonPattern,
    ReasonStability,
    SampleInfo,
)
from auditkit.policy.evaluator import evaluate, plan
from auditkit.policy.evidence import Evidence
from auditkit.policy.findings import Finding
from auditkit.policy.loader import Policy, PolicyError, load_policy

HEADER = "apiVersion: auditkit/v1\nkind: Policy\nmetadata: {id: reasons, title: Reasons}\n"
FEATURES = ("income", "debt_ratio", "region", "sex")


def policy(tmp_path: Path, rules: str, defaults: str = "") -> Policy:
    path = tmp_path / "policy.yaml"
    path.write_text(HEADER + defaults + "rules:\n" + rules)
    return load_policy(str(path))


def rule(check: str, extra: str = "", rule_id: str = "R1") -> str:
    return f"  - id: {rule_id}\n    title: t\n    kind: reasons\n    check: {check}\n" + "".join(
        f"    {line}\n" for line in extra.splitlines()
    )


def codes(
    patterns: dict[tuple[str, ...], int],
    *,
    k: int = 4,
    stability: ReasonStability | None = None,
) -> ReasonCodes:
    declined = sum(patterns.values())
    return ReasonCodes(
        k=k,
        declined_rows=declined,
        codes=tuple(
            ReasonCount(f"RC-{feature.upper()}", feature, "value", rows, rows / max(1, declined))
            for feature in FEATURES
            if (rows := sum(n for names, n in patterns.items() if feature in names))
        ),
        examples=(),
        stability=stability,
        decision="the dataset's decision",
        patterns=tuple(ReasonPattern(names, rows) for names, rows in patterns.items()),
    )


def report(reasons: ReasonCodes | None, features: tuple[str, ...] = FEATURES) -> ExplanationReport:
    importance = tuple(
        FeatureImportance(feature, 1.0 / (rank + 1), 0.25, -0.1, rank + 1)
        for rank, feature in enumerate(features)
    )
    return ExplanationReport(
        method=ExplainerInfo("linear", "exact linear SHAP", "LogisticRegression", "log-odds", 1e-6),
        sample=SampleInfo(2000, 2000, 8000, 0, 12, ("sex",)),
        expected_value=0.0,
        importance=importance,
        groups=(),
        group_differences=(),
        proxies=(),
        reasons=reasons,
        timings={},
    )


def judge(
    tmp_path: Path,
    rules: str,
    reasons: ReasonCodes | None,
    *,
    sensitive: tuple[str, ...] = ("sex", "race"),
    defaults: str = "",
) -> Finding:
    evidence = Evidence(sensitive=sensitive, explanations=report(reasons))
    [finding] = evaluate([policy(tmp_path, rules, defaults)], evidence)
    return finding


def test_without_a_model_every_check_is_not_applicable_and_says_why(tmp_path: Path) -> None:
    why = "the project has no model to explain (--model or model:)"
    evidence = Evidence(explanations_missing=("not_applicable", why))
    loaded = policy(
        tmp_path,
        rule("available", 'op: ">="\nvalue: 1')
        + rule("stability", 'op: ">="\nvalue: 0.9', "R2")
        + rule("forbid", "forbid: [$sensitive]", "R3"),
    )
    findings = evaluate([loaded], evidence)
    assert [(f.status, f.message) for f in findings] == [("not_applicable", why)] * 3


def test_no_declined_row_and_a_regression_model_are_not_applicable(tmp_path: Path) -> None:
    rules = rule("available", 'op: ">="\nvalue: 1')
    none_declined = judge(tmp_path, rules, codes({}))
    assert none_declined.status == "not_applicable"
    assert "no declined row in the explained sample of 2000 rows" in none_declined.message
    regression = judge(tmp_path, rules, None)
    assert regression.status == "not_applicable" and "classification" in regression.message


def test_available_counts_rows_with_at_least_top_k_adverse_reasons(tmp_path: Path) -> None:
    patterns = {
        ("income", "debt_ratio", "region"): 50,
        ("income", "debt_ratio"): 30,
        ("region",): 15,
        (): 5,
    }
    three = judge(tmp_path, rule("available", 'top_k: 3\nop: ">="\nvalue: 0.6'), codes(patterns))
    assert three.status == "fail" and three.observed == pytest.approx(50 / 100)
    assert three.threshold == 0.6 and three.op == ">="
    assert "50 of 100 declined rows (50.0%) get at least 3 adverse reasons" in three.message
    assert "fewer: 2 reasons 30 rows, 1 reason 15 rows, 0 reasons 5 rows" in three.message
    one = judge(tmp_path, rule("available", 'top_k: 1\nop: ">="\nvalue: 0.95'), codes(patterns))
    assert one.status == "pass" and one.observed == pytest.approx(95 / 100)


def test_a_share_exactly_on_the_threshold_holds(tmp_path: Path) -> None:
    # 0.6 / 0.75 is 0.7999999999999999 in binary floating point: still "at least 0.8".
    patterns = {("income",): 48, (): 12}
    finding = judge(tmp_path, rule("available", 'top_k: 1\nop: ">="\nvalue: 0.8'), codes(patterns))
    assert finding.status == "pass" and finding.observed == pytest.approx(0.8)
    strict = judge(tmp_path, rule("available", 'top_k: 1\nop: ">"\nvalue: 0.8'), codes(patterns))
    assert strict.status == "fail"


def test_too_few_declined_rows_are_inconclusive_with_the_observed_share(tmp_path: Path) -> None:
    patterns = {("income",): 9, (): 1}
    finding = judge(tmp_path, rule("available", 'top_k: 1\nop: ">="\nvalue: 1'), codes(patterns))
    assert finding.status == "inconclusive" and finding.observed == pytest.approx(0.9)
    assert "10 declined rows in the sample, fewer than the minimum group size 30" in finding.message
    smaller = judge(
        tmp_path,
        rule("available", 'top_k: 1\nop: ">="\nvalue: 1\nmin_group_size: 5'),
        codes(patterns),
    )
    assert smaller.status == "fail"


def test_confident_decisions_use_the_wilson_interval_of_the_share(tmp_path: Path) -> None:
    from auditkit.metrics.stats import wilson_interval

    patterns = {("income",): 29, (): 1}
    rules = rule("available", 'top_k: 1\nop: ">="\nvalue: 0.9')
    assert judge(tmp_path, rules, codes(patterns)).status == "pass"
    low, high = wilson_interval(29, 30, 0.95) or (0.0, 0.0)
    assert low < 0.9 < high, "the interval straddles the threshold"
    confident = judge(
        tmp_path, rules, codes(patterns), defaults="defaults: {decision: confident}\n"
    )
    assert confident.status == "inconclusive" and "straddles" in confident.message


def test_stability_judges_principal_agreement_or_top_k_overlap(tmp_path: Path) -> None:
    stable = ReasonStability(100, 1, "exact linear SHAP", 0.93, 0.81)
    reasons = codes({("income",): 100}, stability=stable)
    principal = judge(tmp_path, rule("stability", 'op: ">="\nvalue: 0.9'), reasons)
    assert principal.status == "pass" and principal.observed == 0.93
    assert "principal reason agrees for 93 of 100 declined rows" in principal.message
    overlap = judge(tmp_path, rule("stability", 'measure: top_k\nop: ">="\nvalue: 0.9'), reasons)
    assert overlap.status == "fail" and overlap.observed == 0.81
    assert "top 4 reasons overlap" in overlap.message
    few = codes({("income",): 100}, stability=ReasonStability(20, 1, "trees", 1.0, 1.0))
    assert judge(tmp_path, rule("stability", 'op: ">="\nvalue: 0.9'), few).status == (
        "inconclusive"
    )


def test_forbid_fails_on_the_share_of_rows_naming_any_listed_feature(tmp_path: Path) -> None:
    patterns = {
        ("region", "income"): 20,
        ("income", "debt_ratio", "region", "sex"): 10,
        ("income", "sex"): 10,
        ("debt_ratio",): 60,
    }
    top2 = judge(
        tmp_path, rule("forbid", "top_k: 2\nforbid: [$sensitive, region]"), codes(patterns)
    )
    # sex is a reason in the top 2 of 10 rows, region of 20; race is not a model input.
    assert top2.status == "fail" and top2.observed == pytest.approx(30 / 100)
    assert top2.threshold == 0 and top2.op == "<="
    groups = {group.label(): group for group in top2.groups}
    assert list(groups) == ["feature=sex", "feature=race", "feature=region"]
    assert groups["feature=sex"].observed == pytest.approx(0.10)
    assert groups["feature=region"].observed == pytest.approx(0.20)
    assert groups["feature=region"].status == "fail" and "as RC-REGION" in (
        groups["feature=region"].reason or ""
    )
    assert groups["feature=race"].status == "pass"
    assert groups["feature=race"].reason == "not a model input: never a reason"
    top4 = judge(tmp_path, rule("forbid", "forbid: [region, sex]"), codes(patterns))
    assert top4.observed == pytest.approx(40 / 100), "rows naming both count once"
    only_income = judge(tmp_path, rule("forbid", "top_k: 1\nforbid: [sex]"), codes(patterns))
    assert only_income.status == "pass" and only_income.observed == 0.0


def test_forbid_with_a_tolerance_and_a_message_template(tmp_path: Path) -> None:
    patterns = {("region",): 5, ("income",): 95}
    extra = (
        'forbid: [region]\nop: "<="\nvalue: 0.05\n'
        'message: "{observed} of declined rows name {group} (allowed {op} {threshold})"'
    )
    assert judge(tmp_path, rule("forbid", extra), codes(patterns)).status == "pass"
    failing = judge(tmp_path, rule("forbid", extra), codes({("region",): 6, ("income",): 94}))
    assert failing.status == "fail"
    assert failing.message == "0.06 of declined rows name feature=region (allowed <= 0.05)"


def test_sensitive_expands_to_nothing_without_sensitive_attributes(tmp_path: Path) -> None:
    finding = judge(
        tmp_path, rule("forbid", "forbid: [$sensitive]"), codes({("sex",): 40}), sensitive=()
    )
    assert finding.status == "not_applicable" and "no sensitive attribute" in finding.message


def test_a_rule_asking_more_reasons_than_the_run_computed_is_an_error(tmp_path: Path) -> None:
    finding = judge(
        tmp_path, rule("available", 'top_k: 5\nop: ">="\nvalue: 1'), codes({("income",): 40})
    )
    assert finding.status == "error" and "only 4 reasons" in finding.message


def test_the_plan_explains_the_model_with_as_many_reasons_as_rules_ask(tmp_path: Path) -> None:
    loaded = policy(
        tmp_path,
        rule("available", 'top_k: 6\nop: ">="\nvalue: 1') + rule("forbid", "forbid: [a]", "R2"),
    )
    planned = plan([loaded])
    assert planned.needs_explanations and planned.reason_count == 6
    assert plan([]).reason_count is None


@pytest.mark.parametrize(
    ("check", "extra", "complaint"),
    [
        ("forbid", "", "goes with check: forbid"),
        ("available", 'op: ">="\nvalue: 1\nforbid: [sex]', "goes with check: forbid"),
        ("forbid", "forbid: []", "at least one feature"),
        ("stability", 'top_k: 2\nop: ">="\nvalue: 1', "top_k does not apply"),
        ("available", 'measure: top_k\nop: ">="\nvalue: 1', "measure applies to"),
        ("available", "", "op"),
        ("explained", 'op: ">="\nvalue: 1', "check"),
    ],
)
def test_malformed_rules_are_policy_errors(
    tmp_path: Path, check: str, extra: str, complaint: str
) -> None:
    with pytest.raises(PolicyError) as raised:
        policy(tmp_path, rule(check, extra))
    assert complaint in str(raised.value)


def test_tied_contributions_keep_the_feature_order_and_zero_is_never_a_reason() -> None:
    import numpy
    import pandas

    frame = pandas.DataFrame({"a": [1.0, 1.0], "b": [2.0, 2.0], "c": [3.0, 3.0]})
    values = numpy.array([[-0.5, -0.5, 0.0], [0.0, -0.2, -0.7]])
    first, second = row_reasons(values, frame, ("a", "b", "c"), {}, k=4)
    assert [reason.feature for reason in first] == ["a", "b"], "c contributed nothing"
    assert [reason.feature for reason in second] == ["c", "b"]
    patterns = count_patterns([first, second, first])
    assert patterns == (ReasonPattern(("a", "b"), 2), ReasonPattern(("c", "b"), 1))


def test_patterns_count_rows_by_their_ordered_reasons() -> None:
    def reasons(*features: str) -> list[Reason]:
        return [Reason(f"RC-{f}", f, "value", -1.0, None) for f in features]

    rows = [reasons("a", "b"), reasons("b", "a"), reasons("a", "b"), reasons()]
    reason_codes = codes({p.features: p.rows for p in count_patterns(rows)})
    assert reason_codes.rows_with_reasons(2) == 3 and reason_codes.rows_with_reasons(0) == 4
    assert reason_codes.rows_naming(["a"], 1) == 2 and reason_codes.rows_naming(["a"], 2) == 3
