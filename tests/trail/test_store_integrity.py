"""Tampering that goes around the hash chain rather than through it: objects added to the file that
change what the store's queries return (macros, views, tables named like segments), records hidden
from verification by where they are kept, and a version-1 store moved into segments."""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

import duckdb
import pytest

from auditkit.cli.main import main
from auditkit.errors import ExitCode
from auditkit.trail import TrailError, TrailStore, layout
from auditkit.trail.layout import segment_of
from auditkit.trail.records import COLUMNS
from tests.trail.test_chain import run_document, stored_rows
from tests.trail.test_segments import appended, as_version_1, segment_sizes

SMALL_SEGMENT = 4


@pytest.fixture(autouse=True)
def small_segments(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(layout, "SEGMENT_RECORDS", SMALL_SEGMENT)


def on_file(path: Path, *statements: str) -> None:
    connection = duckdb.connect(str(path))
    try:
        for statement in statements:
            connection.execute(statement)
    finally:
        connection.close()


def schema_version(path: Path) -> str:
    connection = duckdb.connect(str(path), read_only=True)
    try:
        row = connection.execute(
            "SELECT value FROM trail_meta WHERE key = 'schema_version'"
        ).fetchone()
    finally:
        connection.close()
    assert row is not None
    return str(row[0])


FORGED_WHEN_READ_BY_RUN = (
    "SELECT seq, record_id, kind, run_id, created, tool_version, "
    "CASE WHEN contains(current_query(), 'run_id = ?') "
    """THEN replace(payload, '"pass"', '"fail"') ELSE payload END AS payload, """
    "payload_sha256, prev_hash, record_hash FROM main.{table}"
)
"""Records that show a forged payload to a query looking a run up, and the genuine one to the
query that verifies the chain."""


# Macros: a macro stored in the file replaces a built-in function of the same name ---------------


def test_a_macro_that_hides_a_signoff_from_history_is_refused(tmp_path: Path) -> None:
    trail = appended(tmp_path / "audit.duckdb", 3)
    rejected = str(run_document(2)["run_id"])
    trail.append_signoff(rejected, reviewer="rita", decision="reject", comment="biased")
    assert [run.signoffs for run in trail.recent_runs() if run.run_id == rejected] != [[]]
    on_file(
        trail.path,
        "CREATE MACRO list_contains(l, x) AS list_position(l, x) IS NOT NULL "
        f"AND x <> '{rejected}'",
    )
    verification = trail.verify()
    assert not verification.intact
    assert "macro" in (verification.problem or "") and "list_contains" in (
        verification.problem or ""
    )
    with pytest.raises(TrailError, match="list_contains"):
        trail.recent_runs()
    with pytest.raises(TrailError, match="list_contains"):
        trail.append_run(run_document(9))
    assert main(["trail", "verify", "--store", str(trail.path)]) == ExitCode.VIOLATIONS
    assert main(["history", "--store", str(trail.path)]) == ExitCode.VIOLATIONS


def test_a_macro_that_makes_the_records_read_differently_by_query_is_refused(
    tmp_path: Path,
) -> None:
    trail = appended(tmp_path / "audit.duckdb", 3)
    injected = "(" + FORGED_WHEN_READ_BY_RUN.format(table=segment_of(1)) + ")"
    quoted = injected.replace("'", "''")
    on_file(
        trail.path,
        "CREATE MACRO duckdb_tables() AS TABLE SELECT * REPLACE ("
        f"CASE WHEN table_name = '{segment_of(1)}' THEN '{quoted}' "
        "ELSE table_name END AS table_name) FROM system.main.duckdb_tables()",
        "CREATE MACRO regexp_full_match(text, pattern) AS starts_with(text, '(')",
    )
    run_id = str(run_document(2)["run_id"])
    verification = trail.verify()
    assert not verification.intact, "the chain verified while a run reads back forged"
    with pytest.raises(TrailError):
        trail.load_run(run_id)


# Views and tables: what the records are read from ------------------------------------------------


def test_a_store_marked_version_1_is_not_read_through_a_view(tmp_path: Path) -> None:
    """A version-2 store holds a stored ``trail_records`` view; marked as version 1, it would be
    read through that view, which can be anything."""
    trail = appended(tmp_path / "audit.duckdb", 3)
    on_file(
        trail.path,
        "CREATE OR REPLACE VIEW trail_records AS "
        + FORGED_WHEN_READ_BY_RUN.format(table=segment_of(1)),
        "UPDATE trail_meta SET value = '1' WHERE key = 'schema_version'",
    )
    verification = trail.verify()
    assert not verification.intact and "view" in (verification.problem or "")
    with pytest.raises(TrailError, match="view"):
        trail.load_run(str(run_document(2)["run_id"]))


def test_tables_named_like_segments_in_another_schema_are_not_read(tmp_path: Path) -> None:
    trail = appended(tmp_path / "audit.duckdb", 6)
    on_file(
        trail.path,
        "CREATE SCHEMA elsewhere",
        f"CREATE TABLE elsewhere.{segment_of(1)} AS SELECT * FROM main.{segment_of(1)}",
        f"CREATE TABLE elsewhere.{segment_of(100)} AS SELECT * FROM main.{segment_of(1)}",
    )
    verification = trail.verify()
    assert verification.intact and verification.count == 6
    assert [row[0] for row in stored_rows(trail)] == [1, 2, 3, 4, 5, 6]
    trail.append_run(run_document(7))
    assert trail.verify().count == 7


def test_a_segment_renamed_in_capitals_is_still_read_and_appended_after(tmp_path: Path) -> None:
    """Table names are case-insensitive in DuckDB: a segment renamed TRAIL_RECORDS_000001 is the
    same name to a CREATE TABLE, so it must be the same segment to the reader."""
    trail = appended(tmp_path / "audit.duckdb", 6)
    on_file(trail.path, f"ALTER TABLE {segment_of(5)} RENAME TO {segment_of(5).upper()}")
    assert trail.verify().count == 6, "the renamed segment's records were hidden"
    trail.append_run(run_document(7))
    verification = trail.verify()
    assert verification.intact and verification.count == 7


def test_a_segment_with_other_columns_is_reported(tmp_path: Path) -> None:
    trail = appended(tmp_path / "audit.duckdb", 6)
    columns = ", ".join("CAST(seq AS VARCHAR) AS seq" if c == "seq" else c for c in COLUMNS)
    on_file(
        trail.path,
        f"CREATE TABLE moved AS SELECT {columns} FROM {segment_of(5)}",
        f"DROP TABLE {segment_of(5)}",
        f"ALTER TABLE moved RENAME TO {segment_of(5)}",
    )
    verification = trail.verify()
    assert not verification.intact and segment_of(5) in (verification.problem or "")


def test_the_same_seq_in_two_segments_is_reported(tmp_path: Path) -> None:
    trail = appended(tmp_path / "audit.duckdb", 6)
    on_file(
        trail.path,
        f"CREATE TABLE {segment_of(41)} AS SELECT * FROM {segment_of(5)} WHERE seq = 5",
    )
    verification = trail.verify()
    assert not verification.intact and verification.broken_seq == 5 and verification.count == 5
    assert "out of sequence" in (verification.problem or "")


def test_a_record_kept_in_another_segment_than_its_seq_names_still_verifies_in_order(
    tmp_path: Path,
) -> None:
    """Where a record is kept does not matter to the chain: records are read in seq order."""
    trail = appended(tmp_path / "audit.duckdb", 6)
    on_file(
        trail.path,
        f"INSERT INTO {segment_of(1)} SELECT * FROM {segment_of(5)} WHERE seq = 6",
        f"DELETE FROM {segment_of(5)} WHERE seq = 6",
    )
    verification = trail.verify()
    assert verification.intact and verification.count == 6


# Moving a version-1 store into segments ----------------------------------------------------------


@pytest.mark.parametrize(
    ("tampered_seq", "broken_seq"),
    [(1_000_000_000, 1_000_000_000), (-3, -3)],
    ids=["far beyond the others", "below one"],
)
def test_a_tampered_version_1_record_stays_visible_after_the_move(
    tmp_path: Path, tampered_seq: int, broken_seq: int
) -> None:
    """A record moved into segments must still be read, or the move would launder the tampering it
    shows: a seq far beyond the others names a segment with more than six digits, one below 1 goes
    to the first segment."""
    trail = appended(tmp_path / "audit.duckdb", 6)
    as_version_1(trail.path)
    seq = 6 if tampered_seq > 0 else 3
    on_file(trail.path, f"UPDATE trail_records SET seq = {tampered_seq} WHERE seq = {seq}")
    before = trail.verify()
    assert not before.intact and before.broken_seq == broken_seq

    trail.append_report("latest", [])

    after = trail.verify()
    assert not after.intact and (after.broken_seq, after.problem) == (
        before.broken_seq,
        before.problem,
    )
    assert sum(segment_sizes(trail.path).values()) == 7


def test_a_version_1_store_already_holding_segment_tables_is_not_moved(tmp_path: Path) -> None:
    trail = appended(tmp_path / "audit.duckdb", 6)
    rows = as_version_1(trail.path)
    on_file(trail.path, f"CREATE TABLE {segment_of(1)} {layout._RECORD_COLUMNS}")
    with pytest.raises(TrailError, match=segment_of(1)):
        trail.append_run(run_document(7))
    assert schema_version(trail.path) == "1"
    assert stored_rows_v1(trail.path) == rows


def stored_rows_v1(path: Path) -> list[tuple]:  # type: ignore[type-arg]
    connection = duckdb.connect(str(path), read_only=True)
    try:
        return connection.execute("SELECT * FROM main.trail_records ORDER BY seq").fetchall()
    finally:
        connection.close()


def test_a_move_that_fails_half_way_leaves_the_version_1_store_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    trail = appended(tmp_path / "audit.duckdb", 10)
    rows = as_version_1(trail.path)

    def failing(*_args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(layout, "_store_view", failing)  # after every segment is filled
    with pytest.raises(OSError, match="disk full"):
        trail.append_run(run_document(11))
    assert segment_sizes(trail.path) == {"trail_records": 10}
    assert schema_version(trail.path) == "1"
    assert stored_rows_v1(trail.path) == rows
    monkeypatch.undo()
    trail.append_run(run_document(11))
    assert trail.verify().count == 11


def test_reading_a_version_1_store_leaves_the_file_as_it_was(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    trail = appended(tmp_path / "audit.duckdb", 6)
    as_version_1(trail.path)
    before = trail.path.read_bytes()
    store = str(trail.path)
    assert main(["history", "--store", store]) == ExitCode.OK
    assert main(["diff", "latest~1", "latest", "--store", store]) == ExitCode.OK
    assert main(["trail", "verify", "--store", store]) == ExitCode.OK
    assert "6 records" in capsys.readouterr().out
    assert trail.load_run("latest~2").document == run_document(4)
    assert trail.anchor()["records"] == 6
    assert trail.path.read_bytes() == before and schema_version(trail.path) == "1"


def version_1_store(path: Path, count: int) -> None:
    """A version-1 store of ``count`` chained records."""
    TrailStore(path, lock_timeout=5).append_run(run_document(1))
    as_version_1(path)
    on_file(path, "DELETE FROM trail_records")
    connection = duckdb.connect(str(path))
    try:
        connection.executemany(
            f"INSERT INTO trail_records VALUES ({', '.join('?' for _ in COLUMNS)})",
            _chained_rows(count),
        )
    finally:
        connection.close()


def append_one(store: str) -> None:
    TrailStore(Path(store), lock_timeout=60).append_run(run_document(99))


@pytest.mark.slow
def test_readers_in_another_process_see_the_store_before_or_after_the_move(
    tmp_path: Path,
) -> None:
    path = tmp_path / "audit.duckdb"
    version_1_store(path, 300)
    reader = TrailStore(path, lock_timeout=60)
    writer = multiprocessing.get_context("spawn").Process(target=append_one, args=(str(path),))
    writer.start()
    seen = []
    while writer.is_alive() or not seen:
        verification = reader.verify()
        assert verification.intact, verification.problem
        seen.append((verification.count, len(reader.recent_runs(1))))
        time.sleep(0.02)  # a reader reading back to back would starve the writer of its lock
    writer.join(timeout=60)
    assert writer.exitcode == 0
    assert set(seen) <= {(300, 1), (301, 1)}
    assert reader.verify().count == 301 and schema_version(path) == "2"


def test_moving_a_large_version_1_store_takes_little_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(layout, "SEGMENT_RECORDS", 64)
    path = tmp_path / "audit.duckdb"
    version_1_store(path, 500)
    trail = TrailStore(path, lock_timeout=5)
    started = time.perf_counter()
    trail.append_run(run_document(99))
    elapsed = time.perf_counter() - started
    verification = trail.verify()
    assert verification.intact and verification.count == 501
    assert len(segment_sizes(path)) == 8
    assert elapsed < 5, f"moving 500 records took {elapsed:.2f} s"


def _chained_rows(count: int) -> list[tuple]:  # type: ignore[type-arg]
    from auditkit.trail.records import GENESIS, payload_text, seal

    rows, previous = [], GENESIS
    for seq in range(1, count + 1):
        document = run_document(seq % 60)
        record = seal(
            seq=seq,
            record_id=f"r{seq}",
            kind="check",
            run_id=f"run-{seq}",
            created=str(document["created"]),
            tool_version="0",
            payload=payload_text(document),
            prev_hash=previous,
        )
        rows.append(record.row())
        previous = record.record_hash
    return rows
