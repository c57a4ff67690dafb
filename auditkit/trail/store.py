"""The audit store: an append-only, hash-chained DuckDB trail of check runs, reports and sign-offs.

Every append happens under an exclusive lock beside the store (see :mod:`auditkit.trail.lock`), reads
the chain head and inserts the next record in one transaction. Readers open the file read-only under a
shared lock. Nothing here updates or deletes a record.

The records are kept in segment tables of :data:`SEGMENT_RECORDS` records each (``trail_records_000000``,
``trail_records_000001``, ...), read together through the view ``trail_records`` that every connection
makes of the segments the file holds. DuckDB writes a table's last row group back to the file whole
whenever it checkpoints, and a row group holds 122,880 rows: in one table, every append rewrote every
record before it, so appending took longer as the trail grew. A segment bounds that to its own records.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from auditkit import __version__
from auditkit.duckdb_settings import quiet
from auditkit.trail.errors import TrailAltered, TrailError
from auditkit.trail.lock import DEFAULT_TIMEOUT, store_lock
from auditkit.trail.records import (
    COLUMNS,
    GENESIS,
    HASH_SCHEME,
    Record,
    RecordKind,
    new_id,
    payload_text,
    seal,
    utc_now,
)
from auditkit.trail.signoff import checked_signoff
from auditkit.yamlsource import did_you_mean

if TYPE_CHECKING:
    import duckdb

    from auditkit.trail.verify import Verification

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
_SELECT = f"SELECT {', '.join(COLUMNS)} FROM {RECORDS}"
_LATEST = re.compile(r"latest(?:~(\d+))?")


def segment_of(seq: int) -> str:
    """The name of the segment table that holds (or will hold) record ``seq``."""
    return _SEGMENT_NAME.format(max(0, (seq - 1) // SEGMENT_RECORDS))


@dataclass(frozen=True)
class StoredRun:
    """A check run read back from the store, with the reports and sign-offs recorded for it."""

    record: Record
    document: dict[str, Any]
    attachments: tuple[Record, ...] = ()

    @property
    def run_id(self) -> str:
        return self.record.run_id

    @property
    def signoffs(self) -> list[dict[str, Any]]:
        return [record.document() for record in self.attachments if record.kind == "signoff"]

    @property
    def reports(self) -> list[dict[str, Any]]:
        return [record.document() for record in self.attachments if record.kind == "report"]


class TrailStore:
    """The hash-chained audit trail in the DuckDB file ``path``."""

    def __init__(self, path: Path, *, lock_timeout: float = DEFAULT_TIMEOUT) -> None:
        self.path = Path(path)
        self.lock_timeout = lock_timeout

    # Appending ------------------------------------------------------------------------------

    def append_run(self, document: Mapping[str, Any]) -> Record:
        """Append a check run document (see :func:`auditkit.trail.document.build_run_document`)."""
        run_id = document.get("run_id")
        if not isinstance(run_id, str) or not run_id:
            raise ValueError("a run document needs a run_id")
        created = str(document.get("created") or utc_now().isoformat())
        payload = payload_text(dict(document))
        with self._writing() as connection:
            return self._insert(connection, "check", run_id, run_id, created, payload)

    def append_report(
        self, run: str, files: Sequence[Mapping[str, Any]], *, signer: str | None = None
    ) -> Record:
        """Record that a report of ``run`` (an id, a unique prefix or ``latest~N``) was written.

        ``files`` lists the outputs as ``{"name": ..., "sha256": ...}``.
        """
        details = {"files": [dict(entry) for entry in files], "signer": signer}
        return self._append_attachment("report", run, details)

    def append_signoff(
        self, run: str, *, reviewer: str, decision: str, comment: str = ""
    ) -> Record:
        """Record a reviewer's decision on ``run`` (see :func:`auditkit.trail.signoff.checked_signoff`).

        The whole chain is verified first, in the same transaction: a sign-off must not vouch for a
        trail that was tampered with.
        """
        signoff = checked_signoff(reviewer, decision, comment)
        return self._append_attachment("signoff", run, asdict(signoff), require_intact=True)

    def _append_attachment(
        self, kind: RecordKind, run: str, details: dict[str, Any], *, require_intact: bool = False
    ) -> Record:
        if not self.path.is_file():
            raise TrailError(
                f"no audit trail at {self.path} yet: there is no run to attach a {kind} to"
            )
        moment = utc_now()
        record_id = new_id(moment)
        created = moment.isoformat()
        with self._writing() as connection:
            run_id = _resolve_run(connection, run, self.path)
            if require_intact:
                _refuse_broken(_verify(connection), self.path)
            payload = payload_text({"run_id": run_id, "kind": kind, "created": created, **details})
            return self._insert(connection, kind, record_id, run_id, created, payload)

    def _insert(
        self,
        connection: duckdb.DuckDBPyConnection,
        kind: RecordKind,
        record_id: str,
        run_id: str,
        created: str,
        payload: str,
    ) -> Record:
        head = connection.execute(
            f"SELECT seq, record_hash FROM {RECORDS} ORDER BY seq DESC LIMIT 1"
        ).fetchone()
        record = seal(
            seq=head[0] + 1 if head else 1,
            record_id=record_id,
            kind=kind,
            run_id=run_id,
            created=created,
            tool_version=__version__,
            payload=payload,
            prev_hash=head[1] if head else GENESIS,
        )
        segment = segment_of(record.seq)
        if segment not in (name.lower() for name in _segments(connection)):
            connection.execute(f"CREATE TABLE {segment} {_RECORD_COLUMNS}")
            _store_view(connection)
            view_records(connection)
        placeholders = ", ".join("?" for _ in COLUMNS)
        connection.execute(f"INSERT INTO {segment} VALUES ({placeholders})", list(record.row()))
        return record

    # Reading --------------------------------------------------------------------------------

    def load_run(self, reference: str) -> StoredRun:
        """The run named by its id, a unique prefix of it, ``latest`` or ``latest~N``."""
        with self._reading() as connection:
            run_id = _resolve_run(connection, reference, self.path)
            rows = connection.execute(
                f"{_SELECT} WHERE run_id = ? ORDER BY seq", [run_id]
            ).fetchall()
        records = [Record(*row) for row in rows]
        run = next(record for record in records if record.kind == "check")
        attachments = tuple(record for record in records if record.kind != "check")
        return StoredRun(run, run.document(), attachments)

    def recent_runs(self, limit: int | None = None) -> list[StoredRun]:
        """The newest ``limit`` runs (all when None), newest first, with their reports and sign-offs."""
        with self._reading() as connection:
            query = f"{_SELECT} WHERE kind = 'check' ORDER BY seq DESC"
            runs = [
                Record(*row)
                for row in connection.execute(
                    query + (" LIMIT ?" if limit is not None else ""),
                    [limit] if limit is not None else [],
                ).fetchall()
            ]
            run_ids = [run.run_id for run in runs]
            attached = connection.execute(
                f"{_SELECT} WHERE kind <> 'check' AND list_contains(?, run_id) ORDER BY seq",
                [run_ids],
            ).fetchall()
        by_run: dict[str, list[Record]] = {}
        for row in attached:
            record = Record(*row)
            by_run.setdefault(record.run_id, []).append(record)
        return [StoredRun(run, run.document(), tuple(by_run.get(run.run_id, ()))) for run in runs]

    def verify(self, *, expect_head: str | None = None) -> Verification:
        """Re-hash every record in order and check each links to the one before it.

        A file altered around the chain (see :func:`_check_schema`) is not read: it is reported as
        the problem, before any record.
        """
        from auditkit.trail.verify import Verification

        try:
            with self._reading() as connection:
                return _verify(connection, expect_head=expect_head)
        except TrailAltered as altered:
            return Verification(0, GENESIS, altered.problem)

    def anchor(self) -> dict[str, Any]:
        """The verified head of the trail, to be signed into a report: whoever holds the report can
        later run ``auditkit trail verify --expect-head HEAD`` and detect records deleted since.

        A broken trail is refused: a report must not vouch for a trail that was tampered with.
        """
        verification = self.verify()
        _refuse_broken(verification, self.path)
        return {"head": verification.head, "records": verification.count}

    # Connections ----------------------------------------------------------------------------

    @contextmanager
    def _writing(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A transaction on the store (created if missing), under the exclusive lock."""
        with store_lock(self.path, exclusive=True, timeout=self.lock_timeout):
            connection = self._connect(read_only=False)
            try:
                connection.execute("BEGIN TRANSACTION")
                _ensure_schema(connection, self.path)
                yield connection
                connection.execute("COMMIT")
            except BaseException:
                with suppress(Exception):
                    connection.execute("ROLLBACK")
                raise
            finally:
                connection.close()

    @contextmanager
    def _reading(self) -> Iterator[duckdb.DuckDBPyConnection]:
        if not self.path.is_file():
            raise TrailError(
                f"no audit trail at {self.path} yet: `auditkit check` records a run there"
            )
        with store_lock(self.path, exclusive=False, timeout=self.lock_timeout):
            connection = self._connect(read_only=True)
            try:
                if _check_schema(connection, self.path) >= 2:
                    view_records(connection)
                yield connection
            finally:
                connection.close()

    def _connect(self, *, read_only: bool) -> duckdb.DuckDBPyConnection:
        import duckdb

        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            return quiet(duckdb.connect(str(self.path), read_only=read_only))
        except duckdb.Error as error:
            first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
            raise TrailError(f"{self.path}: cannot open the audit store: {first_line}") from None


def _stream(connection: duckdb.DuckDBPyConnection, batch: int = 256) -> Iterator[Record]:
    """Every record in sequence order, fetched in batches (payloads can be large)."""
    cursor = connection.execute(f"{_SELECT} ORDER BY seq")
    while rows := cursor.fetchmany(batch):
        for row in rows:
            yield Record(*row)


def _verify(
    connection: duckdb.DuckDBPyConnection, *, expect_head: str | None = None
) -> Verification:
    from auditkit.trail.verify import verify_chain

    return verify_chain(_stream(connection), expect_head=expect_head)


def _refuse_broken(verification: Verification, path: Path) -> None:
    if not verification.intact:
        raise TrailError(f"{path}: the audit trail is broken: {verification.problem}")


def _ensure_schema(connection: duckdb.DuckDBPyConnection, path: Path) -> None:
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


def _resolve_run(connection: duckdb.DuckDBPyConnection, reference: str, path: Path) -> str:
    """The run id that ``reference`` (an id, a unique prefix, ``latest`` or ``latest~N``) names."""
    text = reference.strip()
    if not text:
        raise TrailError("an empty run id names no run")
    latest = _LATEST.fullmatch(text)
    if latest:
        back = int(latest.group(1) or 0)
        row = connection.execute(
            f"SELECT run_id FROM {RECORDS} WHERE kind = 'check' ORDER BY seq DESC LIMIT 1 OFFSET ?",
            [back],
        ).fetchone()
        if row is None:
            count = _run_count(connection)
            raise TrailError(f"{text}: {path} holds {count} run{'s' if count != 1 else ''}")
        return str(row[0])
    matches = [
        str(row[0])
        for row in connection.execute(
            f"SELECT run_id FROM {RECORDS} WHERE kind = 'check' AND starts_with(run_id, ?) "
            "ORDER BY seq",
            [text],
        ).fetchall()
    ]
    if text in matches or len(matches) == 1:
        return text if text in matches else matches[0]
    if matches:
        shown = ", ".join(matches[:5]) + (
            f" and {len(matches) - 5} more" if len(matches) > 5 else ""
        )
        raise TrailError(f"run id prefix {text!r} is ambiguous: it matches {shown}")
    known = [
        str(row[0])
        for row in connection.execute(
            f"SELECT run_id FROM {RECORDS} WHERE kind = 'check' ORDER BY seq DESC"
        ).fetchall()
    ]
    if not known:
        raise TrailError(f"no runs recorded in {path} yet")
    hint = did_you_mean(text, known) or f"; the newest runs are {', '.join(known[:3])}"
    raise TrailError(f"no run {text!r} in {path}{hint}")


def _run_count(connection: duckdb.DuckDBPyConnection) -> int:
    row = connection.execute(f"SELECT count(*) FROM {RECORDS} WHERE kind = 'check'").fetchone()
    return int(row[0]) if row else 0
