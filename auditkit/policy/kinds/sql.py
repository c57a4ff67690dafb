"""``sql``: a read-only query over the registered tables returns one number that must satisfy a bound.

The query sees the views ``current`` and ``reference`` only: no file reads, no extensions, no network,
and a time limit.

Example::

    - id: SQL-001
      title: Scores lie in [0, 1]
      kind: sql
      query: SELECT count(*) FROM current WHERE approval_score NOT BETWEEN 0 AND 1
      op: "=="
      value: 0
      severity: medium
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from auditkit.policy.kinds.base import Comparison


class SqlRule(Comparison):
    kind: Literal["sql"]
    query: str = Field(min_length=1)
    """A SELECT returning one row with one numeric column."""
    timeout_seconds: float = Field(default=30.0, gt=0, le=600)


EXAMPLE = __doc__.split("Example::", 1)[1] if __doc__ else ""
