"""Benchmark: the sample audit end to end, check + signed HTML and PDF report, as a user runs it.

    python bench/bench_audit.py [--repeat 3] [--against OTHER_CHECKOUT]

Copies the sample project into a temporary folder, makes a trial signing key once, then times
``auditkit check -c auditkit.yaml`` (which records the run in the audit trail) followed by
``auditkit report --out report --sign-key ... --sign-cert ...``, each as its own process, exactly as
a user or a CI job would run them (so the time includes starting Python and importing libraries).
Prints the median wall time of each step and of the whole, and the range of the rounds' totals.

``--against`` names another checkout of auditkit (a worktree of an earlier commit, say, with its
bytecode compiled): the rounds then alternate between the two, each in a project copy of its own, and
the paired difference of the totals is printed too. The machine's pace drifts by several per cent
within minutes, so only versions measured in alternation compare well.
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


def auditkit(*args: str, cwd: Path, root: Path = ROOT) -> float:
    """Run one auditkit command (from checkout ``root``) in its own process; return its wall time."""
    environment = os.environ | {"PYTHONPATH": str(root)}
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


def audit_round(project: Path, root: Path, attempt: int) -> tuple[float, float]:
    """One check, then one signed report of the run it recorded: their wall times."""
    sign = ["--sign-key", "keys/signing-key.pem", "--sign-cert", "keys/signing-cert.pem"]
    check = auditkit(
        "check",
        "-c",
        "auditkit.yaml",
        "-o",
        "check.json",
        "--format",
        "json",
        cwd=project,
        root=root,
    )
    report = auditkit(
        "report", "-c", "auditkit.yaml", "--out", f"report-{attempt}", *sign, cwd=project, root=root
    )
    return check, report


def summarise(label: str, rounds: list[tuple[float, float]]) -> None:
    checks, reports = [check for check, _ in rounds], [report for _, report in rounds]
    totals = [check + report for check, report in rounds]
    check_s, report_s = statistics.median(checks), statistics.median(reports)
    print(f"{label}auditkit check (records the run):     {check_s:.2f} s")
    print(f"{label}auditkit report (HTML + PDF, signed): {report_s:.2f} s")
    print(f"{label}check + signed report:                {check_s + report_s:.2f} s")
    print(f"{label}  each round, fastest to slowest:     {min(totals):.2f} to {max(totals):.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--against", type=Path, help="another auditkit checkout, measured in turn")
    options = parser.parse_args()
    from tests.shared_datasets import copy_sample_project

    roots = [ROOT] + ([options.against.resolve()] if options.against else [])
    print_machine()
    with tempfile.TemporaryDirectory() as folder:
        projects = []
        for index, root in enumerate(roots):
            project = Path(folder) / f"project-{index}"
            copy_sample_project(project)
            auditkit(
                "keygen", "--out", "keys", "--name", "Benchmark", "--no-passphrase", cwd=project
            )
            audit_round(project, root, 0)  # warms the file caches, compiled bytecode and templates
            projects.append(project)
        rounds: list[list[tuple[float, float]]] = [[] for _ in roots]
        for attempt in range(1, options.repeat + 1):
            order = range(len(roots)) if attempt % 2 else reversed(range(len(roots)))
            for index in order:
                rounds[index].append(audit_round(projects[index], roots[index], attempt))
    if not options.against:
        summarise("", rounds[0])
        return
    for label, measured in zip(("this checkout:  ", "--against:      "), rounds, strict=True):
        summarise(label, measured)
    differences = [sum(here) - sum(there) for here, there in zip(rounds[0], rounds[1], strict=True)]
    print(
        f"this checkout minus --against, paired by round: median {statistics.median(differences):+.2f} s"
    )


if __name__ == "__main__":
    main()
