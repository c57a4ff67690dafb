"""Every DuckDB connection auditkit opens keeps standard output clean.

DuckDB draws a progress bar on standard output for a query over two seconds, even into a pipe or a
file; a slow scan would corrupt ``auditkit check --format json > check.json``. DuckDB turns it off
by itself under pytest, so the connections are opened in a plain Python process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROBE = """
import json, sys
from pathlib import Path
import duckdb
from auditkit.data import Workspace
from auditkit.policy.sandbox import SqlSandbox
from auditkit.trail.store import TrailStore

def enabled(connection):
    query = "SELECT value FROM duckdb_settings() WHERE name = 'enable_progress_bar'"
    return connection.execute(query).fetchone()[0] == "true"

store = TrailStore(Path(sys.argv[1]))
print(json.dumps({
    "plain duckdb": enabled(duckdb.connect()),
    "workspace": enabled(Workspace().connection),
    "policy sandbox": enabled(SqlSandbox.over({}).connection),
    "audit store": enabled(store._connect(read_only=False)),
}))
"""


def test_no_connection_draws_a_progress_bar(tmp_path: Path) -> None:
    environment = os.environ | {"PYTHONPATH": str(ROOT)}
    completed = subprocess.run(
        [sys.executable, "-c", PROBE, str(tmp_path / "audit.duckdb")],
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    enabled = json.loads(completed.stdout)
    assert enabled == {
        "plain duckdb": True,  # what DuckDB would do
        "workspace": False,
        "policy sandbox": False,
        "audit store": False,
    }
