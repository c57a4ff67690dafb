"""Time to render the sample audit's report (HTML + PDF/A-3b), and write it where it can be looked at.

    PYTHONPATH=. python bench/bench_report.py [--out DIR] [--repeat N]

The run document is the one the audit trail records for the sample check (tests/report/sample_run.py).
Prints the time of each rendering step; signing is not included.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from auditkit.report import render_report
from tests.report.sample_run import build_run_document, sample_project


def recorder(steps: list[tuple[str, float]]) -> Callable[[str, float], None]:
    return lambda step, _done: steps.append((step, time.perf_counter()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("auditkit-report-sample"))
    parser.add_argument("--repeat", type=int, default=3)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        run = build_run_document(sample_project(Path(workdir)))
    timings: list[float] = []
    cpu_timings: list[float] = []
    for attempt in range(options.repeat):
        steps: list[tuple[str, float]] = []
        started, cpu_started = time.perf_counter(), time.process_time()
        render_report(run, options.out, progress=recorder(steps))
        timings.append(time.perf_counter() - started)
        cpu_timings.append(time.process_time() - cpu_started)
        if attempt == 0:
            print("first render (includes importing matplotlib and WeasyPrint), time per step:")
            for (step, moment), (_, following) in itertools.pairwise(steps):
                print(f"  {following - moment:6.2f} s  {step}")
    print(
        f"render HTML + PDF, {options.repeat} runs: median {statistics.median(timings):.2f} s, "
        f"first {timings[0]:.2f} s, best {min(timings):.2f} s wall; "
        f"median {statistics.median(cpu_timings):.2f} s CPU"
    )
    print(f"report written to {options.out.resolve()}")


if __name__ == "__main__":
    main()
