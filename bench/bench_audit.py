"""Benchmark: the sample audit end to end, check + signed HTML and PDF report, as a user runs it.

    python bench/bench_audit.py [--repeat 3]

Copies the sample project into a temporary folder, makes a trial signing key once, then times
``auditkit check -c auditkit.yaml`` (which records the run in the audit trail) followed by
``auditkit report --out report --sign-key ... --sign-cert ...``, each as its own process, exactly as
a user or a CI job would run them (so the time includes starting Python and importing libraries).
Prints the median wall time of each step and of the whole, and the range of the rounds' totals.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from machine import print_machine  # bench/ is the script folder: first on sys.path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def auditkit(*args: str, cwd: Path) -> float:
    """Run one auditkit command in its own process; return its wall time in seconds."""
    environment = os.environ | {"PYTHONPATH": str(ROOT)}
    start = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, "-m", "auditkit", *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - start
    if completed.returncode not in (0, 1):  # the sample is built to fail its policy: exit 1
        raise SystemExit(f"auditkit {' '.join(args)} failed:\n{completed.stderr}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=3)
    options = parser.parse_args()
    from tests.shared_datasets import copy_sample_project

    print_machine()
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        copy_sample_project(work / "project")
        project = work / "project"
        auditkit("keygen", "--out", "keys", "--name", "Benchmark", "--no-passphrase", cwd=project)
        sign = ["--sign-key", "keys/signing-key.pem", "--sign-cert", "keys/signing-cert.pem"]
        checks, reports = [], []
        for attempt in range(options.repeat + 1):
            check = auditkit(
                "check", "-c", "auditkit.yaml", "-o", "check.json", "--format", "json", cwd=project
            )
            report = auditkit(
                "report", "-c", "auditkit.yaml", "--out", f"report-{attempt}", *sign, cwd=project
            )
            if attempt:  # the first round warms the file caches and compiled bytecode
                checks.append(check)
                reports.append(report)
    check_s, report_s = statistics.median(checks), statistics.median(reports)
    totals = [check + report for check, report in zip(checks, reports, strict=True)]
    print(f"auditkit check (records the run):     {check_s:.2f} s")
    print(f"auditkit report (HTML + PDF, signed): {report_s:.2f} s")
    print(f"check + signed report:                {check_s + report_s:.2f} s")
    print(f"  each round, fastest to slowest:     {min(totals):.2f} to {max(totals):.2f} s")


if __name__ == "__main__":
    main()
