"""Time to render and sign the sample audit's report (HTML + PDF/A-3b), written where it can be looked at.

    PYTHONPATH=. python bench/bench_report.py [--out DIR] [--repeat N] [--pack builtin:NAME ...]

The run document is the one the audit trail records for the sample check (tests/report/sample_run.py),
with the given policy packs added (``--pack builtin:nyc-ll144`` adds the Local Law 144 summary). The
report is built as ``auditkit report`` builds it (``build_report``: render, then the PAdES signature of
the PDF and the DSSE envelope of the other files, with a trial key made once before timing). Prints the
time of each step of the first build, the median of all, the CPU time of this process (the report worker
process, which lays out and writes the PDF, is not in it) and the machine's load average. Each build starts
its worker when it starts (``auditkit report`` starts it before reading the audit trail).
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from auditkit.report import build_report
from auditkit.report.keys import SignerConfig, generate_keys
from tests.report.sample_run import build_run_document, sample_project


def recorder(steps: list[tuple[str, float]]) -> Callable[[str, float], None]:
    return lambda step, _done: steps.append((step, time.perf_counter()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("auditkit-report-sample"))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pack", action="append", default=[], help="policy pack to add")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        project = sample_project(Path(workdir))
        project = dataclasses.replace(project, policies=(*project.policies, *options.pack))
        run = build_run_document(project)
        keys = generate_keys(Path(workdir) / "keys", "Benchmark signer", passphrase=None)
        signer = SignerConfig(key=keys.key, certificate=keys.certificate, dsse_key=keys.dsse_key)
        timings: list[float] = []
        cpu_timings: list[float] = []
        for attempt in range(options.repeat):
            steps: list[tuple[str, float]] = []
            started, cpu_started = time.perf_counter(), time.process_time()
            build_report(run, options.out, signoffs=(), signer=signer, progress=recorder(steps))
            steps.append(("end", time.perf_counter()))
            timings.append(time.perf_counter() - started)
            cpu_timings.append(time.process_time() - cpu_started)
            if attempt == 0:
                print("first build (includes importing WeasyPrint), time per step:")
                for (step, moment), (_, following) in itertools.pairwise(steps):
                    print(f"  {following - moment:6.2f} s  {step}")
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(
        f"render + sign HTML + PDF, {options.repeat} runs: median {statistics.median(timings):.2f} s, "
        f"first {timings[0]:.2f} s, best {min(timings):.2f} s wall; "
        f"median {statistics.median(cpu_timings):.2f} s CPU; load average {load} on {os.cpu_count()} CPUs"
    )
    print(f"report written to {options.out.resolve()}")


if __name__ == "__main__":
    main()
