"""The hash chain: appends, verification, and every kind of tampering, made with SQL on the file."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import duckdb
import pytest

from auditkit.cli.main import main
from auditkit.errors import ExitCode
from auditkit.trail import GENESIS, TrailError, TrailLockError, TrailStore
from auditkit.trail.layout import segment_of, view_records
from auditkit.trail.lock import store_lock


def run_document(number: int, status: str = "pass") -> dict:  # type: ignore[type-arg]
    """A small stand-in for a check run document (the chain does not look inside payloads)."""
    return {
        "run_id": f"20261129T1400{number:02d}Z-{number:08x}",
        "kind": "check",
        "created": f"2026-11-29T14:00:{number:02d}+00:00",
        "result": {"status": status, "summary": {"fail": 0}, "rules": []},
        "note": "Crédit — ünïcode survives byte for byte",
    }


@pytest.fixture()
def store(tmp_path: Path) -> TrailStore:
    """A store with five check runs."""
    trail = TrailStore(tmp_path / "audit.duckdb", lock_timeout=5)
    for number in range(1, 6):
        trail.append_run(run_document(number))
    return trail


def tamper(store: TrailStore, *statements: str) -> None:
    """Run ``statements`` on the file; ``trail_records`` in them is the segment table of the first
    records (the fixture's five are all in it)."""
    connection = duckdb.connect(str(store.path))
    try:
        for statement in statements:
            connection.execute(re.sub(r"\btrail_records\b", segment_of(1), statement))
    finally:
        connection.close()


def stored_rows(store: TrailStore) -> list[tuple]:  # type: ignore[type-arg]
    connection = duckdb.connect(str(store.path), read_only=True)
    try:
        view_records(connection)
        return connection.execute(
            "SELECT seq, record_id, kind, run_id, created, tool_version, payload, payload_sha256,"
            " prev_hash, record_hash FROM trail_records ORDER BY seq"
        ).fetchall()
    finally:
        connection.close()


def test_each_record_hash_covers_its_fields_and_the_previous_hash(store: TrailStore) -> None:
    rows = stored_rows(store)
    previous = "0" * 64
    for seq, record_id, kind, run_id, created, version, payload, payload_sha, prev, digest in rows:
        assert payload_sha == hashlib.sha256(payload.encode("utf-8")).hexdigest()
        fields = [
            "auditkit-trail/1",
            seq,
            record_id,
            kind,
            run_id,
            created,
            version,
            payload_sha,
            prev,
        ]
        expected = hashlib.sha256(json.dumps(fields, separators=(",", ":")).encode()).hexdigest()
        assert prev == previous and digest == expected
        previous = digest
    assert [row[0] for row in rows] == [1, 2, 3, 4, 5] and rows[0][8] == GENESIS
    # The payload is the document, stored as the exact text that was hashed.
    assert json.loads(rows[2][6]) == run_document(3)
    verification = store.verify()
    assert verification.intact and verification.count == 5 and verification.head == rows[-1][9]


def test_an_edited_payload_is_detected(store: TrailStore) -> None:
    tamper(
        store,
        """UPDATE trail_records SET payload = replace(payload, '"pass"', '"fail"') WHERE seq = 3""",
    )
    verification = store.verify()
    assert not verification.intact and verification.broken_seq == 3 and verification.count == 2
    assert "payload was edited" in (verification.problem or "")


def test_an_edited_payload_with_its_digest_recomputed_is_detected(store: TrailStore) -> None:
    tamper(
        store,
        """UPDATE trail_records SET payload = replace(payload, '"pass"', '"fail"') WHERE seq = 3""",
        "UPDATE trail_records SET payload_sha256 = sha256(payload) WHERE seq = 3",
    )
    verification = store.verify()
    assert verification.broken_seq == 3 and "hash were edited" in (verification.problem or "")


def test_an_edited_record_hash_is_detected(store: TrailStore) -> None:
    tamper(store, f"UPDATE trail_records SET record_hash = '{'a' * 64}' WHERE seq = 2")
    verification = store.verify()
    assert verification.broken_seq == 2 and "hash were edited" in (verification.problem or "")


def test_a_deleted_middle_record_is_detected(store: TrailStore) -> None:
    tamper(store, "DELETE FROM trail_records WHERE seq = 3")
    verification = store.verify()
    assert verification.broken_seq == 4 and "record 3 is missing" in (verification.problem or "")


def test_a_deleted_and_renumbered_record_is_detected(store: TrailStore) -> None:
    tamper(
        store,
        "DELETE FROM trail_records WHERE seq = 3",
        "UPDATE trail_records SET seq = seq + 100 WHERE seq > 3",
        "UPDATE trail_records SET seq = seq - 101 WHERE seq > 100",
    )
    assert [row[0] for row in stored_rows(store)] == [1, 2, 3, 4]
    assert store.verify().broken_seq == 3


def test_reordered_records_are_detected(store: TrailStore) -> None:
    tamper(
        store,
        "UPDATE trail_records SET seq = seq + 100 WHERE seq IN (2, 3)",
        "UPDATE trail_records SET seq = 3 WHERE seq = 102",
        "UPDATE trail_records SET seq = 2 WHERE seq = 103",
    )
    assert store.verify().broken_seq == 2


def test_an_inserted_record_is_detected_even_when_well_formed(store: TrailStore) -> None:
    """A forged record sealed against record 2 still breaks the link of the record after it."""
    from auditkit.trail.records import payload_text, seal

    rows = stored_rows(store)
    forged = seal(
        seq=3,
        record_id="forged",
        kind="signoff",
        run_id=rows[1][3],
        created="2026-11-29T14:00:02+00:00",
        tool_version="0.1.0",
        payload=payload_text({"decision": "approve"}),
        prev_hash=rows[1][9],
    )
    values = ", ".join(
        f"'{value}'" if isinstance(value, str) else str(value) for value in forged.row()
    )
    tamper(
        store,
        "UPDATE trail_records SET seq = seq + 100 WHERE seq >= 3",
        "UPDATE trail_records SET seq = seq - 99 WHERE seq > 100",
        f"INSERT INTO trail_records VALUES ({values})",
    )
    verification = store.verify()
    assert verification.count == 3 and verification.broken_seq == 4


def test_a_deleted_newest_record_is_only_detected_against_an_anchored_head(
    store: TrailStore,
) -> None:
    anchored = store.verify().head
    tamper(store, "DELETE FROM trail_records WHERE seq = 5")
    assert store.verify().intact, "a shorter chain is consistent in itself"
    verification = store.verify(expect_head=anchored)
    assert not verification.intact and anchored in (verification.problem or "")


def test_an_anchored_head_allows_later_appends(store: TrailStore) -> None:
    anchored = store.verify().head
    store.append_run(run_document(6))
    verification = store.verify(expect_head=anchored.upper())
    assert verification.intact and verification.anchor_seq == 5 and verification.count == 6


def test_trail_verify_command_exit_codes(
    store: TrailStore, capsys: pytest.CaptureFixture[str]
) -> None:
    head = store.verify().head
    assert main(["trail", "verify", "--store", str(store.path)]) == ExitCode.OK
    assert capsys.readouterr().out.strip() == f"trail intact: 5 records, head {head}"
    tamper(store, "DELETE FROM trail_records WHERE seq = 5")
    code = main(["trail", "verify", "--store", str(store.path), "--expect-head", head])
    assert code == ExitCode.VIOLATIONS and "not in the trail" in capsys.readouterr().out
    tamper(store, "UPDATE trail_records SET created = '2020-01-01' WHERE seq = 2")
    assert main(["trail", "verify", "--store", str(store.path), "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["intact"] is False and report["broken_seq"] == 2 and report["records"] == 1
    missing = store.path.parent / "none.duckdb"
    assert main(["trail", "verify", "--store", str(missing)]) == ExitCode.ERROR
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "no audit trail" in error and not missing.exists()


def test_runs_are_found_by_id_prefix_and_latest(store: TrailStore) -> None:
    ids = [run_document(number)["run_id"] for number in range(1, 6)]
    assert store.load_run("latest").run_id == ids[-1]
    assert store.load_run("latest~2").run_id == ids[2]
    assert store.load_run(ids[1]).document == run_document(2)
    assert store.load_run(ids[3][:-3]).run_id == ids[3]
    with pytest.raises(TrailError, match=r"latest~5: .* holds 5 runs"):
        store.load_run("latest~5")
    with pytest.raises(TrailError, match="ambiguous: it matches"):
        store.load_run("20261129T1400")
    with pytest.raises(TrailError, match=r"no run .*did you mean") as unknown:
        store.load_run(ids[2][:-1] + "f")
    assert ids[2] in str(unknown.value)


def test_signoffs_and_reports_attach_to_their_run(store: TrailStore) -> None:
    second = run_document(2)["run_id"]
    store.append_signoff(
        second[:20], reviewer="jane.roe", decision="approve_with_conditions", comment="c"
    )
    store.append_report("latest", [{"name": "report.html", "sha256": "ab" * 32}], signer="Jane Roe")
    with pytest.raises(TrailError, match="decision"):
        store.append_signoff("latest", reviewer="x", decision="maybe")  # type: ignore[arg-type]
    with pytest.raises(TrailError, match="no run"):
        store.append_report("nope", [])
    elsewhere = TrailStore(store.path.parent / "other.duckdb")
    with pytest.raises(TrailError, match="no audit trail"):
        elsewhere.append_signoff("latest", reviewer="jane.roe", decision="approve")
    assert not elsewhere.path.exists()
    runs = {run.run_id: run for run in store.recent_runs()}
    assert runs[second].signoffs[0]["decision"] == "approve_with_conditions"
    assert runs[second].signoffs[0]["run_id"] == second
    assert runs[run_document(5)["run_id"]].reports[0]["signer"] == "Jane Roe"
    verification = store.verify()
    assert verification.intact and verification.count == 7


def test_a_signoff_on_a_broken_trail_is_refused_and_appends_nothing(store: TrailStore) -> None:
    tamper(store, "UPDATE trail_records SET created = '2020-01-01' WHERE seq = 2")
    with pytest.raises(TrailError, match=r"the audit trail is broken: record 2 \(check "):
        store.append_signoff("latest", reviewer="jane.roe", decision="approve")
    assert [row[0] for row in stored_rows(store)] == [1, 2, 3, 4, 5]


def test_a_store_of_a_newer_schema_is_refused(store: TrailStore) -> None:
    tamper(store, "UPDATE trail_meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(TrailError, match="schema version 99"):
        store.verify()
    with pytest.raises(TrailError, match="schema version 99"):
        store.append_run(run_document(6))


def test_a_file_that_is_not_a_store_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "audit.duckdb"
    path.write_text("not a database")
    with pytest.raises(TrailError, match="cannot open the audit store"):
        TrailStore(path).verify()


def test_a_held_lock_times_out_with_a_clear_error(store: TrailStore) -> None:
    impatient = TrailStore(store.path, lock_timeout=0.2)
    with (
        store_lock(store.path, exclusive=True, timeout=1),
        pytest.raises(TrailLockError, match="locked by another auditkit process"),
    ):
        impatient.append_run(run_document(6))
    # Shared locks (readers) do not exclude each other, but they do exclude writers.
    with store_lock(store.path, exclusive=False, timeout=1):
        assert impatient.verify().count == 5
        with pytest.raises(TrailLockError):
            impatient.append_run(run_document(6))
    assert impatient.append_run(run_document(6)).seq == 6


def test_history_shows_signoffs_and_reports_under_their_run(
    store: TrailStore, capsys: pytest.CaptureFixture[str]
) -> None:
    second = run_document(2)["run_id"]
    store.append_signoff(
        second, reviewer="jane.roe", decision="reject", comment="drift unexplained"
    )
    store.append_report(second, [{"name": "report.pdf", "sha256": "cd" * 32}], signer="Jane Roe")
    assert main(["history", "--store", str(store.path), "--limit", "4"]) == ExitCode.OK
    lines = capsys.readouterr().out.splitlines()
    run_lines = [i for i, line in enumerate(lines) if line.startswith("20261129T")]
    assert [lines[i].split()[0] for i in run_lines] == [
        run_document(n)["run_id"] for n in (5, 4, 3, 2)
    ]
    attached = lines[run_lines[-1] + 1 :]
    assert attached[0].split()[:5] == ["sign-off", "reject", "by", "jane.roe", "at"]
    assert attached[0].endswith(": drift unexplained")
    assert attached[1].startswith("    report    report.pdf, signed by Jane Roe")
    assert main(["history", "--store", str(store.path), "--format", "json"]) == ExitCode.OK
    runs = json.loads(capsys.readouterr().out)["runs"]
    assert len(runs) == 5 and runs[3]["signoffs"][0]["decision"] == "reject"


def test_history_of_a_tampered_trail_still_lists_but_warns_and_exits_1(
    store: TrailStore, capsys: pytest.CaptureFixture[str]
) -> None:
    second = run_document(2)["run_id"]
    store.append_signoff(second, reviewer="Ann", decision="approve")
    tamper(
        store,
        """UPDATE trail_records SET payload = replace(payload, '"Ann"', '"Eve"')
           WHERE kind = 'signoff'""",
    )
    assert main(["history", "--store", str(store.path)]) == ExitCode.VIOLATIONS
    captured = capsys.readouterr()
    assert "approve by Eve" in captured.out  # listed, for whoever investigates
    (warning,) = captured.err.splitlines()
    assert warning.startswith(f"auditkit: warning: the audit trail {store.path} does not verify (")
    assert main(["history", "--store", str(store.path), "--format", "json"]) == 1
    document = json.loads(capsys.readouterr().out)
    assert document["intact"] is False and document["problem"]


def test_trail_verify_takes_only_a_whole_head_hash(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    trail = TrailStore(tmp_path / "audit.duckdb")
    trail.append_run(run_document(1))
    head = trail.verify().head
    assert main(["trail", "verify", "--store", str(trail.path)]) == ExitCode.OK
    assert capsys.readouterr().out == f"trail intact: 1 record, head {head}\n"
    code = main(["trail", "verify", "--store", str(trail.path), "--expect-head", head[:8]])
    error = capsys.readouterr().err
    assert code == ExitCode.ERROR and error.count("\n") == 1 and "64 hex digits" in error
    assert main(["trail", "verify", "--store", str(trail.path), "--expect-head", head]) == 0
