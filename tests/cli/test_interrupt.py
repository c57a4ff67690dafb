"""Ctrl-C while DuckDB runs a query ends the command like Ctrl-C anywhere else: one line and exit
130, not an internal error (DuckDB catches the signal and raises its own error instead)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

# A command that runs a query long enough to be interrupted, added to the CLI of a child process.
_CHILD = """
import signal, sys, threading
import click, duckdb
from auditkit.cli.main import cli, main

signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started with Ctrl-C ignored

@cli.command("spin")
def spin():
    connection = duckdb.connect()
    # What DuckDB does on Ctrl-C (its own handler interrupts the query), done from a thread: a
    # signal sent here reaches DuckDB only if it arrives while the query runs, a race in a test.
    threading.Timer(0.3, connection.interrupt).start()
    # Ends on its own (in seconds) should the interrupt not stop it: the test then fails, not hangs.
    connection.execute("SELECT count(*) FROM range(10000000000) t(x) WHERE x % 7 = 3").fetchall()

sys.exit(main(["spin"]))
"""


def test_an_interrupted_query_aborts_the_command() -> None:
    environment = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    environment.pop("AUDITKIT_DEBUG", None)
    done = subprocess.run(
        [sys.executable, "-c", _CHILD],
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
    )
    assert done.returncode == 130, done.stderr
    assert done.stderr.strip().splitlines() == ["auditkit: aborted"]
