"""A fixed CheckResult with every outcome, for golden files and format tests that need no engine.

Paths live under BASE (the working directory the outputs are rendered against) except the built-in pack,
which lies outside it, as an installed package's files do.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from auditkit.check import CheckResult
from auditkit.policy.findings import AppliedWaiver, Finding, GroupOutcome, Reference

BASE = Path("/work/project")
POLICY = f"{BASE}/policies/baseline.yaml"
BUILTIN = "/opt/auditkit/policies/eeoc-four-fifths.yaml"
TRICKY = "Ratio <0.8> & \"adverse\" 'impact' at 100%,\nsee: report, page 2"
"""Characters every format must escape: XML, Markdown/HTML, workflow commands, JSON."""

EEOC = Reference(
    "EEOC UGESP", "29 CFR 1607.4(D)", "https://www.ecfr.gov/current/title-29/part-1607"
)


def passing() -> Finding:
    return Finding(
        rule_id="PERF-001",
        title="Discrimination power is adequate",
        kind="threshold",
        severity="high",
        status="pass",
        message="roc_auc is 0.8109 (required >= 0.75)",
        policy_id="credit-baseline",
        observed=0.8109,
        threshold=0.75,
        op=">=",
        metric="roc_auc",
        references=(Reference("SR 26-2", "outcomes analysis"),),
        source=f"{POLICY}:8:9",
    )


def failing() -> Finding:
    return Finding(
        rule_id="FAIR-001",
        title="Approval rates meet the four-fifths rule for every sex & race group",
        kind="parity",
        severity="critical",
        status="fail",
        message=TRICKY,
        policy_id="credit-baseline",
        observed=0.5045,
        threshold=0.8,
        op=">=",
        metric="selection_rate",
        groups=(
            GroupOutcome({"race": "White"}, "pass", 1.0, 5120, (0.98, 1.0)),
            GroupOutcome({"race": "Black"}, "fail", 0.5045, 1060, (0.466, 0.5462)),
            GroupOutcome({"race": "Hispanic"}, "fail", 0.7765, 1239, (0.7383, 0.8166)),
            GroupOutcome(
                {"race": "Native American"},
                "inconclusive",
                0.7548,
                12,
                None,
                "12 rows, below the minimum group size 30",
            ),
            GroupOutcome({"sex": None}, "pass", 0.91, 40, None),
        ),
        references=(EEOC,),
        remediation="Find the proxy <feature> & retrain;\nthen re-audit (100% of groups).",
        source=f"{POLICY}:17:9",
    )


def failing_below_gate() -> Finding:
    return Finding(
        rule_id="DQ-001",
        title="Income is almost never missing",
        kind="data_quality",
        severity="low",
        status="fail",
        message="missing rate of column=income is 0.02 (required <= 0.01)",
        policy_id="credit-baseline",
        observed=0.02,
        threshold=0.01,
        op="<=",
        groups=(GroupOutcome({"column": "income"}, "fail", 0.02, 8000),),
        source=f"{POLICY}:50:9",
    )


def inconclusive() -> Finding:
    return Finding(
        rule_id="EEOC-4-5",
        title="Every group's selection rate is at least four fifths of the highest group's",
        kind="parity",
        severity="high",
        status="inconclusive",
        message="race=Pacific Islander has 9 rows, below the minimum group size 30",
        policy_id="eeoc-four-fifths",
        observed=None,
        threshold=0.8,
        op=">=",
        metric="selection_rate",
        groups=(
            GroupOutcome({"race": "White"}, "pass", 1.0, 5120),
            GroupOutcome({"race": "Pacific Islander"}, "inconclusive", None, 9, None, "9 rows"),
        ),
        references=(EEOC,),
        source=f"{BUILTIN}:14:9",
    )


def waived() -> Finding:
    return Finding(
        rule_id="DRIFT-001",
        title="Input distributions are stable against training data",
        kind="drift",
        severity="medium",
        status="waived",
        message="psi of column=purpose is 0.6035 (required <= 0.25); 2 columns fail: income, purpose",
        policy_id="credit-baseline",
        observed=0.6035,
        threshold=0.25,
        op="<=",
        metric="psi",
        groups=(
            GroupOutcome({"column": "income"}, "fail", 0.41, None),
            GroupOutcome({"column": "purpose"}, "fail", 0.6035, None),
            GroupOutcome({"column": "region"}, "pass", 0.02, None),
        ),
        waiver=AppliedWaiver(
            "WVR-001",
            "Seasonal shift reviewed by the model-risk committee (MRC-2026-114) & accepted.",
            "jane.roe@example.com",
            date(2027, 1, 31),
        ),
        source=f"{POLICY}:42:9",
    )


def evaluation_error() -> Finding:
    return Finding(
        rule_id="SQL-001",
        title="Scores lie in [0, 1]",
        kind="sql",
        severity="medium",
        status="error",
        message='query failed: Binder Error: column "approval_scor" not found',
        policy_id="credit-baseline",
        source=f"{POLICY}:58:9",
    )


def not_applicable() -> Finding:
    return Finding(
        rule_id="EXPL-001",
        title="No protected attribute among the five most important features",
        kind="attribution",
        severity="high",
        status="not_applicable",
        message="attribution rules need SHAP explanations; the rule was not evaluated",
        policy_id="credit-baseline",
        source=f"{POLICY}:36:9",
    )


def reported() -> Finding:
    """A disclosure: figures the law requires to be published, with no verdict on them."""
    return Finding(
        rule_id="LL144-SELECTION",
        title="Selection rates and impact ratios by category",
        kind="disclosure",
        severity="info",
        status="reported",
        message="impact ratios reported for 2 categories; NYC LL144 sets no threshold",
        policy_id="nyc-ll144",
        metric="selection_rate",
        groups=(
            GroupOutcome({"sex": "Female"}, "reported", 0.9, n=400),
            GroupOutcome({"sex": "Male"}, "reported", 1.0, n=380),
        ),
        source=f"{POLICY}:80:5",
    )


def advisory_failure() -> Finding:
    """A failure of an advisory rule: shown, never failing the run."""
    return Finding(
        rule_id="REGB-EFFECTS",
        title="Approval rates screened for disparate effects",
        kind="parity",
        severity="high",
        status="fail",
        message="selection rate ratio to max for race=Black is 0.5 (required >= 0.8)",
        policy_id="reg-b-adverse-action",
        enforcement="advisory",
        observed=0.5,
        threshold=0.8,
        op=">=",
        metric="selection_rate",
        source=f"{POLICY}:90:5",
    )


def unreadable_waiver() -> Finding:
    """A finding with no position: outputs fall back to the file of its policy (here the waivers)."""
    return Finding(
        rule_id="WAIVER.INVALID",
        title="A waiver cannot be read",
        kind="waiver",
        severity="high",
        status="fail",
        message="waiver WVR-9: 'expires' is not a date: 'soon'",
        policy_id="waivers",
    )


def fixed_result(*findings: Finding, fail_on_inconclusive: bool = False) -> CheckResult:
    """Every outcome by default; the inputs and times are fixed so the outputs are byte-stable."""
    chosen = findings or (
        passing(),
        failing(),
        failing_below_gate(),
        inconclusive(),
        waived(),
        evaluation_error(),
        not_applicable(),
        reported(),
        advisory_failure(),
        unreadable_waiver(),
    )
    return CheckResult(
        findings=tuple(chosen),
        inputs={
            "current": {
                "path": f"{BASE}/data/current quarter.parquet",
                "sha256": "a" * 64,
                "files": 1,
                "rows": 8000,
                "where": None,
            },
            "reference": {
                "path": "data/train/*.parquet",
                "sha256": "b" * 64,
                "files": 3,
                "rows": 20000,
                "where": None,
            },
            "model": {"path": f"{BASE}/credit_model.skops", "format": "skops", "sha256": "c" * 64},
            "waivers": {"path": f"{BASE}/waivers.yaml", "sha256": "d" * 64},
        },
        fail_on="high",
        fail_on_inconclusive=fail_on_inconclusive,
        started="2026-07-01T12:00:00+00:00",
        finished="2026-07-01T12:00:07+00:00",
        policies=(
            {
                "id": "credit-baseline",
                "title": "Credit model baseline",
                "version": "1.0.0",
                "path": POLICY,
                "sha256": "e" * 64,
            },
            {
                "id": "eeoc-four-fifths",
                "title": "EEOC four-fifths",
                "version": "1.0.0",
                "path": BUILTIN,
                "sha256": "f" * 64,
            },
        ),
    )
