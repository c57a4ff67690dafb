"""Appends from several processes at once form one unbroken chain with every record in it."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import duckdb
import pytest

from auditkit.trail import TrailStore
from auditkit.trail.layout import view_records

PROCESSES = 4
APPENDS = 8


def append_runs(store: str, worker: int) -> None:
    trail = TrailStore(Path(store), lock_timeout=60)
    for number in range(APPENDS):
        trail.append_run(
            {
                "run_id": f"20261129T140000Z-w{worker}n{number:02d}",
                "kind": "check",
                "created": "2026-11-29T14:00:00+00:00",
                "worker": worker,
                "number": number,
            }
        )


@pytest.mark.slow
def test_parallel_appends_are_serialised(tmp_path: Path) -> None:
    store = tmp_path / "audit.duckdb"
    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(target=append_runs, args=(str(store), worker))
        for worker in range(PROCESSES)
    ]
    for process in workers:
        process.start()
    for process in workers:
        process.join(timeout=120)
    assert [process.exitcode for process in workers] == [0] * PROCESSES

    connection = duckdb.connect(str(store), read_only=True)
    try:
        view_records(connection)
        seqs, run_ids = zip(
            *connection.execute("SELECT seq, run_id FROM trail_records ORDER BY seq").fetchall(),
            strict=True,
        )
    finally:
        connection.close()
    assert list(seqs) == list(range(1, PROCESSES * APPENDS + 1))
    assert sorted(run_ids) == sorted(
        f"20261129T140000Z-w{worker}n{number:02d}"
        for worker in range(PROCESSES)
        for number in range(APPENDS)
    )
    verification = TrailStore(store).verify()
    assert verification.intact and verification.count == PROCESSES * APPENDS


def test_readers_coming_one_after_another_do_not_keep_a_writer_out(tmp_path: Path) -> None:
    """Two readers in relay, each entering before the other leaves, so that a shared lock is held
    all the time: the writer still gets in, as soon as the readers inside have left."""
    import threading
    import time

    from auditkit.trail.lock import store_lock

    store = tmp_path / "audit.duckdb"
    trail = TrailStore(store, lock_timeout=5)
    trail.append_run({"run_id": "20261129T140000Z-first", "kind": "check"})
    stop = threading.Event()

    def read_in_relay(offset: float) -> None:
        time.sleep(offset)
        while not stop.is_set():
            with store_lock(store, exclusive=False, timeout=30):
                time.sleep(0.1)  # the other reader enters meanwhile

    readers = [threading.Thread(target=read_in_relay, args=(offset,)) for offset in (0, 0.05)]
    for reader in readers:
        reader.start()
    try:
        time.sleep(0.3)
        started = time.monotonic()
        record = TrailStore(store, lock_timeout=3).append_run(
            {"run_id": "20261129T140001Z-second", "kind": "check"}
        )
        waited = time.monotonic() - started
    finally:
        stop.set()
        for reader in readers:
            reader.join()
    assert record.seq == 2
    assert waited < 3
