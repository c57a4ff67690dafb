"""``attribution``: what drives the model's decisions (SHAP), e.g. no protected attribute in the top k.

Example::

    - id: EXPL-001
      title: No protected attribute among the five most important features
      kind: attribution
      top_k: 5
      forbid: [sex, race]
      severity: high
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from auditkit.policy.evidence import Evidence, finding
from auditkit.policy.findings import Finding
from auditkit.policy.model import RuleCommon
from auditkit.policy.rule import Rule


class AttributionRule(RuleCommon):
    kind: Literal["attribution"]
    top_k: int | None = Field(default=None, ge=1)
    """How many of the most important features ``forbid`` applies to."""
    forbid: list[str] | None = None
    """Features that must not be among the ``top_k`` most important."""
    features: list[str] | None = None
    """A feature set whose share of total attribution is bounded by ``max_share``."""
    max_share: float | None = Field(default=None, ge=0, le=1)

    @model_validator(mode="after")
    def _one_form(self) -> AttributionRule:
        if (self.top_k is None) != (self.forbid is None):
            raise ValueError("top_k and forbid go together")
        if (self.features is None) != (self.max_share is None):
            raise ValueError("features and max_share go together")
        if self.top_k is None and self.features is None:
            raise ValueError("give top_k with forbid, or features with max_share")
        return self


def evaluate(rule: Rule, evidence: Evidence) -> Finding:
    """Not evaluated yet: attribution rules need SHAP explanations, which this version does not compute."""
    return finding(
        rule,
        "not_applicable",
        "attribution rules need SHAP explanations of the model, which this version of auditkit does not "
        "compute yet; the rule was not evaluated",
    )


EXAMPLE = __doc__.split("Example::", 1)[1] if __doc__ else ""
