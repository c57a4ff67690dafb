"""Small helpers for writing SQL text safely."""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np


def quote_identifier(name: str) -> str:
    """Quote a column or table name for DuckDB."""
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: Any) -> str:
    """Render a Python scalar as a DuckDB literal."""
    if value is None:
        return "NULL"
    if isinstance(value, bool | np.bool_):
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
