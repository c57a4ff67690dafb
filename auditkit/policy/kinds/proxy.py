"""``proxy``: no feature stands in for a protected attribute (association with it times importance).

For every model input and protected attribute, the association is Cramér's V (categorical input) or
the correlation ratio η (numeric input), computed in DuckDB over the whole current dataset; the proxy
risk is that association times the input's mean |SHAP| relative to the most important input's. Both lie
in [0, 1]. ``measure: association`` judges the association alone (whether or not the model leans on
the feature). Each (feature, attribute) pair is a group of the finding; any failing pair fails the rule.
Without a model the rule is ``not_applicable``.

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

from auditkit.policy.evidence import Evidence, combine, decide, finding, format_number, worst
from auditkit.policy.findings import Finding, GroupOutcome
from auditkit.policy.kinds.base import Comparison
from auditkit.policy.rule import Rule


class ProxyRule(Comparison):
    kind: Literal["proxy"]
    sensitive: list[str] | None = None
    """Protected attributes to check (default: the project's sensitive columns)."""
    features: list[str] | None = None
    """Model inputs to check (default: every input)."""
    measure: Literal["risk", "association"] = "risk"
    """``risk`` (association times relative importance) or ``association`` alone."""


def evaluate(rule: Rule, evidence: Evidence) -> Finding:
    spec = rule.spec
    assert isinstance(spec, ProxyRule)
    report = evidence.explanations
    if report is None:
        status, reason = evidence.explanations_missing or ("error", "no explanations were computed")
        return finding(rule, status, reason)
    attributes = spec.sensitive or list(evidence.sensitive)
    unknown = [a for a in attributes if a not in evidence.sensitive]
    if unknown:
        return finding(
            rule,
            "error",
            f"{', '.join(unknown)}: not a sensitive column of the project "
            f"({', '.join(evidence.sensitive) or 'none'}); proxies are measured for those",
        )
    pairs = [
        pair
        for pair in report.proxies
        if pair.attribute in attributes and (spec.features is None or pair.feature in spec.features)
    ]
    groups = []
    for pair in pairs:
        value = pair.risk if spec.measure == "risk" else pair.association
        status, undecided = decide(value, spec.op, spec.value, interval=None, confident=False)
        detail = (
            f"{pair.measure} {format_number(pair.association)} x relative importance "
            f"{format_number(pair.importance)}"
        )
        groups.append(
            GroupOutcome(
                {"feature": pair.feature, "sensitive": pair.attribute},
                status,
                value,
                n=pair.rows,
                reason=pair.note or undecided or detail,
            )
        )
    chosen = worst(groups, spec.op)
    observed = chosen.observed if chosen else None
    message = (
        f"highest proxy {spec.measure}: {chosen.label()} at {format_number(observed, against=spec.value)} "
        f"(required {spec.op} {spec.value:g}; {chosen.reason})"
        if chosen
        else "no feature and attribute pair to judge"
    )
    return finding(rule, combine(groups), message, observed=observed, groups=groups)


EXAMPLE = __doc__.split("Example::", 1)[1] if __doc__ else ""
