"""``auditkit explain``: JSON and text on stdout, nothing drawn on a non-terminal stderr, exit codes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from auditkit.cli.main import main
from auditkit.errors import ExitCode

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"


def test_json_output_is_the_stored_report(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "explain",
            "-c",
            str(SAMPLE / "auditkit.yaml"),
            "--sample",
            "500",
            "--seed",
            "4",
            "--format",
            "json",
        ]
    )
    captured = capsys.readouterr()
    assert code == ExitCode.OK, captured.err
    assert captured.err == ""  # no progress bar when stderr is not a terminal
    document = json.loads(captured.out)
    assert document["sample"]["rows"] == 500 and document["sample"]["seed"] == 4
    assert document["proxies"][0]["feature"] == "region"
    assert document["reasons"]["k"] == 4


def test_text_output_has_every_section(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "-c", str(SAMPLE / "auditkit.yaml"), "--sample", "300"]) == 0
    out = capsys.readouterr().out
    for heading in ("Explainer: exact linear SHAP", "Importance", "Proxy risk", "Reason codes"):
        assert heading in out


def test_without_a_model_explain_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copy(SAMPLE / "applications_2026q3.parquet", tmp_path / "data.parquet")
    code = main(["explain", "--data", str(tmp_path / "data.parquet"), "--label", "defaulted"])
    assert code == ExitCode.ERROR
    assert "model" in capsys.readouterr().err


def test_check_without_a_model_makes_explainability_rules_not_applicable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copy(SAMPLE / "applications_2026q3.parquet", tmp_path / "data.parquet")
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "apiVersion: auditkit/v1\nkind: Policy\nmetadata: {id: p, title: P, version: 1.0.0}\n"
        "rules:\n"
        "  - {id: E1, title: t, kind: attribution, top_k: 3, forbid: [sex], severity: high}\n"
        '  - {id: P1, title: t, kind: proxy, op: "<=", value: 0.3, severity: high}\n'
    )
    code = main(
        [
            "check", "--data", str(tmp_path / "data.parquet"), "--label", "defaulted",
            "--prediction", "approved", "--sensitive", "race", "--policy", str(policy),
            "--format", "json",
        ]
    )  # fmt: skip
    document = json.loads(capsys.readouterr().out)
    assert code == ExitCode.OK
    for rule in document["rules"]:
        assert rule["status"] == "not_applicable" and "no model" in rule["message"]


def test_no_rows_to_explain_is_an_input_error(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "explain", "--data", str(SAMPLE / "applications_2026q3.parquet"),
            "--model", str(SAMPLE / "credit_model.skops"), "--trusted-type", "numpy.dtype",
            "--prediction", "approved", "--where", "region = 'Nowhere'",
        ]
    )  # fmt: skip
    assert code == ExitCode.ERROR
    err = capsys.readouterr().err
    assert "no rows to explain" in err and len(err.strip().splitlines()) == 1
