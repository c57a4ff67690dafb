"""The data layer: every input format as a view, validation errors that name what is wrong,
fingerprints that are stable and sensitive to any change."""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.parquet as pq
import pytest

from auditkit.data import ColumnRoles, DatasetProblems, SourceSpec, Workspace, load_dataset
from auditkit.data.sources import resolve_source
from auditkit.errors import InputError

ROWS = {"id": [1, 2, 3, 4], "race": ["a", "b", "a", None], "y": [1, 0, 1, 0], "p": [1, 1, 0, 0]}
ROLES = ColumnRoles(label="y", prediction="p", sensitive=("race",), id="id")


def table() -> pa.Table:
    return pa.table(ROWS)


def read_back(spec: SourceSpec, roles: ColumnRoles = ROLES) -> list[tuple[object, ...]]:
    with Workspace() as workspace:
        dataset = load_dataset(workspace, "current", spec, roles)
        assert dataset.row_count == 4
        return workspace.query("SELECT id, race, y, p FROM current ORDER BY id")


EXPECTED = [(1, "a", 1, 1), (2, "b", 0, 1), (3, "a", 1, 0), (4, None, 0, 0)]


def write_csv(path: Path, separator: str = ",") -> None:
    lines = [separator.join(ROWS)]
    for i in range(4):
        lines.append(separator.join("" if ROWS[c][i] is None else str(ROWS[c][i]) for c in ROWS))
    path.write_text("\n".join(lines) + "\n")


def test_csv(tmp_path: Path) -> None:
    write_csv(tmp_path / "d.csv")
    assert read_back(SourceSpec(str(tmp_path / "d.csv"))) == EXPECTED


def test_tsv_and_gzip(tmp_path: Path) -> None:
    write_csv(tmp_path / "d.tsv", "\t")
    assert read_back(SourceSpec(str(tmp_path / "d.tsv"))) == EXPECTED
    write_csv(tmp_path / "plain.csv")
    (tmp_path / "d.csv.gz").write_bytes(gzip.compress((tmp_path / "plain.csv").read_bytes()))
    assert read_back(SourceSpec(str(tmp_path / "d.csv.gz"))) == EXPECTED


def test_parquet_file_glob_and_hive_folder(tmp_path: Path) -> None:
    pq.write_table(table(), tmp_path / "d.parquet")
    assert read_back(SourceSpec(str(tmp_path / "d.parquet"))) == EXPECTED
    parts = tmp_path / "parts"
    parts.mkdir()
    pq.write_table(table().slice(0, 2), parts / "a.parquet")
    pq.write_table(table().slice(2, 2), parts / "b.parquet")
    assert read_back(SourceSpec(str(parts / "*.parquet"))) == EXPECTED
    hive = tmp_path / "hive"
    for quarter, piece in (("q1", table().slice(0, 3)), ("q2", table().slice(3, 1))):
        (hive / f"quarter={quarter}").mkdir(parents=True)
        pq.write_table(piece, hive / f"quarter={quarter}" / "part.parquet")
    assert read_back(SourceSpec(str(hive))) == EXPECTED
    with Workspace() as workspace:
        load_dataset(workspace, "current", SourceSpec(str(hive)), ROLES)
        assert workspace.query("SELECT quarter, count(*) FROM current GROUP BY 1 ORDER BY 1") == [
            ("q1", 3),
            ("q2", 1),
        ]


def test_arrow_ipc_and_json_lines(tmp_path: Path) -> None:
    feather.write_feather(table(), tmp_path / "d.feather")
    assert read_back(SourceSpec(str(tmp_path / "d.feather"))) == EXPECTED
    import json

    lines = [json.dumps({column: ROWS[column][i] for column in ROWS}) for i in range(4)]
    (tmp_path / "d.jsonl").write_text("\n".join(lines) + "\n")
    assert read_back(SourceSpec(str(tmp_path / "d.jsonl"))) == EXPECTED


def test_duckdb_table(tmp_path: Path) -> None:
    database = tmp_path / "warehouse.duckdb"
    connection = duckdb.connect(str(database))
    connection.register("rows_in", table())
    connection.execute("CREATE TABLE scored AS SELECT * FROM rows_in")
    connection.close()
    assert read_back(SourceSpec.parse(f"{database}::scored")) == EXPECTED
    with pytest.raises(InputError, match="no table 'scord'; did you mean 'scored'"):
        read_back(SourceSpec.parse(f"{database}::scord"))
    with pytest.raises(InputError, match="needs a table"):
        resolve_source(SourceSpec(str(database)))


def test_bad_locations_are_one_line_errors(tmp_path: Path) -> None:
    (tmp_path / "d.xlsx").write_text("x")
    (tmp_path / "empty").mkdir()
    cases = {
        str(tmp_path / "missing.csv"): "no such file or folder",
        str(tmp_path / "d.xlsx"): "cannot tell the format",
        str(tmp_path / "*.parquet"): "matches no files",
        str(tmp_path / "empty"): "holds no .parquet files",
    }
    for path, message in cases.items():
        with pytest.raises(InputError) as caught:
            resolve_source(SourceSpec(path))
        assert message in str(caught.value) and "\n" not in str(caught.value)


def test_where_filters_and_a_bad_where_names_the_file(tmp_path: Path) -> None:
    pq.write_table(table(), tmp_path / "d.parquet")
    with Workspace() as workspace:
        dataset = load_dataset(
            workspace, "current", SourceSpec(str(tmp_path / "d.parquet")), ROLES, where="race = 'a'"
        )
        assert dataset.row_count == 2
        with pytest.raises(InputError) as caught:
            load_dataset(
                workspace,
                "current",
                SourceSpec(str(tmp_path / "d.parquet")),
                ROLES,
                where="rac = 'a'",
            )
    text = str(caught.value)
    assert str(tmp_path / "d.parquet") in text and "rac" in text and "Traceback" not in text


def problems_of(tmp_path: Path, data: dict[str, list[object]], roles: ColumnRoles) -> list[str]:
    pq.write_table(pa.table(data), tmp_path / "v.parquet")
    with Workspace() as workspace, pytest.raises(DatasetProblems) as caught:
        load_dataset(workspace, "current", SourceSpec(str(tmp_path / "v.parquet")), roles)
    return caught.value.problems


def test_missing_columns_are_reported_together_with_closest_names(tmp_path: Path) -> None:
    data = {"outcome": [1, 0], "prediction": [1, 1], "race": ["a", "b"]}
    problems = problems_of(
        tmp_path, data, ColumnRoles(label="label", prediction="predicton", sensitive=("rac",))
    )
    assert problems == [
        "label column 'label' not found",
        "prediction column 'predicton' not found; did you mean 'prediction'?",
        "sensitive[0] column 'rac' not found; did you mean 'race'?",
    ]


def test_non_binary_label_lists_the_values(tmp_path: Path) -> None:
    problems = problems_of(
        tmp_path, {"y": [0, 1, 2, 2], "p": [0, 1, 1, 0]}, ColumnRoles(label="y", prediction="p")
    )
    assert problems == [
        "label column 'y' is not binary: found values 0, 1, 2 (for a continuous outcome set task: regression)"
    ]


def test_positive_label_must_be_a_value(tmp_path: Path) -> None:
    problems = problems_of(
        tmp_path,
        {"y": ["no", "yes"], "p": ["yes", "yes"]},
        ColumnRoles(label="y", prediction="p", positive_label="Y"),
    )
    assert (
        problems[0]
        == "positive label 'Y' is not among the values of label column 'y': 'no', 'yes' (set --positive-label)"
    )


def test_score_needs_a_threshold_and_must_be_numeric(tmp_path: Path) -> None:
    problems = problems_of(
        tmp_path, {"y": [0, 1], "s": ["0.1", "0.9"]}, ColumnRoles(label="y", score="s")
    )
    assert "score column 's' needs a threshold (--threshold or columns.threshold)" in problems
    assert "score column 's' must be numeric, but it is VARCHAR" in problems


def test_null_labels_are_counted_not_dropped(tmp_path: Path) -> None:
    pq.write_table(
        pa.table({"y": [1, None, 0, None], "p": [1, 1, None, 0]}), tmp_path / "n.parquet"
    )
    with Workspace() as workspace:
        dataset = load_dataset(
            workspace,
            "current",
            SourceSpec(str(tmp_path / "n.parquet")),
            ColumnRoles(label="y", prediction="p"),
        )
    assert dataset.row_count == 4
    assert dataset.null_counts == {"label": 2, "prediction": 1}


def test_string_boolean_and_split_positive_values(tmp_path: Path) -> None:
    data = {
        "outcome": ["yes", "no", "yes"],
        "flag": [True, False, False],
        "defaulted": [0, 1, 0],
        "approved": [1, 0, 0],
    }
    pq.write_table(pa.table(data), tmp_path / "s.parquet")
    with Workspace() as workspace:
        spec = SourceSpec(str(tmp_path / "s.parquet"))
        strings = load_dataset(
            workspace,
            "current",
            spec,
            ColumnRoles(
                label="outcome", prediction="flag", positive_label="yes", positive_prediction=True
            ),
        )
        assert workspace.query(
            f"SELECT {strings.label_sql}, {strings.decision_sql} FROM current"
        ) == [(1, 1), (0, 0), (1, 0)]
        split = load_dataset(
            workspace,
            "current",
            spec,
            ColumnRoles(
                label="defaulted", prediction="approved", positive_label=0, positive_prediction=1
            ),
        )
        # favourable outcome = not defaulted; favourable decision = approved
        assert workspace.query(f"SELECT {split.label_sql}, {split.decision_sql} FROM current") == [
            (1, 1),
            (0, 0),
            (1, 0),
        ]


def test_regression_accepts_a_continuous_label(tmp_path: Path) -> None:
    pq.write_table(pa.table({"y": [1.5, 2.5, 3.0], "p": [1.0, 2.0, 3.5]}), tmp_path / "r.parquet")
    with Workspace() as workspace:
        dataset = load_dataset(
            workspace,
            "current",
            SourceSpec(str(tmp_path / "r.parquet")),
            ColumnRoles(label="y", prediction="p", task="regression"),
        )
        assert workspace.query(
            f"SELECT sum({dataset.label_sql} - {dataset.decision_sql}) FROM current"
        ) == [(0.5,)]


def test_fingerprint_of_one_file_is_its_sha256_and_stable(tmp_path: Path) -> None:
    pq.write_table(table(), tmp_path / "d.parquet")
    expected = hashlib.sha256((tmp_path / "d.parquet").read_bytes()).hexdigest()
    first = resolve_source(SourceSpec(str(tmp_path / "d.parquet"))).fingerprint()
    second = resolve_source(SourceSpec(str(tmp_path / "d.parquet"))).fingerprint()
    assert first.sha256 == second.sha256 == expected
    assert (
        first.files[0].sha256 == expected and first.size == (tmp_path / "d.parquet").stat().st_size
    )


def test_fingerprint_of_many_files_changes_with_any_file(tmp_path: Path) -> None:
    parts = tmp_path / "parts"
    parts.mkdir()
    pq.write_table(table().slice(0, 2), parts / "a.parquet")
    pq.write_table(table().slice(2, 2), parts / "b.parquet")
    spec = SourceSpec(str(parts / "*.parquet"))

    def digest() -> str:
        return resolve_source(spec).fingerprint().sha256

    original = digest()
    assert original == digest()
    (parts / "b.parquet").rename(parts / "c.parquet")
    renamed = digest()
    assert renamed != original
    pq.write_table(table().slice(0, 1), parts / "d.parquet")
    added = digest()
    assert added not in (original, renamed)
    pq.write_table(table().slice(1, 1), parts / "d.parquet")
    assert digest() != added
