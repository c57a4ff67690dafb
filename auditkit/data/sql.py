"""Small helpers for writing SQL text safely and for reading DuckDB column types."""

from __future__ import annotations

import math
import numbers
import re
import sys
from typing import Any


def quote_identifier(name: str) -> str:
    """Quote a column or table name for DuckDB."""
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: Any) -> str:
    """Render a Python scalar as a DuckDB literal."""
    if value is None:
        return "NULL"
    if isinstance(value, bool) or _is_numpy_bool(value):
        return "TRUE" if value else "FALSE"
    # The ABCs take numpy scalars too, whose repr() is "np.float64(0.5)" rather than a number;
    # int() and float() also turn IntEnum members into plain numbers.
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        number = float(value)
        # nan and inf have no literal syntax; DuckDB casts their names from text.
        return repr(number) if math.isfinite(number) else f"'{number!r}'::DOUBLE"
    return "'" + str(value).replace("'", "''") + "'"


def _is_numpy_bool(value: Any) -> bool:
    # numpy's bool is no numbers.Integral. A numpy value exists only once numpy is imported, so
    # quoting never imports it (the report's process has no use for it before its charts).
    numpy = sys.modules.get("numpy")
    return numpy is not None and isinstance(value, numpy.bool_)


INTEGER_TYPES = frozenset(
    {
        "TINYINT",
        "SMALLINT",
        "INTEGER",
        "BIGINT",
        "HUGEINT",
        "UTINYINT",
        "USMALLINT",
        "UINTEGER",
        "UBIGINT",
        "UHUGEINT",
    }
)
FLOATING_TYPES = frozenset({"FLOAT", "REAL", "DOUBLE"})
_NUMERIC_TYPE = re.compile(
    "(" + "|".join(sorted(INTEGER_TYPES | FLOATING_TYPES)) + r"|DECIMAL(\(\s*\d+\s*,\s*\d+\s*\))?)",
    re.IGNORECASE,
)


def is_numeric_type(column_type: str) -> bool:
    """True for DuckDB's numeric types (not for lists, arrays or structs of them)."""
    return _NUMERIC_TYPE.fullmatch(column_type.strip()) is not None


def is_integer_type(column_type: str) -> bool:
    return column_type.strip().upper() in INTEGER_TYPES
