"""``data_quality``: the current data is complete, in range and consistent with the reference.

``check`` names a data-quality check (``auditkit policy list`` shows them: missing_rate,
out_of_range_rate, duplicate_ids, constant, row_count, schema_changes, new_category_rate).

Example::

    - id: DQ-001
      title: Income is almost never missing
      kind: data_quality
      check: missing_rate
      columns: [income]
      op: "<="
      value: 0.01
      severity: low
"""

from __future__ import annotations

from typing import Literal

from pydantic import field_validator

from auditkit.policy.kinds.base import Comparison


class DataQualityRule(Comparison):
    kind: Literal["data_quality"]
    check: str
    columns: Literal["all"] | list[str] | None = None
    """Columns for per-column checks (default: all); ignored by dataset-wide checks such as row_count."""

    @field_validator("check")
    @classmethod
    def _known(cls, check: str) -> str:
        from auditkit.metrics.quality import QUALITY_CHECKS
        from auditkit.yamlsource import did_you_mean

        if check not in QUALITY_CHECKS:
            raise ValueError(f"unknown check {check!r}{did_you_mean(check, QUALITY_CHECKS)}")
        return check


EXAMPLE = __doc__.split("Example::", 1)[1] if __doc__ else ""
