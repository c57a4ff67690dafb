"""Every input format registers as a view and reads back the rows that were written; bad locations,
bad files and bad ``where`` predicates are one-line InputErrors naming the file."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.parquet as pq
import pytest

from auditkit.data import ColumnRoles, SourceSpec, Workspace, load_dataset
from auditkit.data.sources import ResolvedSource, resolve_source
from auditkit.errors import InputError

# Scores are binary fractions so that text formats round-trip them exactly; the notes hold the
# characters a delimiter sniffer could mistake for the separator.
COLUMNS: dict[str, list[Any]] = {
    "id": [1, 2, 3, 4, 5],
    "grp": ["a", "b", None, "a", "c"],
    "note": ["x, y", "p; q", "plain", "a;b;c|d", "1,2"],
    "label": [1, 0, 1, 0, 1],
    "score": [0.25, 0.5, 0.75, 0.125, 1.0],
}
EXPECTED = sorted(zip(*COLUMNS.values(), strict=True))
SELECT_ALL = "SELECT id, grp, note, label, score FROM current ORDER BY id"


def load_file(workspace: Workspace, path: Path, roles: ColumnRoles, **options: Any) -> Any:
    """Load ``path`` as the current dataset, as the engine does."""
    return load_dataset(workspace, "current", SourceSpec(str(path)), roles, **options)


def arrow_table() -> pa.Table:
    return pa.table(COLUMNS)


def csv_text(delimiter: str) -> str:
    lines: list[list[object]] = [list(COLUMNS)]
    lines += [["" if value is None else value for value in row] for row in EXPECTED]
    sink = io.StringIO()
    csv.writer(sink, delimiter=delimiter, lineterminator="\n").writerows(lines)
    return sink.getvalue()


def write_csv(folder: Path) -> SourceSpec:
    (folder / "rows.csv").write_text(csv_text(","))
    return SourceSpec(str(folder / "rows.csv"))


def write_csv_gz(folder: Path) -> SourceSpec:
    (folder / "rows.csv.gz").write_bytes(gzip.compress(csv_text(",").encode()))
    return SourceSpec(str(folder / "rows.csv.gz"))


def write_tsv(folder: Path) -> SourceSpec:
    (folder / "rows.tsv").write_text(csv_text("\t"))
    return SourceSpec(str(folder / "rows.tsv"))


def write_tsv_gz(folder: Path) -> SourceSpec:
    (folder / "rows.tsv.gz").write_bytes(gzip.compress(csv_text("\t").encode()))
    return SourceSpec(str(folder / "rows.tsv.gz"))


def write_parquet(folder: Path) -> SourceSpec:
    pq.write_table(arrow_table(), folder / "rows.parquet")
    return SourceSpec(str(folder / "rows.parquet"))


def write_feather(folder: Path) -> SourceSpec:
    feather.write_feather(arrow_table(), folder / "rows.feather")
    return SourceSpec(str(folder / "rows.feather"))


def write_arrow_uncompressed(folder: Path) -> SourceSpec:
    feather.write_feather(arrow_table(), folder / "rows.arrow", compression="uncompressed")
    return SourceSpec(str(folder / "rows.arrow"))


def json_records() -> list[dict[str, object]]:
    return [dict(zip(COLUMNS, row, strict=True)) for row in EXPECTED]


def write_jsonl(folder: Path) -> SourceSpec:
    text = "".join(json.dumps(record) + "\n" for record in json_records())
    (folder / "rows.jsonl").write_text(text)
    return SourceSpec(str(folder / "rows.jsonl"))


def write_json_array(folder: Path) -> SourceSpec:
    (folder / "rows.json").write_text(json.dumps(json_records()))
    return SourceSpec(str(folder / "rows.json"))


def write_duckdb_table(folder: Path) -> SourceSpec:
    database = folder / "warehouse.duckdb"
    connection = duckdb.connect(str(database))
    connection.register("incoming", arrow_table())
    connection.execute("CREATE TABLE scored AS SELECT * FROM incoming")
    connection.close()
    return SourceSpec.parse(f"{database}::scored")


WRITERS: dict[str, Callable[[Path], SourceSpec]] = {
    "csv": write_csv,
    "csv.gz": write_csv_gz,
    "tsv": write_tsv,
    "tsv.gz": write_tsv_gz,
    "parquet": write_parquet,
    "feather": write_feather,
    "arrow": write_arrow_uncompressed,
    "jsonl": write_jsonl,
    "json array": write_json_array,
    "duckdb table": write_duckdb_table,
}


def registered(workspace: Workspace, spec: SourceSpec, *, where: str | None = None) -> None:
    workspace.register("current", resolve_source(spec), where=where)


@pytest.mark.parametrize("kind", WRITERS)
def test_every_format_reads_back_the_written_rows(
    kind: str, tmp_path: Path, workspace: Workspace
) -> None:
    registered(workspace, WRITERS[kind](tmp_path))
    assert list(workspace.columns("current")) == list(COLUMNS)
    assert workspace.query(SELECT_ALL) == EXPECTED
    kinds = workspace.query(
        "SELECT table_type FROM information_schema.tables WHERE table_name = 'current'"
    )
    assert kinds == [("VIEW",)]


@pytest.mark.parametrize("kind", WRITERS)
def test_every_format_loads_as_a_dataset(kind: str, tmp_path: Path, workspace: Workspace) -> None:
    dataset = load_dataset(
        workspace,
        "current",
        WRITERS[kind](tmp_path),
        ColumnRoles(label="label", score="score", threshold=0.5, sensitive=("grp",), id="id"),
    )
    assert dataset.row_count == len(EXPECTED)
    assert dataset.feature_columns == ("note",)
    decisions = workspace.query(f"SELECT {dataset.decision_sql} FROM current ORDER BY id")
    assert [decision for (decision,) in decisions] == [int(s >= 0.5) for s in COLUMNS["score"]]


def test_tsv_is_split_on_tabs_even_when_values_hold_commas_and_semicolons(
    tmp_path: Path, workspace: Workspace
) -> None:
    # Every value holds ';' and ',' (consistently more of them than tabs): a sniffer left to choose
    # picks one of those and splits the values apart.
    rows = [["id", "note"], *[[str(i), f"a;b;c,{i}"] for i in range(30)]]
    (tmp_path / "notes.tsv").write_text("".join("\t".join(row) + "\n" for row in rows))
    registered(workspace, SourceSpec(str(tmp_path / "notes.tsv")))
    assert workspace.columns("current") == {"id": "BIGINT", "note": "VARCHAR"}
    assert workspace.query("SELECT id, note FROM current ORDER BY id") == [
        (i, f"a;b;c,{i}") for i in range(30)
    ]


def test_csv_auto_detects_a_semicolon_delimiter(tmp_path: Path, workspace: Workspace) -> None:
    (tmp_path / "european.csv").write_text("id;amount\n1;2,5\n2;3,0\n")
    registered(workspace, SourceSpec(str(tmp_path / "european.csv")))
    assert list(workspace.columns("current")) == ["id", "amount"]
    assert workspace.row_count("current") == 2


def test_parquet_glob_reads_every_matching_file(tmp_path: Path, workspace: Workspace) -> None:
    for index, start in enumerate(range(0, 5, 2)):
        pq.write_table(arrow_table().slice(start, 2), tmp_path / f"part-{index}.parquet")
    pq.write_table(arrow_table(), tmp_path / "other.parquet")  # not matched by the pattern
    source = resolve_source(SourceSpec(str(tmp_path / "part-*.parquet")))
    assert [file.name for file in source.files] == [
        "part-0.parquet",
        "part-1.parquet",
        "part-2.parquet",
    ]
    workspace.register("current", source)
    assert workspace.query(SELECT_ALL) == EXPECTED


def test_recursive_glob_and_relative_glob_against_a_base(
    tmp_path: Path, workspace: Workspace
) -> None:
    (tmp_path / "2024" / "jan").mkdir(parents=True)
    pq.write_table(arrow_table().slice(0, 3), tmp_path / "2024" / "a.parquet")
    pq.write_table(arrow_table().slice(3), tmp_path / "2024" / "jan" / "b.parquet")
    source = resolve_source(SourceSpec("2024/**/*.parquet"), base=tmp_path)
    assert len(source.files) == 2
    workspace.register("current", source)
    assert workspace.query(SELECT_ALL) == EXPECTED


def test_csv_glob(tmp_path: Path, workspace: Workspace) -> None:
    text = csv_text(",").splitlines(keepends=True)
    (tmp_path / "a.csv").write_text("".join(text[:3]))
    (tmp_path / "b.csv").write_text(text[0] + "".join(text[3:]))
    registered(workspace, SourceSpec(str(tmp_path / "*.csv")))
    assert workspace.query(SELECT_ALL) == EXPECTED


def write_hive(folder: Path) -> dict[tuple[int, str], int]:
    """Rows split into year=/region= folders; returns the expected row count per partition."""
    partitions = {(2023, "north"): (0, 2), (2023, "south"): (2, 1), (2024, "north"): (3, 2)}
    for (year, region), (start, length) in partitions.items():
        folder_of_part = folder / f"year={year}" / f"region={region}"
        folder_of_part.mkdir(parents=True)
        pq.write_table(arrow_table().slice(start, length), folder_of_part / "data.parquet")
    return {key: length for key, (_, length) in partitions.items()}


def test_hive_partitioned_folder_adds_partition_columns(
    tmp_path: Path, workspace: Workspace
) -> None:
    expected_counts = write_hive(tmp_path / "hive")
    source = resolve_source(SourceSpec(str(tmp_path / "hive")))
    assert source.hive_partitioned
    workspace.register("current", source)
    columns = workspace.columns("current")
    assert {"year", "region"} <= set(columns)
    assert columns["year"] == "BIGINT"
    assert workspace.query(SELECT_ALL) == EXPECTED
    counts = workspace.query("SELECT year, region, count(*) FROM current GROUP BY ALL ORDER BY ALL")
    assert counts == [(*key, count) for key, count in sorted(expected_counts.items())]
    assert workspace.query("SELECT id FROM current WHERE region = 'south'") == [(3,)]


def test_plain_folder_of_parquet_files_adds_no_columns(
    tmp_path: Path, workspace: Workspace
) -> None:
    (tmp_path / "plain" / "nested").mkdir(parents=True)
    pq.write_table(arrow_table().slice(0, 1), tmp_path / "plain" / "a.parquet")
    pq.write_table(arrow_table().slice(1), tmp_path / "plain" / "nested" / "b.parquet")
    (tmp_path / "plain" / "_SUCCESS").write_text("")  # written by Spark; not data
    source = resolve_source(SourceSpec(str(tmp_path / "plain")))
    assert not source.hive_partitioned
    workspace.register("current", source)
    assert list(workspace.columns("current")) == list(COLUMNS)
    assert workspace.query(SELECT_ALL) == EXPECTED


def test_explicit_format_overrides_the_file_name(tmp_path: Path, workspace: Workspace) -> None:
    pq.write_table(arrow_table(), tmp_path / "export.bin")
    registered(workspace, SourceSpec(str(tmp_path / "export.bin"), format="parquet"))
    assert workspace.query(SELECT_ALL) == EXPECTED


def test_source_spec_parse() -> None:
    assert SourceSpec.parse("data/x.parquet") == SourceSpec("data/x.parquet")
    assert SourceSpec.parse("w.duckdb::scored") == SourceSpec("w.duckdb", "duckdb", "scored")
    assert SourceSpec.parse("a::b.duckdb::t") == SourceSpec("a::b.duckdb", "duckdb", "t")


def test_duckdb_file_view_and_two_tables_of_one_file(tmp_path: Path, workspace: Workspace) -> None:
    spec = write_duckdb_table(tmp_path)
    connection = duckdb.connect(spec.path)
    connection.execute("CREATE TABLE train AS SELECT * FROM scored WHERE id <= 2")
    connection.execute("CREATE VIEW recent AS SELECT * FROM scored WHERE id > 3")
    connection.close()
    workspace.register("current", resolve_source(spec))
    workspace.register("reference", resolve_source(SourceSpec.parse(f"{spec.path}::train")))
    workspace.register("recent", resolve_source(SourceSpec.parse(f"{spec.path}::recent")))
    assert workspace.query(SELECT_ALL) == EXPECTED
    assert workspace.query("SELECT id FROM reference ORDER BY id") == [(1,), (2,)]
    assert workspace.query("SELECT id FROM recent ORDER BY id") == [(4,), (5,)]


def test_missing_duckdb_table_names_the_closest(tmp_path: Path, workspace: Workspace) -> None:
    spec = write_duckdb_table(tmp_path)
    with pytest.raises(InputError) as caught:
        registered(workspace, SourceSpec.parse(f"{spec.path}::scord"))
    assert str(caught.value) == f"{spec.path}: no table 'scord'; did you mean 'scored'?"


def assert_one_line(error: BaseException, *fragments: str) -> None:
    text = str(error)
    assert "\n" not in text and "Traceback" not in text, text
    for fragment in fragments:
        assert fragment in text, (fragment, text)


LOCATION_ERRORS: dict[str, tuple[Callable[[Path], str], str]] = {
    "missing file": (lambda folder: str(folder / "absent.csv"), "no such file or folder"),
    "unknown extension": (
        lambda folder: _touch(folder / "book.xlsx"),
        "cannot tell the format from the file name",
    ),
    "no extension": (lambda folder: _touch(folder / "README"), "cannot tell the format"),
    "unknown extension, how to name it": (
        lambda folder: _touch(folder / "adult.data"),
        "(data: {current: {path: ..., format: FORMAT}}, one of csv,",
    ),
    "empty csv": (lambda folder: _empty(folder / "rows.csv"), "the file is empty"),
    "empty parquet": (lambda folder: _empty(folder / "rows.parquet"), "the file is empty"),
    "empty glob": (lambda folder: str(folder / "*.parquet"), "the pattern matches no files"),
    "folder without parquet": (
        lambda folder: _folder_with(folder / "csvs", "a.csv"),
        "the folder holds no .parquet files",
    ),
    "duckdb without table": (
        lambda folder: _touch(folder / "w.duckdb"),
        "a DuckDB database needs a table",
    ),
    "glob of mixed formats": (
        lambda folder: _folder_with(folder / "mixed", "a.csv", "b.parquet") + "/*",
        "different or unknown formats",
    ),
    "glob of arrow files": (
        lambda folder: _folder_with(folder / "ipc", "a.arrow", "b.arrow") + "/*.arrow",
        "arrow sources must be a single file",
    ),
}


def _touch(path: Path) -> str:
    path.write_text("x")
    return str(path)


def _empty(path: Path) -> str:
    path.write_bytes(b"")
    return str(path)


def _folder_with(folder: Path, *names: str) -> str:
    folder.mkdir()
    for name in names:
        (folder / name).write_text("x")
    return str(folder)


@pytest.mark.parametrize("case", LOCATION_ERRORS)
def test_bad_locations_are_one_line_input_errors(case: str, tmp_path: Path) -> None:
    make_path, reason = LOCATION_ERRORS[case]
    path = make_path(tmp_path)
    with pytest.raises(InputError) as caught:
        resolve_source(SourceSpec(path))
    assert_one_line(caught.value, path, reason)


UNREADABLE_FILES = {
    "rows.parquet": "cannot read",
    "rows.arrow": "not a readable Arrow IPC / Feather file",
    "rows.duckdb::t": "not a readable DuckDB database",
}


@pytest.mark.parametrize("name", UNREADABLE_FILES)
def test_unreadable_files_are_one_line_input_errors(
    name: str, tmp_path: Path, workspace: Workspace
) -> None:
    spec = SourceSpec.parse(str(tmp_path / name))
    Path(spec.path).write_text("not really\nthat format\n")
    with pytest.raises(InputError) as caught:
        registered(workspace, spec)
    assert_one_line(caught.value, spec.path, UNREADABLE_FILES[name])
    assert workspace.query("SELECT count(*) FROM duckdb_views() WHERE view_name = 'current'") == [
        (0,)
    ]


def test_where_filters_rows(tmp_path: Path, workspace: Workspace) -> None:
    registered(workspace, write_parquet(tmp_path), where="score >= 0.5 AND grp IS NOT NULL")
    expected = [row for row in EXPECTED if row[4] >= 0.5 and row[1] is not None]
    assert workspace.query(SELECT_ALL) == expected


def test_where_with_a_trailing_comment(tmp_path: Path, workspace: Workspace) -> None:
    registered(workspace, write_parquet(tmp_path), where="label = 1 -- positives only")
    assert workspace.query("SELECT id FROM current ORDER BY id") == [(1,), (3,), (5,)]


def test_where_on_a_hive_partition_column(tmp_path: Path, workspace: Workspace) -> None:
    write_hive(tmp_path / "hive")
    registered(workspace, SourceSpec(str(tmp_path / "hive")), where="year = 2023")
    assert workspace.row_count("current") == 3


def test_bad_where_names_the_file_and_duckdbs_reason(tmp_path: Path, workspace: Workspace) -> None:
    spec = write_parquet(tmp_path)
    with pytest.raises(InputError) as caught:
        registered(workspace, spec, where="scroe >= 0.5")
    assert_one_line(caught.value, spec.path, "with where: scroe >= 0.5", "Binder Error", "scroe")
    with pytest.raises(InputError) as caught:
        registered(workspace, spec, where="score >=")
    assert_one_line(caught.value, spec.path, "Parser Error")


def test_where_failing_while_reading_is_reported_at_load(
    tmp_path: Path, workspace: Workspace
) -> None:
    spec = write_parquet(tmp_path)
    with pytest.raises(InputError) as caught:
        load_dataset(
            workspace,
            "current",
            spec,
            ColumnRoles(label="label", score="score", threshold=0.5),
            where="CAST(note AS INTEGER) > 0",
        )
    assert_one_line(caught.value, spec.path, "with where: CAST(note AS INTEGER) > 0", "Conversion")


def test_csv_value_beyond_the_type_sample_is_reported_at_load(
    tmp_path: Path, workspace: Workspace
) -> None:
    # DuckDB guesses column types from the first rows; "unknown" far below does not fit BIGINT.
    lines = ["zip,label,decision", *["12345,1,1"] * 30_000, "unknown,0,1"]
    (tmp_path / "late.csv").write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError) as caught:
        load_file(
            workspace, tmp_path / "late.csv", ColumnRoles(label="label", prediction="decision")
        )
    assert_one_line(caught.value, "late.csv", "Line: 30002", '"zip"', "unknown")


def test_ragged_csv_read_as_one_column_names_the_line(tmp_path: Path, workspace: Workspace) -> None:
    (tmp_path / "ragged.csv").write_text("label,decision\n1,1\n0,1,extra\n1,0\n")
    with pytest.raises(InputError) as caught:
        load_file(
            workspace, tmp_path / "ragged.csv", ColumnRoles(label="label", prediction="decision")
        )
    # One line about the row at fault, not one per role whose column "was not found".
    assert_one_line(caught.value, "ragged.csv", "Line: 3", "Expected Number of Columns: 2 Found: 3")


def test_ragged_csv_is_reported_even_without_roles(tmp_path: Path, workspace: Workspace) -> None:
    # What ``auditkit init`` loads: no role could name a missing column.
    (tmp_path / "ragged.tsv").write_text("a\tb\tc\n1\t2\t3\n1\t2\n")
    with pytest.raises(InputError) as caught:
        load_file(workspace, tmp_path / "ragged.tsv", ColumnRoles(), require_decisions=False)
    assert_one_line(caught.value, "ragged.tsv", "Line: 3", "Expected Number of Columns: 3 Found: 2")


def test_short_row_that_defeats_the_sniffer_names_its_line(
    tmp_path: Path, workspace: Workspace
) -> None:
    # A row with a field missing among thousands of good ones: DuckDB's sniffer gives up on the
    # whole file without saying where.
    good = ["1,0,White,F"] * 3000
    lines = ["label,decision,race,sex", *good, "1,0,Black", *good]
    (tmp_path / "export.csv").write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError) as caught:
        load_file(
            workspace, tmp_path / "export.csv", ColumnRoles(label="label", prediction="decision")
        )
    assert_one_line(
        caught.value, "export.csv", "Line: 3002", "Expected Number of Columns: 4 Found: 3"
    )


def test_single_column_csv_with_a_quoted_delimiter_in_its_header_reads(
    tmp_path: Path, workspace: Workspace
) -> None:
    (tmp_path / "one.csv").write_text('"label,observed"\n1\n0\n')
    dataset = load_file(workspace, tmp_path / "one.csv", ColumnRoles(), require_decisions=False)
    assert dataset.row_count == 2


def test_resolved_source_of_a_single_file(tmp_path: Path) -> None:
    spec = write_parquet(tmp_path)
    source = resolve_source(spec)
    assert source == ResolvedSource(
        spec, "parquet", (tmp_path / "rows.parquet",), tmp_path, str(tmp_path / "rows.parquet")
    )


@pytest.mark.shared_data
def test_real_compas_csv_reads_like_pythons_csv_module(
    shared_data: Path, workspace: Workspace
) -> None:
    path = shared_data / "compas-scores-two-years.csv"
    if not path.is_file():
        pytest.skip(f"{path.name} is not in {shared_data}")
    with path.open(newline="") as handle:
        header, *rows = list(csv.reader(handle))
    dataset = load_file(
        workspace,
        path,
        ColumnRoles(label="two_year_recid", score="decile_score", threshold=5, sensitive=("race",)),
    )
    assert dataset.row_count == len(rows) == 7214
    assert dataset.null_counts == {"label": 0, "score": 0}
    # The header names decile_score and priors_count twice; DuckDB keeps both, renaming the second.
    assert len(dataset.schema) == len(header)
    assert {"decile_score_1", "priors_count_1"} <= set(dataset.schema)
    second_decile = [row[len(header) - 1 - header[::-1].index("decile_score")] for row in rows]
    read = workspace.query("SELECT CAST(decile_score_1 AS VARCHAR) FROM current")
    assert [value for (value,) in read] == second_decile
    decile = header.index("decile_score")
    by_race: dict[str, int] = {}
    for row in rows:
        by_race[row[header.index("race")]] = by_race.get(row[header.index("race")], 0) + (
            int(row[decile]) >= 5
        )
    positives = workspace.query(
        f"SELECT race, sum({dataset.decision_sql}) FROM current GROUP BY race ORDER BY race"
    )
    assert positives == sorted(by_race.items())
    assert dataset.fingerprint().sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_genuine_single_column_with_a_comma_in_its_name_loads(
    tmp_path: Path, workspace: Workspace
) -> None:
    (tmp_path / "one.csv").write_text('"score, final"\n0.2\n0.7\n')
    dataset = load_file(
        workspace, tmp_path / "one.csv", ColumnRoles(score="score, final"), require_decisions=False
    )
    assert dataset.schema == {"score, final": "DOUBLE"}


def test_a_long_row_the_sniffer_takes_for_the_header_names_its_line(
    tmp_path: Path, workspace: Workspace
) -> None:
    # DuckDB's sniffer reads the widest row as the header: the roles' columns would be "not found".
    (tmp_path / "wide.tsv").write_text("g\tp\ty\nA\t1\t0\nB\t0\t1\t5\n")
    with pytest.raises(InputError) as caught:
        load_file(
            workspace,
            tmp_path / "wide.tsv",
            ColumnRoles(label="y", prediction="p", sensitive=("g",)),
        )
    assert_one_line(caught.value, "wide.tsv", "Line: 3", "Expected Number of Columns: 3 Found: 4")
