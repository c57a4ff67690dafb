"""Records of the audit trail and the hash chain that links them.

Each record's hash covers its own fields (the payload through its sha256) and the previous record's
hash, so editing, deleting, inserting or reordering a record breaks every hash after it. The first
record chains to :data:`GENESIS`. The payload is stored as the exact text that was hashed, so
verification re-hashes the bytes on disk rather than a re-serialisation of them.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal

RecordKind = Literal["check", "report", "signoff"]
RECORD_KINDS: tuple[RecordKind, ...] = ("check", "report", "signoff")
Decision = Literal["approve", "reject", "approve_with_conditions"]
DECISIONS: tuple[Decision, ...] = ("approve", "reject", "approve_with_conditions")

GENESIS = "0" * 64
"""The previous-record hash of the first record."""
HASH_SCHEME = "auditkit-trail/1"
"""Names the fields and encoding that :func:`record_hash` covers; part of every hash."""


@dataclass(frozen=True)
class Record:
    """One row of the trail, exactly as stored."""

    seq: int
    record_id: str
    kind: str
    run_id: str
    created: str
    tool_version: str
    payload: str
    """The JSON text that ``payload_sha256`` was computed from."""
    payload_sha256: str
    prev_hash: str
    record_hash: str

    def document(self) -> dict[str, Any]:
        """The payload as a JSON object."""
        parsed: dict[str, Any] = json.loads(self.payload)
        return parsed

    def row(self) -> tuple[Any, ...]:
        """The values in the order of the store's columns."""
        return (
            self.seq,
            self.record_id,
            self.kind,
            self.run_id,
            self.created,
            self.tool_version,
            self.payload,
            self.payload_sha256,
            self.prev_hash,
            self.record_hash,
        )


COLUMNS = (
    "seq",
    "record_id",
    "kind",
    "run_id",
    "created",
    "tool_version",
    "payload",
    "payload_sha256",
    "prev_hash",
    "record_hash",
)


def payload_text(document: dict[str, Any]) -> str:
    """The canonical JSON text of a payload: compact, keys in the document's order, no NaN."""
    return json.dumps(
        document, ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=_plain
    )


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, tuple | set | frozenset):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def record_hash(
    *,
    seq: int,
    record_id: str,
    kind: str,
    run_id: str,
    created: str,
    tool_version: str,
    payload_sha256: str,
    prev_hash: str,
) -> str:
    """sha256 of the record's fields as a JSON array (unambiguous: no field can run into the next)."""
    fields = [
        HASH_SCHEME,
        seq,
        record_id,
        kind,
        run_id,
        created,
        tool_version,
        payload_sha256,
        prev_hash,
    ]
    return sha256_text(json.dumps(fields, ensure_ascii=True, separators=(",", ":")))


def seal(
    *,
    seq: int,
    record_id: str,
    kind: RecordKind,
    run_id: str,
    created: str,
    tool_version: str,
    payload: str,
    prev_hash: str,
) -> Record:
    """A record whose payload sha256 and chained hash are computed from its fields."""
    digest = sha256_text(payload)
    return Record(
        seq=seq,
        record_id=record_id,
        kind=kind,
        run_id=run_id,
        created=created,
        tool_version=tool_version,
        payload=payload,
        payload_sha256=digest,
        prev_hash=prev_hash,
        record_hash=record_hash(
            seq=seq,
            record_id=record_id,
            kind=kind,
            run_id=run_id,
            created=created,
            tool_version=tool_version,
            payload_sha256=digest,
            prev_hash=prev_hash,
        ),
    )


def recomputed_hash(record: Record) -> str:
    """The hash ``record`` should carry given its stored fields."""
    return record_hash(
        seq=record.seq,
        record_id=record.record_id,
        kind=record.kind,
        run_id=record.run_id,
        created=record.created,
        tool_version=record.tool_version,
        payload_sha256=record.payload_sha256,
        prev_hash=record.prev_hash,
    )


def utc_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def new_id(moment: datetime) -> str:
    """A time-sortable unique id: ``20261129T140512Z-3f2a1c9e``."""
    return f"{moment.astimezone(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(4)}"
