"""``auditkit init`` guesses roles from names and values and leaves TODOs for the rest."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from auditkit.cli.main import main
from auditkit.errors import ExitCode
from auditkit.project import Overrides, load_project


def make_dataset(path: Path) -> None:
    rows = 200
    table = pa.table(
        {
            "applicant_id": [f"A{i:04d}" for i in range(rows)],
            "income": [1000.0 + i for i in range(rows)],
            "sex": ["Female" if i % 2 else "Male" for i in range(rows)],
            "race": [["White", "Black", "Asian"][i % 3] for i in range(rows)],
            "age": list(range(rows)),
            "approval_score": [i / rows for i in range(rows)],
            "defaulted": [i % 3 == 0 for i in range(rows)],
        }
    )
    pq.write_table(table, path)


def test_init_writes_a_loadable_project_with_guesses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "scored.parquet"
    make_dataset(data)
    out = tmp_path / "auditkit.yaml"
    assert main(["init", "--data", str(data), "--out", str(out)]) == 0
    text = out.read_text()
    assert "TODO" in text
    project = load_project(out, Overrides())
    assert project.current.path == str(data)
    assert project.roles.label == "defaulted"
    assert project.roles.score == "approval_score"
    assert project.roles.threshold == 0.5
    assert project.roles.sensitive == ("sex", "race")
    assert project.roles.id == "applicant_id"
    err = capsys.readouterr().err
    assert "'age' looks protected" in err


def test_init_refuses_to_overwrite(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "scored.parquet"
    make_dataset(data)
    out = tmp_path / "auditkit.yaml"
    out.write_text("keep me\n")
    assert main(["init", "--data", str(data), "--out", str(out)]) == ExitCode.ERROR
    assert out.read_text() == "keep me\n"
    assert "already exists" in capsys.readouterr().err


def test_init_on_an_empty_file_writes_nothing_and_says_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "export.csv"
    data.write_bytes(b"")
    out = tmp_path / "auditkit.yaml"
    assert main(["init", "--data", str(data), "--out", str(out)]) == ExitCode.ERROR
    assert not out.exists()
    assert capsys.readouterr().err == f"auditkit: error: {data}: the file is empty\n"


def test_init_names_the_other_columns_that_fit_a_guessed_role(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Laid out like COMPAS: three recidivism outcomes, and the vendor's score besides another one.
    rows = 100
    table = pa.table(
        {
            "race": [["A", "B"][i % 2] for i in range(rows)],
            "decile_score": [1 + i % 10 for i in range(rows)],
            "is_recid": [i % 2 for i in range(rows)],
            "is_violent_recid": [i % 5 == 0 for i in range(rows)],
            "v_decile_score": [1 + i % 7 for i in range(rows)],
            "two_year_recid": [i % 3 == 0 for i in range(rows)],
        }
    )
    data = tmp_path / "compas.parquet"
    pq.write_table(table, data)
    out = tmp_path / "auditkit.yaml"
    assert main(["init", "--data", str(data), "--out", str(out)]) == 0
    project = load_project(out, Overrides())
    assert (project.roles.label, project.roles.score) == ("is_recid", "decile_score")
    err = capsys.readouterr().err
    assert (
        "TODO columns.label: 'is_recid' was guessed, but 'is_violent_recid' and 'two_year_recid' "
        "fit too: check which one is meant"
    ) in err
    assert "TODO columns.score: 'decile_score' was guessed, but 'v_decile_score' fit" in err
    assert "columns.prediction:" not in err


def test_init_adds_no_note_when_one_column_fits(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "scored.parquet"
    make_dataset(data)
    assert main(["init", "--data", str(data), "--out", str(tmp_path / "auditkit.yaml")]) == 0
    assert "was guessed, but" not in capsys.readouterr().err


def test_init_names_the_model_types_to_review_without_trusting_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import skops.io

    from tests.shared_datasets import SAMPLE_DATA

    data = tmp_path / "scored.parquet"
    make_dataset(data)
    model = SAMPLE_DATA / "credit_model.skops"
    untrusted = skops.io.get_untrusted_types(file=model)
    out = tmp_path / "auditkit.yaml"
    assert main(["init", "--data", str(data), "--model", str(model), "--out", str(out)]) == 0
    todo = f"model.trusted_types: the model holds types that skops does not trust by default ({', '.join(untrusted)})"
    assert f"# TODO {todo}" in out.read_text()
    assert todo in capsys.readouterr().err
    project = load_project(out, Overrides())
    assert project.model is not None and not project.model.trust, "trusting is the reviewer's call"
    onnx_out = tmp_path / "onnx.yaml"
    onnx = SAMPLE_DATA / "credit_model.onnx"
    assert main(["init", "--data", str(data), "--model", str(onnx), "--out", str(onnx_out)]) == 0
    assert "trusted_types" not in onnx_out.read_text()
