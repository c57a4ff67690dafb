"""Verification of the hash chain: the first record that does not hold, or the count and head."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from auditkit.trail.records import GENESIS, RECORD_KINDS, Record, recomputed_hash, sha256_text


@dataclass(frozen=True)
class Verification:
    """The outcome of re-hashing the trail."""

    count: int
    """Records that verified, in order, before any problem."""
    head: str
    """Hash of the last record that verified (:data:`GENESIS` for an empty trail)."""
    problem: str | None = None
    """What is wrong, naming the first broken record; None when the trail is intact."""
    broken_seq: int | None = None
    anchor_seq: int | None = None
    """Sequence number of the record whose hash is the expected head, when one was given and found."""

    @property
    def intact(self) -> bool:
        return self.problem is None


def verify_chain(records: Iterable[Record], *, expect_head: str | None = None) -> Verification:
    """Check every record (in sequence order) against its own hashes and against the record before it.

    Deleting the newest records leaves a shorter chain that is consistent in itself: only a head hash
    noted down earlier (``expect_head``) reveals it, by no longer being in the trail.
    """
    anchor = expect_head.strip().lower() if expect_head else None
    count, previous_seq, previous_hash = 0, 0, GENESIS
    anchor_seq: int | None = None
    for record in records:
        problem = _record_problem(record, previous_seq, previous_hash)
        if problem is not None:
            label = f"record {record.seq} ({record.kind} {record.record_id})"
            return Verification(count, previous_hash, f"{label}: {problem}", broken_seq=record.seq)
        count, previous_seq, previous_hash = count + 1, record.seq, record.record_hash
        if anchor is not None and record.record_hash == anchor:
            anchor_seq = record.seq
    if anchor is not None and anchor_seq is None:
        return Verification(
            count,
            previous_hash,
            f"the expected head {anchor} is not in the trail: records were deleted from its end "
            "or the trail was rewritten",
        )
    return Verification(count, previous_hash, anchor_seq=anchor_seq)


def _record_problem(record: Record, previous_seq: int, previous_hash: str) -> str | None:
    if sha256_text(record.payload) != record.payload_sha256:
        return "its payload was edited (it no longer matches its sha256)"
    if recomputed_hash(record) != record.record_hash:
        return "its fields or its hash were edited (the record hash does not match its contents)"
    if record.seq > previous_seq + 1:
        missing = (
            f"record {previous_seq + 1} is"
            if record.seq == previous_seq + 2
            else f"records {previous_seq + 1} to {record.seq - 1} are"
        )
        return f"{missing} missing (deleted)"
    if record.seq != previous_seq + 1:
        return f"it is out of sequence (follows record {previous_seq})"
    if record.prev_hash != previous_hash:
        what = "the start of the trail" if previous_seq == 0 else f"record {previous_seq}"
        return f"it does not chain to {what}: a record was deleted, inserted, replaced or reordered"
    if record.kind not in RECORD_KINDS:
        return f"unknown record kind {record.kind!r}"
    return None
