"""Ctrl-C while DuckDB runs a query ends the command like Ctrl-C anywhere else: one line and exit
130, not an internal error (DuckDB catches the signal and raises its own error instead)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

# A command that runs a query long enough to be interrupted, added to the CLI of a child process.
_CHILD = """
import os, signal, sys, threading
import click, duckdb
from auditkit.cli.main import cli, main

signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started with Ctrl-C ignored

@cli.command("spin")
@click.argument("how")
def spin(how):
    connection = duckdb.connect()
    if how == "signal":  # what Ctrl-C in a terminal does
        threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT)).start()
    else:  # what a program embedding DuckDB does to stop a query
        threading.Timer(0.3, connection.interrupt).start()
    connection.execute("SELECT count(*) FROM range(1000000000000) t(x) WHERE x % 7 = 3").fetchall()

sys.exit(main(["spin", sys.argv[1]]))
"""


@pytest.mark.parametrize("how", ["signal", "interrupt"])
def test_an_interrupted_query_aborts_the_command(how: str) -> None:
    environment = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    environment.pop("AUDITKIT_DEBUG", None)
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, how],
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
    )
    assert done.returncode == 130, done.stderr
    assert done.stderr.strip().splitlines() == ["auditkit: aborted"]
