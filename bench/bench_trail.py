"""Benchmark: the audit trail as it grows, run after run.

    PYTHONPATH=. python bench/bench_trail.py [--runs 1000] [--every 250]

Appends the sample audit's run document (as ``auditkit check`` records it, about 250 KB of canonical
JSON) ``--runs`` times to a new store, each under its own run id, as a CI job recording every build
would. Every ``--every`` runs it prints the time of one append (``auditkit check`` pays it), of
verifying the whole chain and anchoring its head (``auditkit report`` and ``auditkit signoff`` pay it),
and of loading the newest run (``report``, ``history``), with the size of the store file.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from machine import print_machine  # bench/ is the script folder: first on sys.path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def seconds(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--every", type=int, default=250)
    options = parser.parse_args()
    from auditkit.trail.store import TrailStore
    from tests.report.sample_run import build_run_document, sample_project

    print_machine()
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        document = build_run_document(sample_project(work))
        store = TrailStore(work / "trail" / "audit.duckdb")
        print("runs  append  verify+anchor  load newest  store size")
        for count in range(1, options.runs + 1):
            run = dict(document) | {"run_id": f"{document['run_id']}-{count:06d}"}
            append = seconds(lambda run=run: store.append_run(run))
            if count == 1 or count % options.every == 0:
                anchor = seconds(store.anchor)
                load = seconds(lambda: store.load_run("latest"))
                size = store.path.stat().st_size / 1e6
                print(
                    f"{count:>4}  {append:5.2f} s  {anchor:10.2f} s  {load:9.2f} s  {size:7.1f} MB"
                )


if __name__ == "__main__":
    main()
