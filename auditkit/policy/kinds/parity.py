"""``parity``: groups must not differ too much on a metric.

``aggregate`` says how groups are compared: ``ratio_to_max`` (each group's rate over the highest group's:
the four-fifths rule and the NYC LL144 impact ratio), ``min_max_ratio``, ``max_min_difference``,
``ratio_to_reference`` / ``difference_to_reference`` (with ``reference_group``), ``ratio_to_overall`` /
``difference_to_overall``.

Example::

    - id: FAIR-001
      title: Approval rates meet the four-fifths rule for every sex and race group
      kind: parity
      metric: selection_rate
      by: [sex, race]
      aggregate: ratio_to_max
      op: ">="
      value: 0.8
      severity: critical
      references: [{framework: EEOC UGESP, clause: 29 CFR 1607.4(D)}]
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import field_validator, model_validator

from auditkit.policy.kinds.base import GroupedComparison, Grouping, known_metric

Aggregate = Literal[
    "ratio_to_max",
    "min_max_ratio",
    "max_min_difference",
    "ratio_to_reference",
    "difference_to_reference",
    "ratio_to_overall",
    "difference_to_overall",
]
PER_GROUP_AGGREGATES = frozenset(
    {
        "ratio_to_max",
        "ratio_to_reference",
        "difference_to_reference",
        "ratio_to_overall",
        "difference_to_overall",
    }
)


class ParityRule(GroupedComparison):
    kind: Literal["parity"]
    metric: str
    """The metric compared across groups (a rate such as ``selection_rate`` or ``fpr``)."""
    by: list[Grouping]  # required here, optional in the base
    aggregate: Aggregate = "ratio_to_max"
    reference_group: dict[str, Any] | None = None
    """For ``*_to_reference``: the reference value of each attribute, e.g. ``{race: White}``."""

    @field_validator("metric")
    @classmethod
    def _known(cls, metric: str) -> str:
        from auditkit.metrics.registry import METRICS

        return known_metric(metric, METRICS)

    @model_validator(mode="after")
    def _reference_when_needed(self) -> ParityRule:
        if self.aggregate.endswith("_to_reference") and not self.reference_group:
            raise ValueError(
                f"aggregate {self.aggregate} needs reference_group, e.g. {{race: White}}"
            )
        return self


EXAMPLE = __doc__.split("Example::", 1)[1] if __doc__ else ""
