"""What rules are evaluated against, and the decision logic they share.

Decisions are honest: a group smaller than the rule's minimum size, or whose value is undefined, is
``inconclusive``; with ``decision: confident`` a group fails only when its whole confidence interval is
on the wrong side of the threshold and passes only when the whole interval is on the right side.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from auditkit.policy.findings import Finding, GroupOutcome, Outcome, Reference
from auditkit.policy.rule import Rule

if TYPE_CHECKING:
    from auditkit.explain.report import ExplanationReport
    from auditkit.metrics.drift import DriftReport
    from auditkit.metrics.quality import QualityReport
    from auditkit.metrics.result import MetricReport
    from auditkit.policy.sandbox import SqlSandbox

OPERATORS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
    "==": operator.eq,
    "!=": operator.ne,
}


@dataclass(frozen=True)
class Evidence:
    """Everything computed for a run; a rule reads what its kind needs."""

    metrics: MetricReport | None = None
    drift: DriftReport | None = None
    quality: QualityReport | None = None
    sandbox: SqlSandbox | None = None
    rows: int = 0
    sensitive: tuple[str, ...] = ()
    """The project's sensitive attributes, for ``$sensitive`` in ``by:``."""
    reference_metrics: dict[tuple[tuple[tuple[str, Any], ...], float], MetricReport] | None = None
    """Metric reports computed with other reference groups, keyed by the sorted reference mapping
    and the confidence level of their intervals."""
    metrics_by_confidence: dict[float, MetricReport] | None = None
    """The metric report at every confidence level a rule asks for (``metrics`` is one of them)."""
    metrics_by_size: dict[tuple[float, int], MetricReport] | None = None
    """Reports whose ``ratio_to_max`` yardstick is the highest group of another minimum size, keyed by
    confidence level and that size (for the rules reading ``ratio_to_max`` with their own minimum)."""
    score_column: str | None = None
    """The project's score column, for ``$score`` in drift rules."""
    explanations: ExplanationReport | None = None
    """SHAP attributions, group importance, proxy risks and reason codes (when a rule needs them)."""
    explanations_missing: tuple[Outcome, str] | None = None
    """Why there are no explanations: (``not_applicable`` or ``error``, the reason)."""

    def metrics_at(
        self, confidence: float, min_group_size: int | None = None
    ) -> MetricReport | None:
        """The metric report whose intervals are at ``confidence`` (a rule's own level) and, when
        ``min_group_size`` is given, whose ``ratio_to_max`` divides by the highest group of that size."""
        if min_group_size is not None and self.metrics_by_size:
            sized = self.metrics_by_size.get((confidence, min_group_size))
            if sized is not None:
                return sized
        if self.metrics_by_confidence is None:
            return self.metrics
        return self.metrics_by_confidence.get(confidence)


_TIE = 1e-12
"""Relative distance under which a value equals its threshold: 0.6 / 0.75 is 0.7999999999999999 in
binary floating point, and an impact ratio of exactly four fifths must meet ``>= 0.8``."""


def holds(observed: float, op: str, threshold: float) -> bool:
    if math.isclose(observed, threshold, rel_tol=_TIE, abs_tol=_TIE):
        observed = threshold
    return OPERATORS[op](observed, threshold)


def decide(
    observed: float | None,
    op: str,
    threshold: float,
    *,
    interval: tuple[float, float] | None,
    confident: bool,
) -> tuple[Outcome, str | None]:
    """pass / fail / inconclusive for one observed value."""
    if observed is None:
        return "inconclusive", "the value is undefined"
    if not confident or interval is None or op in ("==", "!="):
        return ("pass" if holds(observed, op, threshold) else "fail"), None
    low, high = interval
    if op in (">=", ">"):
        if holds(low, op, threshold):
            return "pass", None
        if not holds(high, op, threshold):
            return "fail", None
    else:
        if holds(high, op, threshold):
            return "pass", None
        if not holds(low, op, threshold):
            return "fail", None
    return "inconclusive", f"the {interval_text(interval)} interval straddles the threshold"


def interval_text(interval: tuple[float, float]) -> str:
    return f"[{interval[0]:.4g}, {interval[1]:.4g}]"


def combine(groups: Sequence[GroupOutcome]) -> Outcome:
    """A rule fails if any group fails, is inconclusive if any group is, and passes otherwise."""
    statuses = {group.status for group in groups}
    if "fail" in statuses:
        return "fail"
    if "inconclusive" in statuses:
        return "inconclusive"
    if "pass" in statuses:
        return "pass"
    return "not_applicable"


def worst(groups: Sequence[GroupOutcome], op: str) -> GroupOutcome | None:
    """The group furthest on the failing side: the lowest value for >=, the highest for <=."""
    valued = [
        group for group in groups if group.observed is not None and group.status != "not_applicable"
    ]
    if not valued:
        return None
    failing = [group for group in valued if group.status == "fail"] or valued
    pick = min if op in (">=", ">") else max
    return pick(failing, key=lambda group: group.observed if group.observed is not None else 0.0)


def format_number(value: float | None, *, against: float | None = None) -> str:
    """``value`` to four significant digits. Given ``against``, the threshold it is compared with,
    with as many more digits as it takes for the number shown to compare with the threshold as the
    value does: a balanced accuracy of 0.6499956 that fails ``>= 0.65`` is not shown as 0.65."""
    if value is None:
        return "undefined"
    if abs(value) >= 1e6:
        return f"{value:,.0f}"
    digits = 4
    shown = f"{value:.{digits}g}"
    while (
        against is not None
        and digits < 17
        and _sign(float(shown) - against) != _sign(value - against)
    ):
        digits += 1
        shown = f"{value:.{digits}g}"
    return shown


def _sign(difference: float) -> int:
    return (difference > 0) - (difference < 0)


def finding(
    rule: Rule,
    status: Outcome,
    message: str,
    *,
    observed: float | None = None,
    groups: Sequence[GroupOutcome] = (),
    metric: str | None = None,
) -> Finding:
    """A finding for ``rule`` with the rule's own metadata; a custom message template wins."""
    spec = rule.spec
    threshold = getattr(spec, "value", None)
    op = getattr(spec, "op", None)
    if spec.message and status in ("fail", "inconclusive"):
        message = (
            render_template(
                spec.message,
                rule=spec.id,
                observed=observed,
                threshold=threshold,
                op=op,
                group=_worst_label(groups, op),
                metric=metric,
            )
            or message
        )
    return Finding(
        rule_id=spec.id,
        title=spec.title,
        kind=spec.kind,
        severity=spec.severity,
        status=status,
        message=message,
        policy_id=rule.policy_id,
        enforcement=rule.enforcement,
        observed=observed,
        threshold=threshold,
        op=op,
        metric=metric,
        groups=tuple(groups),
        references=tuple(Reference(r.framework, r.clause, r.url) for r in spec.references),
        remediation=spec.remediation.strip() if spec.remediation else None,
        source=str(rule.source),
        aggregate=getattr(spec, "aggregate", None),
        min_group_size=rule.min_group_size,
    )


def without_outcomes(rule: Rule, metrics: Sequence[str], report: MetricReport) -> Finding | None:
    """The ``error`` finding of a rule that needs observed outcomes on data without a label column.

    Like a metric that needs a missing score column, the rule cannot be judged: an error, so that a
    policy that could not be evaluated never passes. ``None`` when the rule can be evaluated.
    """
    from auditkit.metrics.registry import needs_label

    if report.labelled:
        return None
    needing = [metric for metric in metrics if needs_label(metric)]
    if not needing:
        return None
    named = ", ".join(needing)
    return finding(
        rule,
        "error",
        f"{named} needs observed outcomes, but the data has no label column "
        "(set columns.label or --label)",
        metric=needing[0],
    )


def _worst_label(groups: Sequence[GroupOutcome], op: str | None) -> str:
    chosen = worst(groups, op or ">=")
    return chosen.label() if chosen else "all"


def render_template(template: str, **values: Any) -> str | None:
    """Fill ``{observed}``-style placeholders; a template naming unknown placeholders is left as written."""
    shown = {
        key: format_number(value) if isinstance(value, float) or value is None else value
        for key, value in values.items()
    }
    try:
        return template.format(**shown)
    except (KeyError, IndexError, ValueError):
        return template
