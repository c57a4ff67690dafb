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


def test_check_with_a_model_it_may_not_load_is_an_input_error_not_a_finding(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The model loads beside the data scans; a refusal still ends the run with one line (exit 2),
    and a pickle is refused before any scan of the data."""
    import auditkit.metrics

    def no_scan(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the data was scanned before the model was refused")

    monkeypatch.setattr(auditkit.metrics, "compute_metrics", no_scan)
    import pickle

    import skops.io

    from tests.shared_datasets import copy_sample_project

    config = copy_sample_project(tmp_path)
    skops_file = tmp_path / "credit_model.skops"
    model = skops.io.load(skops_file, trusted=skops.io.get_untrusted_types(file=skops_file))
    (tmp_path / "credit_model.pkl").write_bytes(pickle.dumps(model))
    config.write_text(config.read_text().replace("credit_model.skops", "credit_model.pkl"))
    code = main(["check", "-c", str(config), "--format", "json"])
    captured = capsys.readouterr()
    assert code == ExitCode.ERROR
    assert captured.out == ""
    assert (
        captured.err.count("\n") == 1 and "credit_model.pkl: loading a pickle runs" in captured.err
    )


def test_a_check_loads_the_model_once_for_the_record_and_the_explanation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from auditkit import engine
    from auditkit.project import Overrides, load_project

    loads: list[str] = []
    original = engine.load_project_model

    def counted(project: object) -> object:
        loads.append("load")
        return original(project)  # type: ignore[arg-type]

    monkeypatch.setattr(engine, "load_project_model", counted)
    run = engine.audit_project(load_project(SAMPLE / "auditkit.yaml", Overrides()))
    assert loads == ["load"]
    assert run.evidence.explanations is not None
    assert run.result.inputs["model"]["type"].startswith("sklearn.pipeline.Pipeline")


def test_text_tables_stay_aligned_with_long_feature_names(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from auditkit.cli.render_explain import render_explanation_text

    command = [
        "explain",
        "-c",
        str(SAMPLE / "auditkit.yaml"),
        "--sample",
        "300",
        "--format",
        "json",
    ]
    assert main(command) == ExitCode.OK
    document = json.loads(capsys.readouterr().out)
    # German credit's longest input; longer than the tables' default columns.
    long_name = "investment_as_income_percentage_of_disposable_income"
    renamed = document["importance"][0]["feature"]
    document["importance"][0]["feature"] = long_name
    for proxy in document["proxies"]:
        if proxy["feature"] == renamed:
            proxy["feature"] = long_name
    document["reasons"]["codes"][0]["code"] = f"RC-{long_name.upper()}-HIGH"
    sections = render_explanation_text(document).split("\n\n")
    importance = next(section for section in sections if section.startswith("Importance"))
    proxies = next(section for section in sections if section.startswith("Proxy risk"))
    reasons = next(section for section in sections if section.startswith("Reason codes"))
    assert long_name in importance and long_name in proxies
    for table in (importance, proxies):
        rows = table.splitlines()[1:]
        assert len({len(row) for row in rows}) == 1, rows
    codes = [line for line in reasons.splitlines()[1:] if line.endswith("%)")]
    assert len({line.index(" rows (") for line in codes}) == 1, codes
