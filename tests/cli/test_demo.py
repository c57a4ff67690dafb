"""`auditkit demo` runs the fullest audit there is on the bundled sample and says where the outputs went."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

from auditkit.cli.main import main
from tests.shared_datasets import SAMPLE_DATA


def black_to_white_approvals() -> float:
    """The impact ratio the demo prints for Black applicants (to the highest group's approval rate),
    measured on the sample with DuckDB."""
    import duckdb

    rates = dict(
        duckdb.sql(
            f"SELECT race, avg(approved) FROM '{SAMPLE_DATA / 'applications_2026q3.parquet'}' "
            "WHERE race IS NOT NULL GROUP BY race"
        ).fetchall()
    )
    return float(rates["Black"] / max(rates.values()))


def test_demo_writes_every_output_and_reports_the_findings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    for name in (
        "metrics.json",
        "drift.json",
        "quality.json",
        "model.json",
        "check.json",
        "check.junit.xml",
        "check.sarif",
        "check.md",
        "report/report.pdf",
        "report/report.html",
        "report/report.intoto.jsonl",
    ):
        assert (out / name).is_file(), name
        assert str(out / name) in printed
    # The run is recorded, and its report signed with a trial key verifies against that key alone.
    from auditkit.report.verify import verify_report
    from auditkit.trail import TrailStore

    store = TrailStore(out / ".auditkit" / "audit.duckdb")
    [run] = store.recent_runs()
    assert [report["signer"] for report in run.reports] == ["auditkit demo (trial key)"]
    assert int(verify_report(out / "report", [out / "keys" / "signing-cert.pem"]).exit_code) == 0
    assert store.verify().count == 2
    assert f"race=Black {black_to_white_approvals():.3f}" in printed and "purpose (PSI" in printed
    model = json.loads((out / "model.json").read_text())
    assert model["explicitly_trusted"] and model["trusted_types"] == ["numpy.dtype"]
    assert "loaded (skops), trusting numpy.dtype" in printed
    check = json.loads((out / "check.json").read_text())
    assert check["status"] == "fail"
    assert {policy["id"] for policy in check["policies"]} == {
        "credit-baseline",
        "eeoc-four-fifths",
        "us-bank-mrm",
        "reg-b-adverse-action",
    }
    rules = {rule["id"]: rule for rule in check["rules"]}
    failing = {rule_id for rule_id, rule in rules.items() if rule["status"] == "fail"}
    assert failing == {
        "EEOC-4-5",
        "FAIR-001",
        "FAIR-002",
        "DRIFT-001",
        "MRM-PSI-INPUTS",
        "REGB-APPROVAL-RATIO",
        "REGB-REASON-INPUTS-STABLE",
        "REGB-NO-PROXY",  # region stands in for race: the sample's injected proxy
    }
    assert rules["REGB-APPROVAL-RATIO"]["enforcement"] == "advisory"
    # The sample model's reasons are available and stable, and never a sensitive attribute (region,
    # its proxy for race, is caught by REGB-NO-PROXY).
    for rule_id in ("REGB-REASONS-AVAILABLE", "REGB-REASONS-STABLE", "REGB-REASONS-NOT-PROHIBITED"):
        assert rules[rule_id]["status"] == "pass", rules[rule_id]["message"]
    proxy = rules["REGB-NO-PROXY"]
    assert "region" in proxy["message"], "the injected proxy is named"
    assert "policy check (sample_data/policies/baseline.yaml, builtin:eeoc-four-fifths, " in printed
    assert (
        json.loads((out / "model.json").read_text())["type"]
        == "sklearn.pipeline.Pipeline(LogisticRegression)"
    )
    assert ElementTree.parse(out / "check.junit.xml").getroot().tag == "testsuites"
