"""``threshold``: a metric must satisfy a bound overall, or in every group of the given groupings.

Example::

    - id: PERF-001
      title: Discrimination power is adequate
      kind: threshold
      metric: roc_auc
      op: ">="
      value: 0.75
      severity: high
"""

from __future__ import annotations

from typing import Literal

from pydantic import field_validator

from auditkit.policy.kinds.base import GroupedComparison, known_metric


class ThresholdRule(GroupedComparison):
    kind: Literal["threshold"]
    metric: str
    """A metric key (``auditkit policy list`` shows them) or a named fairness metric when ``by`` is set."""

    @field_validator("metric")
    @classmethod
    def _known(cls, metric: str) -> str:
        from auditkit.metrics.registry import FAIRNESS_METRICS, METRICS

        return known_metric(metric, [*METRICS, *FAIRNESS_METRICS])


EXAMPLE = __doc__.split("Example::", 1)[1] if __doc__ else ""
