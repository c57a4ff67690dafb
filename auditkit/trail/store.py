"""The audit store: an append-only, hash-chained DuckDB trail of check runs, reports and sign-offs.

Every append happens under an exclusive lock beside the store (see :mod:`auditkit.trail.lock`), reads
the chain head and inserts the next record in one transaction. Readers open the file read-only under a
shared lock. Nothing here updates or deletes a record.

How the file holds the records (segment tables, read through the view ``trail_records``) and what it
must not hold besides is :mod:`auditkit.trail.layout`'s.
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
from auditkit.trail.layout import (
    RECORDS,
    prepare_for_reading,
    prepare_for_writing,
    segment_taking,
)
from auditkit.trail.lock import DEFAULT_TIMEOUT, store_lock
from auditkit.trail.records import (
    COLUMNS,
    GENESIS,
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

_SELECT = f"SELECT {', '.join(COLUMNS)} FROM {RECORDS}"
_LATEST = re.compile(r"latest(?:~(\d+))?")


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

    def report_recorder(
        self, run: str
    ) -> Callable[[Sequence[Mapping[str, Any]], str | None], Record]:
        """:meth:`append_report` for ``run``, as ``build_report`` calls it (files, signer)."""
        return lambda files, signer: self.append_report(run, files, signer=signer)

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
        segment = segment_taking(connection, record.seq)
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

        A file altered around the chain (see :func:`auditkit.trail.layout.prepare_for_reading`) is not read: it is reported as
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
                prepare_for_writing(connection, self.path)
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
                prepare_for_reading(connection, self.path)
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
