"""``coverage``: every group is large enough to judge, and few rows lack a sensitive value.

``check: min_group_size`` observes the smallest group's row count; ``check: unknown_share`` observes the
share of rows whose sensitive value is missing (the explicit ``unknown`` group).

Example::

    - id: COV-001
      title: Every race group has at least 30 applicants
      kind: coverage
      check: min_group_size
      by: [race]
      op: ">="
      value: 30
      severity: medium
"""

from __future__ import annotations

from typing import Literal

from auditkit.policy.kinds.base import GroupedComparison, Grouping


class CoverageRule(GroupedComparison):
    kind: Literal["coverage"]
    check: Literal["min_group_size", "unknown_share"]
    by: list[Grouping]  # required here


EXAMPLE = __doc__.split("Example::", 1)[1] if __doc__ else ""
