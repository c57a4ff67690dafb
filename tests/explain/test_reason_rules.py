"""The reason rules on the sample credit model: region, the sample's injected proxy for race, is a
principal reason for most declined rows, so a rule forbidding it fails; reasons are available and
stable. The shares are recomputed here from the SHAP values of the same seeded sample, ranking each
declined row's negative attributions with numpy (not the reason-code code)."""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy
import pytest

from auditkit.engine import AuditRun, audit_project
from auditkit.policy.findings import Finding
from auditkit.project import Overrides, load_project
from tests.shared_datasets import copy_sample_project, sample_trusted_types

POLICY = """\
apiVersion: auditkit/v1
kind: Policy
metadata: {id: reasons-on-sample, title: Reason rules on the sample model}
rules:
  - {id: AVAILABLE-4, title: t, kind: reasons, check: available, top_k: 4, op: ">=", value: 0.95}
  - {id: AVAILABLE-ALL-4, title: t, kind: reasons, check: available, top_k: 4, op: ">=", value: 1}
  - {id: STABLE, title: t, kind: reasons, check: stability, op: ">=", value: 0.9}
  - {id: STABLE-TOP-K, title: t, kind: reasons, check: stability, measure: top_k, op: ">=", value: 0.9}
  - {id: NO-REGION, title: t, kind: reasons, check: forbid, forbid: [$sensitive, region]}
  - {id: NO-SENSITIVE, title: t, kind: reasons, check: forbid, forbid: [$sensitive]}
  - {id: NO-SENSITIVE-INPUT, title: t, kind: attribution, top_k: 4, forbid: [$sensitive]}
"""

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> AuditRun:
    folder = tmp_path_factory.mktemp("sample")
    config = copy_sample_project(folder)
    (folder / "reasons.yaml").write_text(POLICY)
    project = load_project(config, Overrides(policies=(str(folder / "reasons.yaml"),)))
    return audit_project(project, today=date(2026, 11, 29))


@pytest.fixture(scope="module")
def findings(run: AuditRun) -> dict[str, Finding]:
    return {finding.rule_id: finding for finding in run.result.findings}


@pytest.fixture(scope="module")
def declined_attributions(run: AuditRun) -> tuple[numpy.ndarray, tuple[str, ...]]:
    """SHAP values of the declined rows of the sample the run explained (same seed and size)."""
    from auditkit.data.artifacts import load_model
    from auditkit.engine import open_project
    from auditkit.explain import DEFAULT_SAMPLE, DEFAULT_SEED, model_features
    from auditkit.explain.attributions import Target, explain
    from auditkit.explain.sample import DECISION, draw_rows
    from tests.shared_datasets import SAMPLE_DATA

    report = run.evidence.explanations
    assert report is not None
    project = load_project(SAMPLE_DATA / "auditkit.yaml", Overrides())
    loaded = open_project(project)
    dataset = loaded.current
    model = load_model(SAMPLE_DATA / "credit_model.skops", trust=sample_trusted_types())
    features = model_features(dataset, model)
    roles = dataset.roles
    columns = [*features, *roles.sensitive, *([roles.id] if roles.id else [])]
    sample = draw_rows(
        loaded.workspace,
        dataset,
        columns,
        size=DEFAULT_SAMPLE,
        seed=DEFAULT_SEED,
        with_decision=True,
    ).sample(columns)
    assert sample.rows == report.sample.rows
    target = Target(model, features, roles.positive_label, DEFAULT_SEED)
    values = explain(target, sample.frame, sample.weights).values
    declined = sample.frame[DECISION].to_numpy(dtype="float64") == 0
    return values[declined], features


def adverse_ranks(values: numpy.ndarray) -> numpy.ndarray:
    """Per row and feature: 1 for the most negative attribution, ...; 0 where it is not negative."""
    order = numpy.argsort(values, axis=1, kind="stable")
    ranks = numpy.empty_like(order)
    rows = numpy.arange(values.shape[0])[:, None]
    ranks[rows, order] = numpy.arange(1, values.shape[1] + 1)
    return numpy.where(values < 0, ranks, 0)


def test_region_is_a_principal_reason_for_most_declined_rows_and_fails_the_rule(
    findings: dict[str, Finding], declined_attributions: tuple[numpy.ndarray, tuple[str, ...]]
) -> None:
    values, features = declined_attributions
    ranks = adverse_ranks(values)
    region = ranks[:, features.index("region")]
    share = float(numpy.mean((region >= 1) & (region <= 4)))
    assert share > 0.5, "the injected proxy is a principal reason for most declined applicants"
    rule = findings["NO-REGION"]
    assert rule.status == "fail"
    assert rule.observed == pytest.approx(share, rel=1e-12)
    groups = {group.label(): group for group in rule.groups}
    assert groups["feature=region"].status == "fail"
    assert groups["feature=region"].observed == pytest.approx(share, rel=1e-12)
    assert groups["feature=region"].n == len(values)
    assert "as RC-REGION" in (groups["feature=region"].reason or "")
    for attribute in ("sex", "race", "age_band"):
        assert groups[f"feature={attribute}"].reason == "not a model input: never a reason"
    assert f"{round(share * len(values))} of {len(values)} declined rows" in rule.message


def test_no_sensitive_attribute_is_a_reason_or_an_important_input(
    findings: dict[str, Finding],
) -> None:
    assert findings["NO-SENSITIVE"].status == "pass" and findings["NO-SENSITIVE"].observed == 0.0
    attribution = findings["NO-SENSITIVE-INPUT"]
    assert attribution.status == "pass"
    assert {group.label() for group in attribution.groups} == {
        "feature=sex",
        "feature=race",
        "feature=age_band",
    }, "$sensitive expands to the project's attributes, not a feature literally named so"


def test_availability_is_the_share_of_declined_rows_with_four_adverse_reasons(
    findings: dict[str, Finding], declined_attributions: tuple[numpy.ndarray, tuple[str, ...]]
) -> None:
    values, _ = declined_attributions
    with_four = float(numpy.mean((values < 0).sum(axis=1) >= 4))
    assert 0.95 <= with_four < 1, "most, not all, declined rows have four adverse inputs"
    assert findings["AVAILABLE-4"].status == "pass"
    assert findings["AVAILABLE-4"].observed == pytest.approx(with_four, rel=1e-12)
    assert findings["AVAILABLE-ALL-4"].status == "fail"
    assert "fewer: 3 reasons" in findings["AVAILABLE-ALL-4"].message


def test_stability_reads_the_second_explanation(
    run: AuditRun, findings: dict[str, Finding]
) -> None:
    report = run.evidence.explanations
    assert report is not None and report.reasons is not None
    stability: Any = report.reasons.stability
    assert stability.rows == report.reasons.declined_rows
    assert findings["STABLE"].status == "pass"
    assert findings["STABLE"].observed == stability.top1_agreement
    assert findings["STABLE-TOP-K"].observed == stability.topk_overlap
    assert findings["STABLE-TOP-K"].status == "pass"


def test_the_stored_patterns_account_for_every_declined_row(run: AuditRun) -> None:
    report = run.evidence.explanations
    assert report is not None and report.reasons is not None
    document = report.reasons.to_dict()
    assert sum(pattern["rows"] for pattern in document["patterns"]) == document["declined_rows"]
    counts = {code["feature"]: 0 for code in document["codes"]}
    for pattern in document["patterns"]:
        for feature in pattern["features"]:
            counts[feature] += pattern["rows"]
    by_feature: dict[str, int] = {}
    for code in document["codes"]:
        by_feature[code["feature"]] = by_feature.get(code["feature"], 0) + code["rows"]
    assert counts == by_feature
