"""Records kept in segment tables: appends that do not rewrite the whole trail, one chain across the
segments, and a version-1 store (one table) moved into segments when it is next written."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from auditkit.trail import TrailStore, layout
from auditkit.trail.layout import segment_of
from tests.trail.test_chain import run_document, stored_rows, tamper

SMALL_SEGMENT = 4
"""Records per segment in these tests, so that ten records fill three segments."""


@pytest.fixture(autouse=True)
def small_segments(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(layout, "SEGMENT_RECORDS", SMALL_SEGMENT)


def segment_sizes(path: Path) -> dict[str, int]:
    connection = duckdb.connect(str(path), read_only=True)
    try:
        tables = connection.execute(
            "SELECT table_name, estimated_size FROM duckdb_tables() "
            "WHERE starts_with(table_name, 'trail_records') ORDER BY table_name"
        ).fetchall()
        return {
            str(name): int(connection.execute(f"SELECT count(*) FROM {name}").fetchone()[0])  # type: ignore[index]
            for name, _size in tables
        }
    finally:
        connection.close()


def appended(path: Path, count: int) -> TrailStore:
    trail = TrailStore(path, lock_timeout=5)
    for number in range(1, count + 1):
        trail.append_run(run_document(number))
    return trail


def test_records_fill_one_segment_after_another_and_chain_across_them(tmp_path: Path) -> None:
    trail = appended(tmp_path / "audit.duckdb", 10)
    assert segment_sizes(trail.path) == {
        "trail_records_000000": 4,
        "trail_records_000001": 4,
        "trail_records_000002": 2,
    }
    assert segment_of(4) == "trail_records_000000" and segment_of(5) == "trail_records_000001"
    verification = trail.verify()
    assert verification.intact and verification.count == 10
    assert [row[0] for row in stored_rows(trail)] == list(range(1, 11))
    assert trail.load_run("latest").document == run_document(10)
    assert trail.load_run(str(run_document(2)["run_id"])).document == run_document(2)


def test_a_record_edited_in_a_later_segment_is_detected(tmp_path: Path) -> None:
    trail = appended(tmp_path / "audit.duckdb", 10)
    connection = duckdb.connect(str(trail.path))
    try:
        connection.execute(
            f"""UPDATE {segment_of(6)} SET payload = replace(payload, '"pass"', '"fail"') WHERE seq = 6"""
        )
    finally:
        connection.close()
    verification = trail.verify()
    assert verification.broken_seq == 6 and verification.count == 5


def test_a_dropped_segment_leaves_its_records_missing_from_the_chain(tmp_path: Path) -> None:
    trail = appended(tmp_path / "audit.duckdb", 10)
    head = trail.verify().head
    tamper(trail, f"DROP TABLE {segment_of(5)}")
    verification = trail.verify()
    assert not verification.intact and verification.broken_seq == 9
    assert "records 5 to 8 are missing" in (verification.problem or "")
    tamper(trail, f"DROP TABLE {segment_of(9)}")
    assert trail.verify().intact, "the first segment alone is a consistent, shorter chain"
    assert not trail.verify(expect_head=head).intact


def as_version_1(path: Path) -> list[tuple]:  # type: ignore[type-arg]
    """Rewrite a store into the layout of schema version 1 (one ``trail_records`` table)."""
    connection = duckdb.connect(str(path))
    try:
        segments = [
            str(row[0])
            for row in connection.execute(
                "SELECT table_name FROM duckdb_tables() WHERE starts_with(table_name, 'trail_records_')"
            ).fetchall()
        ]
        connection.execute("DROP VIEW trail_records")
        connection.execute(
            f"CREATE TABLE trail_records {layout._RECORD_COLUMNS}"  # the old table's columns
        )
        for segment in segments:
            connection.execute(f"INSERT INTO trail_records SELECT * FROM {segment}")
            connection.execute(f"DROP TABLE {segment}")
        connection.execute("UPDATE trail_meta SET value = '1' WHERE key = 'schema_version'")
        return connection.execute("SELECT * FROM trail_records ORDER BY seq").fetchall()
    finally:
        connection.close()


def test_a_version_1_store_is_read_as_it_is_and_moved_into_segments_when_written(
    tmp_path: Path,
) -> None:
    trail = appended(tmp_path / "audit.duckdb", 6)
    rows = as_version_1(trail.path)
    assert segment_sizes(trail.path) == {"trail_records": 6}
    assert trail.verify().intact and trail.verify().count == 6  # read without writing

    trail.append_run(run_document(7))

    assert segment_sizes(trail.path) == {"trail_records_000000": 4, "trail_records_000001": 3}
    assert stored_rows(trail)[:6] == rows, "every record moved as it was"
    verification = trail.verify()
    assert verification.intact and verification.count == 7
    connection = duckdb.connect(str(trail.path), read_only=True)
    try:
        version = connection.execute(
            "SELECT value FROM trail_meta WHERE key = 'schema_version'"
        ).fetchone()
    finally:
        connection.close()
    assert version == (str(layout.SCHEMA_VERSION),)


def test_the_file_holds_a_view_of_every_record_for_sql_alone(tmp_path: Path) -> None:
    trail = appended(tmp_path / "audit.duckdb", 10)
    connection = duckdb.connect(str(trail.path), read_only=True)
    try:
        seqs = connection.execute("SELECT seq FROM trail_records ORDER BY seq").fetchall()
    finally:
        connection.close()
    assert [seq for (seq,) in seqs] == list(range(1, 11))
