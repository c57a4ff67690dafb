"""The workspace keeps datasets as views over their files (never copies), applies its settings,
streams results, and renders SQL names and literals that DuckDB reads back unchanged."""

from __future__ import annotations

import enum
import math
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auditkit.data import SourceSpec, Workspace
from auditkit.data.sources import resolve_source
from auditkit.data.sql import quote_identifier, quote_literal
from auditkit.data.workspace import duckdb_message
from auditkit.errors import InputError


def write_ids(path: Path, first: int, count: int) -> Path:
    ids = list(range(first, first + count))
    pq.write_table(pa.table({"id": ids, "half": [i % 2 == 0 for i in ids]}), path)
    return path


def register(workspace: Workspace, path: Path | str, name: str = "current") -> None:
    workspace.register(name, resolve_source(SourceSpec(str(path))))


def test_a_registered_dataset_is_a_view_over_the_file(tmp_path: Path, workspace: Workspace) -> None:
    path = write_ids(tmp_path / "rows.parquet", 0, 10)
    register(workspace, path)
    assert workspace.query("SELECT count(*) FROM duckdb_tables()") == [(0,)]
    assert workspace.query("SELECT view_name FROM duckdb_views() WHERE NOT internal") == [
        ("current",)
    ]
    # Nothing was copied: the view reads whatever the file holds now.
    write_ids(path, 100, 25)
    assert workspace.row_count("current") == 25
    assert workspace.query("SELECT min(id) FROM current") == [(100,)]


def test_register_replaces_a_view_and_records_its_source(
    tmp_path: Path, workspace: Workspace
) -> None:
    first = write_ids(tmp_path / "first.parquet", 0, 3)
    second = write_ids(tmp_path / "second.parquet", 0, 7)
    register(workspace, first)
    register(workspace, second)
    assert workspace.row_count("current") == 7
    assert workspace.sources["current"].files == (second,)


@pytest.mark.parametrize("name", ["", "1st", "with space", "dash-ed", 'x"; DROP TABLE y; --'])
def test_invalid_dataset_names(name: str, tmp_path: Path, workspace: Workspace) -> None:
    path = write_ids(tmp_path / "rows.parquet", 0, 3)
    with pytest.raises(InputError) as caught:
        register(workspace, path, name)
    assert str(caught.value) == f"{name!r} is not a valid dataset name (letters, digits and _)"
    assert workspace.sources == {}


def test_columns_row_count_and_query(tmp_path: Path, workspace: Workspace) -> None:
    register(workspace, write_ids(tmp_path / "rows.parquet", 0, 10))
    assert workspace.columns("current") == {"id": "BIGINT", "half": "BOOLEAN"}
    assert workspace.row_count("current") == 10
    assert workspace.query("SELECT count(*) FROM current WHERE id >= ? AND half", [4]) == [(3,)]


def test_settings_are_applied(tmp_path: Path) -> None:
    with Workspace(threads=1, memory_limit="512MB", temp_directory=str(tmp_path / "spill")) as ws:
        rows = ws.query(
            "SELECT current_setting('threads'), current_setting('memory_limit'), "
            "current_setting('temp_directory'), current_setting('preserve_insertion_order')"
        )
    plain = duckdb.connect()
    plain.execute("SET memory_limit = '512MB'")
    (memory_limit,) = plain.execute("SELECT current_setting('memory_limit')").fetchone() or ("",)
    assert rows == [(1, memory_limit, str(tmp_path / "spill"), True)]


def test_closing_the_workspace_closes_the_connection(tmp_path: Path) -> None:
    with Workspace() as workspace:
        register(workspace, write_ids(tmp_path / "rows.parquet", 0, 3))
    with pytest.raises(duckdb.ConnectionException):
        workspace.query("SELECT 1")


def test_a_database_file_workspace_keeps_no_data(tmp_path: Path) -> None:
    path = write_ids(tmp_path / "rows.parquet", 0, 1000)
    database = tmp_path / "workspace.duckdb"
    with Workspace(str(database)) as workspace:
        register(workspace, path)
    with Workspace(str(database)) as reopened:
        # The view definition persists, and still reads the Parquet file.
        assert reopened.row_count("current") == 1000
        assert reopened.query("SELECT count(*) FROM duckdb_tables()") == [(0,)]


def test_rows_keep_the_files_order(tmp_path: Path) -> None:
    parts = tmp_path / "parts"
    parts.mkdir()
    for index in range(4):
        write_ids(parts / f"part-{index}.parquet", index * 60_000, 60_000)
    with Workspace(threads=2) as workspace:
        register(workspace, parts / "*.parquet")
        ids = [row_id for (row_id,) in workspace.query("SELECT id FROM current")]
    assert ids == list(range(240_000))


def test_record_batches_stream_every_row_in_order(tmp_path: Path, workspace: Workspace) -> None:
    register(workspace, write_ids(tmp_path / "rows.parquet", 0, 1000))
    workspace.query("SELECT 1")  # an open result must not block streaming
    reader = workspace.record_batches("SELECT id FROM current", 300)
    batches = list(reader)
    assert all(batch.num_rows <= 300 for batch in batches)
    assert [i for batch in batches for i in batch.column("id").to_pylist()] == list(range(1000))


def duckdb_error(sql: str) -> duckdb.Error:
    with pytest.raises(duckdb.Error) as caught:
        duckdb.connect().execute(sql)
    return caught.value


def test_duckdb_message_is_the_first_line() -> None:
    error = duckdb_error("SELECT missing_column FROM range(3)")
    assert "\n" in str(error)  # DuckDB adds a caret diagram below
    message = duckdb_message(error)
    assert message == str(error).splitlines()[0]
    assert message.startswith("Binder Error: ") and "missing_column" in message


def test_duckdb_message_keeps_the_reason_of_a_csv_error(tmp_path: Path) -> None:
    lines = ["zip,n", *["12345,1"] * 30_000, "unknown,1"]
    (tmp_path / "late.csv").write_text("\n".join(lines) + "\n")
    error = duckdb_error(f"SELECT sum(zip) FROM read_csv('{tmp_path / 'late.csv'}')")
    message = duckdb_message(error)
    assert "\n" not in message
    assert message.startswith("Conversion Error: CSV Error on Line: 30002: ")
    assert 'column "zip"' in message and '"unknown"' in message and "BIGINT" in message


def test_duckdb_message_of_a_csv_that_cannot_be_sniffed(tmp_path: Path) -> None:
    (tmp_path / "ragged.tsv").write_text("a\tb\n1\t2\n3\t4\t5\n6\t7\n")
    error = duckdb_error(f"SELECT * FROM read_csv('{tmp_path / 'ragged.tsv'}', delim = '\t')")
    message = duckdb_message(error)
    assert "\n" not in message
    assert message.startswith("Invalid Input Error: Error when sniffing file")
    assert message.endswith(": It was not possible to automatically detect the CSV parsing dialect")


def test_duckdb_message_of_an_empty_error() -> None:
    assert duckdb_message(duckdb.InvalidInputException("")) == "InvalidInputException"


SHARED_CONNECTION = duckdb.connect()
"""One connection for the many generated examples below (opening one per example is slow)."""

NAMES = st.text(
    alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\x00"),
    min_size=1,
    max_size=30,
)


@settings(max_examples=100, deadline=None)
@given(name=NAMES)
def test_quote_identifier_round_trips_through_duckdb(name: str) -> None:
    connection = SHARED_CONNECTION
    connection.execute(f"CREATE OR REPLACE TABLE t ({quote_identifier(name)} INTEGER)")
    connection.execute(f"INSERT INTO t ({quote_identifier(name)}) VALUES (7)")
    assert connection.execute("SELECT column_name FROM (DESCRIBE t)").fetchall() == [(name,)]
    assert connection.execute(f"SELECT {quote_identifier(name)} FROM t").fetchall() == [(7,)]


SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False),
    st.text(alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\x00")),
)


@settings(max_examples=200, deadline=None)
@given(value=SCALARS)
def test_quote_literal_round_trips_through_duckdb(value: Any) -> None:
    (read_back,) = SHARED_CONNECTION.execute(f"SELECT {quote_literal(value)}").fetchone() or (None,)
    if isinstance(value, float):
        assert float(read_back) == value
    else:
        assert read_back == value
        assert type(read_back) is type(value)


class Level(enum.IntEnum):
    HIGH = 3


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (np.float64(0.25), 0.25),
        (np.int64(-7), -7),
        (np.bool_(True), True),
        (Level.HIGH, 3),
        (float("inf"), math.inf),
        (float("-inf"), -math.inf),
    ],
)
def test_quote_literal_of_numpy_enum_and_infinite_values(value: Any, expected: Any) -> None:
    rendered = quote_literal(value)
    (read_back,) = duckdb.connect().execute(f"SELECT {rendered}").fetchone() or (None,)
    assert read_back == expected


def test_quote_literal_of_nan() -> None:
    (read_back,) = duckdb.connect().execute(f"SELECT {quote_literal(math.nan)}").fetchone() or (0,)
    assert math.isnan(read_back)


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda numpy: numpy.True_, True),
        (lambda numpy: numpy.False_, False),
        (lambda numpy: numpy.int64(-3), -3),
    ],
    ids=["true", "false", "int64"],
)
def test_quote_literal_takes_numpy_scalars(make: Any, expected: Any) -> None:
    import numpy

    literal = quote_literal(make(numpy))
    (read_back,) = SHARED_CONNECTION.execute(f"SELECT {literal}").fetchone() or (None,)
    assert read_back == expected and type(read_back) is type(expected)
