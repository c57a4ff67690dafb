"""`auditkit metrics`: the command-line contract of the product specification, section 4."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from auditkit.cli.main import main
from auditkit.errors import ExitCode
from auditkit.metrics import METRICS

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"


@pytest.fixture()
def data(tmp_path: Path) -> Path:
    rows = 120
    path = tmp_path / "scored.parquet"
    pq.write_table(
        pa.table(
            {
                "sex": [["F", "M"][i % 2] for i in range(rows)],
                "race": [["a", "b", "c"][i % 3] for i in range(rows)],
                "outcome": [int(i % 5 < 2) for i in range(rows)],
                "decision": [int(i % 7 < 3) for i in range(rows)],
                "score": [(i % 10) / 10 for i in range(rows)],
            }
        ),
        path,
    )
    return path


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    assert main(["metrics", *args, "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_json_has_the_contract_shape_and_every_metric_key(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = run_json(
        capsys,
        "--data",
        str(data),
        "--label",
        "outcome",
        "--prediction",
        "decision",
        "--score",
        "score",
        "--by",
        "race",
        "--by",
        "sex,race",
        "--reference-group",
        "race=a",
        "--reference-group",
        "sex=F",
    )
    classification = [
        key
        for key, metric in METRICS.items()
        if metric.family in ("count", "classification", "score")
    ]
    assert document["rows"] == 120
    for entry in [document["overall"], *document["groups"]]:
        assert set(classification) <= set(entry), set(classification) - set(entry)
        assert "ci" in entry
    first = document["groups"][0]
    assert first["by"] == ["race"] and first["group"] == {"race": "a"}
    assert set(first["disparity"]["fpr"]) >= {
        "ratio_to_reference",
        "difference_to_reference",
        "ratio_to_max",
    }
    intersections = [
        entry["group"] for entry in document["groups"] if entry["by"] == ["sex", "race"]
    ]
    assert intersections == [{"sex": s, "race": r} for s in ("F", "M") for r in ("a", "b", "c")]
    reference = next(e for e in document["groups"] if e["group"] == {"sex": "F", "race": "a"})
    assert reference["disparity"]["selection_rate"]["ratio_to_reference"] == 1.0
    text = json.dumps(document, allow_nan=False)
    assert "NaN" not in text


def test_where_and_positive_label(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    document = run_json(
        capsys,
        "--data",
        str(data),
        "--label",
        "outcome",
        "--prediction",
        "decision",
        "--by",
        "race",
        "--where",
        "sex = 'F'",
        "--positive-label",
        "0",
    )
    assert document["rows"] == 60
    # With 0 as the positive class, a positive decision is decision == 0.
    overall = document["overall"]
    assert overall["tp"] + overall["fp"] == sum(1 for i in range(0, 120, 2) if i % 7 >= 3)


def test_text_output_is_a_table_of_the_groups(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(
            [
                "metrics",
                "--data",
                str(data),
                "--label",
                "outcome",
                "--prediction",
                "decision",
                "--by",
                "race",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "by race" in out and "selection_rate" in out
    assert [line.split()[0] for line in out.splitlines() if line[:2] in ("a ", "b ", "c ")] == [
        "a",
        "b",
        "c",
    ]


def test_output_file_is_written_whole_or_not_at_all(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "out" / "metrics.json"
    assert (
        main(
            [
                "metrics",
                "--data",
                str(data),
                "--label",
                "outcome",
                "--prediction",
                "decision",
                "--by",
                "race",
                "--format",
                "json",
                "--output",
                str(target),
            ]
        )
        == 0
    )
    assert json.loads(target.read_text())["rows"] == 120
    failed = tmp_path / "failed.json"
    assert (
        main(
            [
                "metrics",
                "--data",
                str(data),
                "--label",
                "outcome",
                "--prediction",
                "decision",
                "--by",
                "rac",
                "--output",
                str(failed),
            ]
        )
        == ExitCode.ERROR
    )
    assert not failed.exists() and not list(tmp_path.glob(".failed.json*"))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--metrics", "fpr,tpR"], "unknown metric 'tpR'; did you mean 'tpr'?"),
        (["--by", "rac"], "--by: no column 'rac'; did you mean 'race'?"),
        (["--reference-group", "race=z"], "reference group race=z does not occur in the data"),
        (["--reference-group", "race"], "--reference-group 'race': write COLUMN=VALUE"),
    ],
)
def test_usage_errors_name_the_closest_valid_value(
    data: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    base = ["metrics", "--data", str(data), "--label", "outcome", "--prediction", "decision"]
    if "--by" not in args:
        base += ["--by", "race"]
    assert main([*base, *args]) == ExitCode.ERROR
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]


def test_project_file_and_model_scoring(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    document = run_json(
        capsys, "-c", str(SAMPLE / "auditkit.yaml"), "--by", "race", "--metrics", "selection_rate"
    )
    black = next(entry for entry in document["groups"] if entry["group"] == {"race": "Black"})
    assert black["disparity"]["selection_rate"]["ratio_to_max"] < 0.8
    unscored = tmp_path / "unscored.parquet"
    table = pq.read_table(SAMPLE / "applications_2026q3.parquet").drop(
        ["approval_score", "approved"]
    )
    pq.write_table(table, unscored)
    scored = run_json(
        capsys,
        "--data",
        str(unscored),
        "--model",
        str(SAMPLE / "credit_model.skops"),
        "--label",
        "defaulted",
        "--positive-label",
        "0",
        "--threshold",
        "0.8",
        "--by",
        "race",
        "--metrics",
        "selection_rate",
    )
    # Scoring with the model reproduces the approvals stored in the sample (approved = score >= 0.8).
    assert scored["overall"]["selection_rate"] == pytest.approx(
        document["overall"]["selection_rate"], abs=1e-12
    )
