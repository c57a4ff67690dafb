"""``attribution``: what drives the model's decisions (SHAP), e.g. no protected attribute in the top k.

Importance is the mean |SHAP value| of each model input over a seeded sample of the current data,
stratified by the sensitive groups (``auditkit explain`` shows it). Two forms, alone or together:
``top_k`` with ``forbid`` fails when a forbidden feature is among the ``top_k`` most important inputs
(a feature the model does not use, or whose attributions are all zero, is never among them;
``$sensitive`` in ``forbid`` is each of the project's sensitive attributes);
``features`` with ``max_share`` fails when those features together hold more than ``max_share`` of the
total attribution. Without a model the rule is ``not_applicable``.

Example::

    - id: EXPL-001
      title: No protected attribute among the five most important features
      kind: attribution
      top_k: 5
      forbid: [sex, race]
      severity: high
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field, model_validator

from auditkit.policy.evidence import Evidence, combine, finding, format_number
from auditkit.policy.findings import Finding, GroupOutcome, Outcome
from auditkit.policy.kinds.base import expand_sensitive
from auditkit.policy.model import RuleCommon
from auditkit.policy.rule import Rule

if TYPE_CHECKING:
    from auditkit.explain.report import ExplanationReport


class AttributionRule(RuleCommon):
    kind: Literal["attribution"]
    top_k: int | None = Field(default=None, ge=1)
    """How many of the most important features ``forbid`` applies to."""
    forbid: list[str] | None = None
    """Features that must not be among the ``top_k`` most important; ``$sensitive`` is the project's
    sensitive attributes."""
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
    spec = rule.spec
    assert isinstance(spec, AttributionRule)
    report = evidence.explanations
    if report is None:
        status, reason = evidence.explanations_missing or ("error", "no explanations were computed")
        return finding(rule, status, reason)
    groups: list[GroupOutcome] = []
    messages: list[str] = []
    observed: float | None = None
    if spec.top_k is not None and spec.forbid is not None:
        forbid = expand_sensitive(spec.forbid, evidence.sensitive)
        groups += _forbidden_ranks(report, forbid, spec.top_k)
        messages.append(_top_k_message(report, groups, spec.top_k))
    if spec.features is not None and spec.max_share is not None:
        share_outcome = _share(report, spec.features, spec.max_share)
        groups.append(share_outcome)
        observed = share_outcome.observed
        messages.append(share_outcome.reason or "")
    return finding(rule, combine(groups), "; ".join(messages), observed=observed, groups=groups)


def _forbidden_ranks(
    report: ExplanationReport, forbid: list[str], top_k: int
) -> list[GroupOutcome]:
    outcomes = []
    for feature in forbid:
        item = report.importance_of(feature)
        if item is None or item.rank is None:
            why = "not a model input" if item is None else "its attributions are all zero"
            outcomes.append(GroupOutcome({"feature": feature}, "pass", None, reason=why))
            continue
        status: Outcome = "fail" if item.rank <= top_k else "pass"
        reason = (
            f"rank {item.rank} of {len(report.ranked())}, {item.share:.1%} of total attribution"
        )
        outcomes.append(GroupOutcome({"feature": feature}, status, float(item.rank), reason=reason))
    return outcomes


def _top_k_message(report: ExplanationReport, outcomes: list[GroupOutcome], top_k: int) -> str:
    top = ", ".join(item.feature for item in report.ranked()[:top_k])
    failing = [f"{o.group['feature']} ({o.reason})" for o in outcomes if o.status == "fail"]
    if failing:
        return f"forbidden among the top {top_k} ({top}): {'; '.join(failing)}"
    return f"no forbidden feature among the top {top_k} ({top})"


def _share(report: ExplanationReport, features: list[str], max_share: float) -> GroupOutcome:
    known = [f for f in features if report.importance_of(f) is not None]
    share = sum(item.share for f in known if (item := report.importance_of(f)) is not None)
    status: Outcome = "fail" if share > max_share else "pass"
    absent = sorted(set(features) - set(known))
    note = f" ({', '.join(absent)} not model inputs)" if absent else ""
    reason = (
        f"share of total attribution held by {', '.join(features)}: {format_number(share, against=max_share)} "
        f"(allowed <= {max_share:g}){note}"
    )
    return GroupOutcome({"features": ", ".join(features)}, status, share, reason=reason)


EXAMPLE = __doc__.split("Example::", 1)[1] if __doc__ else ""
