"""Settings of every DuckDB connection auditkit opens."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb


def quiet(connection: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """``connection``, drawing no progress bar.

    DuckDB draws one on standard output for any query that runs over two seconds, even when standard
    output is a pipe or a file, where it would corrupt ``--format json`` and the other outputs. The
    setting is the connection's own (it cannot be given when connecting).
    """
    connection.execute("SET enable_progress_bar = false")
    return connection
