"""Evaluate policies: plan the evidence the rules need, then judge every rule against it.

Metric work is planned once for all rules (the union of their groupings, one metric report, one scan),
so a large policy costs little more than a single metric query. A rule that cannot be evaluated becomes
an ``error`` finding; the run goes on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from auditkit.policy.evidence import Evidence, finding
from auditkit.policy.findings import Finding
from auditkit.policy.kinds import RULE_EVALUATORS
from auditkit.policy.kinds.base import groupings_of
from auditkit.policy.kinds.parity import reference_key
from auditkit.policy.loader import Policy
from auditkit.policy.rule import Rule


@dataclass(frozen=True)
class Plan:
    """What the rules of a run need computed."""

    groupings: tuple[tuple[str, ...], ...]
    reference_groups: tuple[dict[str, Any], ...] = ()
    needs_metrics: bool = False
    needs_drift: bool = False
    needs_quality: bool = False
    needs_sql: bool = False
    drift_score: bool = False
    """A drift rule names ``$score``: measure the score column's drift too."""
    needs_explanations: bool = False
    """SHAP attributions of the model (``attribution``, ``proxy`` and ``reasons`` rules)."""
    reason_count: int | None = None
    """The most principal reasons a ``reasons`` rule asks of each declined row."""
    confidence: float = 0.95
    """The first metric rule's confidence: the stored metrics' intervals are at this level."""
    confidences: tuple[float, ...] = (0.95,)
    """Every confidence level a metric rule judges at (each rule reads intervals at its own)."""
    min_group_size: int = 30
    """The smallest minimum group size of the rules: groups below it are flagged inconclusive in the
    stored metrics (each rule still judges by its own minimum)."""
    yardstick_sizes: tuple[int, ...] = ()
    """The minimum group sizes of the rules that read ``ratio_to_max``, whose yardstick (the highest
    group large enough to judge) depends on it: each other than ``min_group_size`` gets a report."""
    columns: frozenset[str] = field(default_factory=frozenset)
    """Columns the rules name (checked against the data before anything is computed)."""


METRIC_KINDS = frozenset({"threshold", "parity", "coverage", "disclosure"})
"""Rule kinds that read the metric report."""


def rules_of(policies: Sequence[Policy]) -> list[Rule]:
    return [rule for policy in policies for rule in policy.rules]


def plan(policies: Sequence[Policy], sensitive: tuple[str, ...] = ()) -> Plan:
    groupings: dict[tuple[str, ...], None] = {}
    references: dict[tuple[tuple[str, Any], ...], dict[str, Any]] = {}
    kinds: set[str] = set()
    confidences: dict[float, None] = {}
    min_group_size: int | None = None
    yardsticks: dict[int, None] = {}
    columns: set[str] = set()
    for rule in rules_of(policies):
        spec = rule.spec
        kinds.add(spec.kind)
        if spec.kind in METRIC_KINDS:
            confidences[rule.confidence] = None
        min_group_size = min(min_group_size or rule.min_group_size, rule.min_group_size)
        if reads_ratio_to_max(rule):
            yardsticks[rule.min_group_size] = None
        for grouping in groupings_of(getattr(spec, "by", None), sensitive):
            groupings[grouping] = None
            columns.update(grouping)
        reference = getattr(spec, "reference_group", None)
        if reference:
            references[reference_key(reference)] = dict(reference)
    return Plan(
        groupings=tuple(groupings),
        reference_groups=tuple(references.values()),
        needs_metrics=bool(kinds & METRIC_KINDS),
        needs_drift="drift" in kinds,
        needs_quality="data_quality" in kinds,
        needs_sql="sql" in kinds,
        drift_score=any(_names_score(rule) for rule in rules_of(policies)),
        needs_explanations=bool(kinds & {"attribution", "proxy", "reasons"}),
        reason_count=_reason_count(policies),
        confidence=next(iter(confidences), 0.95),
        confidences=tuple(confidences) or (0.95,),
        min_group_size=min_group_size or 30,
        yardstick_sizes=tuple(yardsticks),
        columns=frozenset(columns),
    )


def reads_ratio_to_max(rule: Rule) -> bool:
    """A rule judging (``parity``) or disclosing (``disclosure``) each group against the highest."""
    spec = rule.spec
    return spec.kind == "disclosure" or (
        spec.kind == "parity" and getattr(spec, "aggregate", None) == "ratio_to_max"
    )


def _reason_count(policies: Sequence[Policy]) -> int | None:
    from auditkit.policy.kinds.reasons import ReasonsRule

    asked = [rule.spec.top_k for rule in rules_of(policies) if isinstance(rule.spec, ReasonsRule)]
    return max(asked, default=None)


def _names_score(rule: Rule) -> bool:
    from auditkit.policy.kinds.drift import SCORE

    columns = getattr(rule.spec, "columns", None) if rule.spec.kind == "drift" else None
    return isinstance(columns, list) and SCORE in columns


def evaluate(policies: Sequence[Policy], evidence: Evidence) -> tuple[Finding, ...]:
    """Every rule's finding, in policy order."""
    return tuple(_evaluate_rule(rule, evidence) for rule in rules_of(policies))


def _evaluate_rule(rule: Rule, evidence: Evidence) -> Finding:
    try:
        result: Finding = RULE_EVALUATORS[rule.spec.kind](rule, evidence)
    except Exception as error:  # a failing rule is a finding, never a crashed run
        return finding(
            rule, "error", f"the rule could not be evaluated: {type(error).__name__}: {error}"
        )
    return result
