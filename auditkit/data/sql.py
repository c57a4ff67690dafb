"""Small helpers for writing SQL text safely."""

from __future__ import annotations

from typing import Any


def quote_identifier(name: str) -> str:
    """Quote a column or table name for DuckDB."""
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: Any) -> str:
    """Render a Python scalar as a DuckDB literal."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"
