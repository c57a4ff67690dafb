"""``proxy``: no feature stands in for a protected attribute (association with it times importance).

Example::

    - id: PROXY-001
      title: No feature is a strong proxy for race or sex
      kind: proxy
      sensitive: [race, sex]
      op: "<="
      value: 0.3
      severity: high
"""

from __future__ import annotations

from typing import Literal

from auditkit.policy.evidence import Evidence, finding
from auditkit.policy.findings import Finding
from auditkit.policy.kinds.base import Comparison
from auditkit.policy.rule import Rule


class ProxyRule(Comparison):
    kind: Literal["proxy"]
    sensitive: list[str] | None = None
    """Protected attributes to check (default: the project's sensitive columns)."""


def evaluate(rule: Rule, evidence: Evidence) -> Finding:
    """Not evaluated yet: proxy rules need SHAP explanations, which this version does not compute."""
    return finding(
        rule,
        "not_applicable",
        "proxy rules need SHAP explanations of the model, which this version of auditkit does not "
        "compute yet; the rule was not evaluated",
    )


EXAMPLE = __doc__.split("Example::", 1)[1] if __doc__ else ""
