"""The store file's layout: its schema version, the segment tables that hold the records, the checks
that the file holds nothing else that could change what is read, and the migrations between versions.

The records are kept in segment tables of :data:`SEGMENT_RECORDS` records each (``trail_records_000000``,
``trail_records_000001``, ...), read together through the view ``trail_records`` that every connection
makes of the segments the file holds. DuckDB writes a table's last row group back to the file whole
whenever it checkpoints, and a row group holds 122,880 rows: in one table, every append rewrote every
record before it, so appending took longer as the trail grew. A segment bounds that to its own records.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from auditkit import __version__
from auditkit.trail.errors import TrailAltered, TrailError
from auditkit.trail.records import COLUMNS, GENESIS, HASH_SCHEME

if TYPE_CHECKING:
    import duckdb

SCHEMA_VERSION = 2
RECORDS = "trail_records"
"""Every record, whichever segment holds it: a table in a version-1 store, a view from version 2 (stored
in the file, and made again by every connection of this code from the segments present)."""
META = "trail_meta"
SEGMENT_RECORDS = 64
"""Records per segment table: appending rewrites at most this many records (a few megabytes)."""
_SEGMENT_NAME = RECORDS + "_{:06d}"
_SEGMENT_PATTERN = "(?i)" + RECORDS + "_([0-9]{6,})"
"""Any number of digits from six (a segment past the millionth has seven), in any case: DuckDB's
names are case-insensitive, so TRAIL_RECORDS_000001 is the segment trail_records_000001 to every
statement, and must be read as one rather than hidden from verification."""
_COLUMN_TYPES = tuple("BIGINT" if column == "seq" else "VARCHAR" for column in COLUMNS)
_RECORD_COLUMNS = """(
    seq BIGINT PRIMARY KEY,
    record_id VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    run_id VARCHAR NOT NULL,
    created VARCHAR NOT NULL,
    tool_version VARCHAR NOT NULL,
    payload VARCHAR NOT NULL,
    payload_sha256 VARCHAR NOT NULL,
    prev_hash VARCHAR NOT NULL,
    record_hash VARCHAR NOT NULL
)"""


def segment_of(seq: int) -> str:
    """The name of the segment table that holds (or will hold) record ``seq``."""
    return _SEGMENT_NAME.format(max(0, (seq - 1) // SEGMENT_RECORDS))


def prepare_for_writing(connection: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Create the tables of a new store, or bring an older store's schema up to date; then view
    the segments as ``trail_records``."""
    if META not in _tables(connection):
        _create_schema(connection)
    else:
        version = _check_schema(connection, path)
        while version < SCHEMA_VERSION:
            _MIGRATIONS[version](connection, path)
            version += 1
            connection.execute(
                f"UPDATE {META} SET value = ? WHERE key = 'schema_version'", [str(version)]
            )
    view_records(connection)


def _tables(connection: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """The base tables of the store's main schema, by lower-case name (DuckDB's names are
    case-insensitive): the only place this code reads or writes tables.

    The catalog functions are named with their schema, ``system.main``: a macro stored in the file
    under the same name would otherwise replace them (see :func:`_refuse_macros`).
    """
    rows = connection.execute(
        "SELECT table_name FROM system.main.duckdb_tables() "
        "WHERE database_name = system.main.current_database() AND schema_name = 'main'"
    ).fetchall()
    return {str(name).lower(): str(name) for (name,) in rows}


def _segments(connection: duckdb.DuckDBPyConnection) -> list[str]:
    """The segment tables of the store (their names as the file spells them), in order."""
    pattern = re.compile(_SEGMENT_PATTERN)
    numbered = [
        (int(match.group(1)), name)
        for name in _tables(connection).values()
        if (match := pattern.fullmatch(name))
    ]
    return [name for _number, name in sorted(numbered)]


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _refuse_macros(connection: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Refuse a file that holds a macro: auditkit never makes one, and a macro stored in the file
    replaces the built-in function of the same name in every query (``list_contains``, ``-``,
    ``duckdb_tables``), so that what is read is no longer what verification checked."""
    rows = connection.execute(
        "SELECT function_type, function_name FROM system.main.duckdb_functions() "
        "WHERE database_name = system.main.current_database() AND NOT internal "
        "ORDER BY function_name"
    ).fetchall()
    if rows:
        named = ", ".join(f"{kind.replace('_', ' ')} {name!r}" for kind, name in rows)
        raise TrailAltered(
            path,
            f"the store holds {named}, which auditkit never creates and which changes what the store's "
            "queries return",
        )


def _refuse_misshapen(connection: duckdb.DuckDBPyConnection, tables: list[str], path: Path) -> None:
    """Refuse a table of records whose columns are not the record's (a seq of text sorts 10
    before 2, and hashes as text)."""
    rows = connection.execute(
        "SELECT table_name, column_name, data_type FROM system.main.duckdb_columns() "
        "WHERE database_name = system.main.current_database() AND schema_name = 'main' "
        "ORDER BY table_name, column_index"
    ).fetchall()
    wanted = {name.lower() for name in tables}
    shapes: dict[str, list[tuple[str, str]]] = {}
    for table, column, data_type in rows:
        if str(table).lower() in wanted:
            shapes.setdefault(str(table), []).append((str(column), str(data_type)))
    expected = list(zip(COLUMNS, _COLUMN_TYPES, strict=True))
    for table, shape in shapes.items():
        if shape != expected:
            columns = ", ".join(f"{column} {data_type}" for column, data_type in shape)
            raise TrailAltered(path, f"table {table} has the columns ({columns}), not a record's")


def view_records(connection: duckdb.DuckDBPyConnection) -> None:
    """Make ``trail_records`` this connection's view of every segment the file holds (for reading a
    store with DuckDB directly, too: ``view_records(duckdb.connect(path, read_only=True))``).

    The view is the connection's own, made from the tables present, not stored in the file: a segment
    dropped from the file leaves its records missing from the chain, which verification reports,
    instead of a stored view that no longer binds.
    """
    connection.execute(
        f"CREATE OR REPLACE TEMPORARY VIEW {RECORDS} AS {_union_of_segments(connection, qualified=True)}"
    )


def _store_view(connection: duckdb.DuckDBPyConnection) -> None:
    """Store ``trail_records`` in the file too, as the view of the segments there are now.

    For whoever reads the file with SQL alone, and for an older auditkit, which finds the name it
    looks for and then says that the store's schema is newer than it understands. This code reads
    through its own view (:func:`view_records`), which shadows the stored one.
    """
    connection.execute(
        f"CREATE OR REPLACE VIEW {_quoted(_catalog(connection))}.main.{RECORDS} "
        f"AS {_union_of_segments(connection)}"
    )


def _union_of_segments(connection: duckdb.DuckDBPyConnection, *, qualified: bool = False) -> str:
    """``SELECT`` every record of every segment. ``qualified`` names each segment with its catalog
    and schema, so that only the store's own tables are read (a connection's view; the stored view
    must not name the catalog, which is the file's name and changes with it)."""
    segments = _segments(connection)
    if not segments:  # every segment dropped: no records, which verification judges
        nulls = (
            f"CAST(NULL AS {data_type}) AS {c}"
            for c, data_type in zip(COLUMNS, _COLUMN_TYPES, strict=True)
        )
        return f"SELECT {', '.join(nulls)} WHERE false"
    prefix = f"{_quoted(_catalog(connection))}.main." if qualified else ""
    return " UNION ALL ".join(
        f"SELECT {', '.join(COLUMNS)} FROM {prefix}{_quoted(name)}" for name in segments
    )


def _catalog(connection: duckdb.DuckDBPyConnection) -> str:
    row = connection.execute("SELECT system.main.current_database()").fetchone()
    return str(row[0]) if row else "main"


def _segment_the_records(connection: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Version 1 to 2: move the records of the one table into segment tables, row for row.

    Every row is moved as it is, a tampered one too (verification judges the records, a migration
    does not): a record goes to the segment its ``seq`` names, and one with a ``seq`` below 1 to
    the first. A version-1 store that already holds a segment table was altered: its records would
    join the chain unseen until now, so it is refused and left as it is.
    """
    present = _segments(connection)
    if present:
        raise TrailAltered(
            path,
            f"the version-1 store holds the table {present[0]}, which only a version-2 store "
            "has; it is not moved into segments",
        )
    old = RECORDS
    segment_number = f"greatest(0, (seq - 1) // {SEGMENT_RECORDS})"
    numbers = connection.execute(
        f"SELECT DISTINCT {segment_number} AS n FROM {old} ORDER BY n"
    ).fetchall()
    moved = 0
    for (number,) in numbers or [(0,)]:
        segment = _SEGMENT_NAME.format(number)
        connection.execute(f"CREATE TABLE {segment} {_RECORD_COLUMNS}")
        connection.execute(
            f"INSERT INTO {segment} SELECT {', '.join(COLUMNS)} FROM {old} "
            f"WHERE {segment_number} = ? ORDER BY seq",
            [number],
        )
        moved += _count(connection, segment)
    held = _count(connection, old)
    if moved != held:  # cannot happen: the transaction is rolled back rather than lose a record
        raise TrailError(f"moving the records into segments moved {moved} of {held}")
    connection.execute(f"DROP TABLE {old}")
    _store_view(connection)


def _count(connection: duckdb.DuckDBPyConnection, table: str) -> int:
    row = connection.execute(f"SELECT count(*) FROM {table}").fetchone()
    return int(row[0]) if row else 0


_MIGRATIONS: dict[int, Callable[[duckdb.DuckDBPyConnection, Path], None]] = {
    1: _segment_the_records
}
"""Schema version N -> the function that upgrades a store from N to N + 1."""


def _create_schema(connection: duckdb.DuckDBPyConnection) -> None:
    connection.execute(f"CREATE TABLE {META} (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)")
    connection.execute(f"CREATE TABLE {segment_of(1)} {_RECORD_COLUMNS}")
    _store_view(connection)
    connection.executemany(
        f"INSERT INTO {META} VALUES (?, ?)",
        [
            ["schema_version", str(SCHEMA_VERSION)],
            ["hash_scheme", HASH_SCHEME],
            ["genesis", GENESIS],
            ["created_by", f"auditkit {__version__}"],
        ],
    )


def _check_schema(connection: duckdb.DuckDBPyConnection, path: Path) -> int:
    """The store's schema version, once it is known to be an auditkit store this code can read
    and to hold its records where this code reads them: the table ``trail_records`` in version 1
    (not a view, which could return anything), the segment tables in version 2 (where
    ``trail_records`` is a view, shadowed by the connection's own); all of the record's columns."""
    _refuse_macros(connection, path)
    tables = _tables(connection)
    if META not in tables:
        raise TrailError(f"{path} is not an auditkit audit store (no {META} table)")
    version = _schema_version(connection, path)
    if version == 1:
        if RECORDS not in tables:
            if _has_view(connection, RECORDS):
                raise TrailAltered(
                    path, f"the version-1 store's {RECORDS} is a view, not the table of records"
                )
            raise TrailError(f"{path} is not an auditkit audit store (no {RECORDS} table)")
        _refuse_misshapen(connection, [tables[RECORDS]], path)
    else:
        if RECORDS in tables:
            raise TrailAltered(
                path, f"the version-{version} store holds a table {RECORDS} beside its segments"
            )
        _refuse_misshapen(connection, _segments(connection), path)
    return version


def _has_view(connection: duckdb.DuckDBPyConnection, name: str) -> bool:
    row = connection.execute(
        "SELECT count(*) FROM system.main.duckdb_views() "
        "WHERE database_name = system.main.current_database() AND schema_name = 'main' "
        "AND lower(view_name) = ?",
        [name],
    ).fetchone()
    return bool(row and row[0])


def _schema_version(connection: duckdb.DuckDBPyConnection, path: Path) -> int:
    row = connection.execute(f"SELECT value FROM {META} WHERE key = 'schema_version'").fetchone()
    version = int(row[0]) if row and str(row[0]).isdigit() else 0
    if version < 1:
        raise TrailError(f"{path}: the audit store has no valid schema_version in {META}")
    if version > SCHEMA_VERSION:
        raise TrailError(
            f"{path}: the audit store has schema version {version}, newer than this auditkit "
            f"understands ({SCHEMA_VERSION}); upgrade auditkit"
        )
    return version


def prepare_for_reading(connection: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Check the store (:func:`_check_schema`) and view its records as ``trail_records``."""
    if _check_schema(connection, path) >= 2:
        view_records(connection)


def segment_taking(connection: duckdb.DuckDBPyConnection, seq: int) -> str:
    """The segment table that takes record ``seq``, created (and viewed) if it is the first there."""
    segment = segment_of(seq)
    if segment not in (name.lower() for name in _segments(connection)):
        connection.execute(f"CREATE TABLE {segment} {_RECORD_COLUMNS}")
        _store_view(connection)
        view_records(connection)
    return segment
