"""Benchmark: time from launching ``auditkit tui`` to its first screen, in a real terminal (tmux).

The clock starts when tmux starts the command and stops when the first screen (the navigation bar and
the overview's verdict line) is on the terminal; the policy check itself goes on in a worker.

    python bench/bench_tui.py                       # the sample project, 5 runs, 100x30 terminal
    python bench/bench_tui.py --project auditkit.yaml --runs 10
    python bench/bench_tui.py --project /tmp/big/auditkit.yaml --runs 1 --data-screen   # paging
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SESSION = "auditkit-bench-tui"
FIRST_SCREEN_MARKERS = ("2 Data", "Verdict:")


def capture() -> str:
    result = subprocess.run(
        ["tmux", "capture-pane", "-p", "-t", SESSION], capture_output=True, text=True
    )
    return result.stdout


def first_screen_seconds(
    project: Path, width: int, height: int, timeout: float, *, keep: bool = False
) -> float:
    command = f"cd {ROOT} && PYTHONPATH={ROOT} {sys.executable} -m auditkit tui {project}"
    subprocess.run(["tmux", "kill-session", "-t", SESSION], capture_output=True)
    started = time.perf_counter()
    subprocess.run(
        ["tmux", "new-session", "-d", "-s", SESSION, "-x", str(width), "-y", str(height), command],
        check=True,
    )
    try:
        while time.perf_counter() - started < timeout:
            if all(marker in capture() for marker in FIRST_SCREEN_MARKERS):
                return time.perf_counter() - started
            time.sleep(0.01)
        raise SystemExit(f"no first screen within {timeout} s:\n{capture()}")
    finally:
        if not keep:
            press("q")
            time.sleep(0.3)
            subprocess.run(["tmux", "kill-session", "-t", SESSION], capture_output=True)


def wait_for(text: str, timeout: float) -> float:
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if text in capture():
            return time.perf_counter() - started
        time.sleep(0.01)
    raise SystemExit(f"{text!r} did not appear within {timeout} s:\n{capture()}")


def press(key: str) -> None:
    subprocess.run(["tmux", "send-keys", "-t", SESSION, key], check=True)


def data_screen_seconds(project: Path, width: int, height: int, timeout: float) -> dict[str, float]:
    """Open the data screen, flip pages (first, next, last) and profile, timing each."""
    first_screen_seconds(project, width, height, timeout, keep=True)
    timings: dict[str, float] = {}
    try:
        press("2")
        timings["first page"] = wait_for("rows 1–100 of", timeout)
        total = capture().split("rows 1–100 of ", 1)[1].split()[0]
        press("n")
        timings["next page"] = wait_for(f"rows 101–200 of {total}", timeout)
        press("G")
        timings["last page"] = wait_for(f"of {total}", timeout) and wait_for(
            f"–{total} of {total}", timeout
        )
        press("f")
        started = time.perf_counter()
        press("1")  # the UI answers while the profile is computed
        wait_for("Verdict:", timeout)
        timings["switch screen during profile"] = time.perf_counter() - started
        press("2")
        timings["profile"] = (
            wait_for("missing %", timeout) + timings["switch screen during profile"]
        )
    finally:
        press("q")
        time.sleep(0.3)
        subprocess.run(["tmux", "kill-session", "-t", SESSION], capture_output=True)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, default=ROOT / "sample_data" / "auditkit.yaml")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--size", default="100x30", help="terminal WIDTHxHEIGHT")
    parser.add_argument("--timeout", type=float, default=20.0)
    parser.add_argument(
        "--data-screen",
        action="store_true",
        help="also time paging and profiling on the data screen",
    )
    options = parser.parse_args()
    if shutil.which("tmux") is None:
        raise SystemExit("tmux is needed (apt-get install tmux)")
    width, height = (int(part) for part in options.size.split("x"))
    times = [
        first_screen_seconds(options.project.resolve(), width, height, options.timeout)
        for _ in range(options.runs)
    ]
    print(
        f"first screen of `auditkit tui` ({options.size}, {options.runs} runs): "
        f"median {statistics.median(times):.2f} s, min {min(times):.2f} s, max {max(times):.2f} s"
    )
    if options.data_screen:
        timings = data_screen_seconds(options.project.resolve(), width, height, options.timeout)
        for name, seconds in timings.items():
            print(f"data screen, {name}: {seconds:.2f} s")
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cpus, "
        f"Python {platform.python_version()}"
    )


if __name__ == "__main__":
    main()
