"""``drift``: input distributions of the current data stay close to the reference data.

``statistic`` is one of ``psi``, ``ks``, ``js_divergence``, ``chi_square_p_value``, ``ks_p_value``; the rule
holds when every selected column satisfies the comparison. In ``columns``, ``$score`` stands for the
project's score column (the model's output): its drift is measured when the reference has the score
too, and is ``not_applicable`` otherwise.

Example::

    - id: DRIFT-001
      title: Input distributions are stable against training data
      kind: drift
      statistic: psi
      columns: all
      op: "<="
      value: 0.25
      severity: medium
"""

from __future__ import annotations

from typing import Literal

from auditkit.policy.evidence import Evidence, combine, decide, finding, format_number, worst
from auditkit.policy.findings import Finding, GroupOutcome
from auditkit.policy.kinds.base import Comparison
from auditkit.policy.rule import Rule

Statistic = Literal["psi", "ks", "js_divergence", "chi_square_p_value", "ks_p_value"]
SCORE = "$score"
"""In ``columns``, the project's score column."""


class DriftRule(Comparison):
    kind: Literal["drift"]
    statistic: Statistic
    columns: Literal["all"] | list[str] = "all"
    """``all`` (every feature column) or a list of columns (``$score``: the score column)."""


def evaluate(rule: Rule, evidence: Evidence) -> Finding:
    spec = rule.spec
    assert isinstance(spec, DriftRule)
    if evidence.drift is None:
        # Like an explainability rule without a model: the project gives nothing to judge, which a
        # reader is told; it is not a failure of the run (exit 2) in every project without one.
        return finding(
            rule,
            "not_applicable",
            "no reference dataset to compare with (data.reference or --reference)",
        )
    features = evidence.drift.features
    groups: list[GroupOutcome] = []
    if spec.columns != "all":
        wanted, groups = _expand_score(spec.columns, evidence)
        present = {feature.column for feature in features}
        missing = [column for column in wanted if column not in present]
        if missing:
            return finding(
                rule, "error", f"no drift for column(s) {', '.join(missing)}: not in both datasets"
            )
        features = tuple(feature for feature in features if feature.column in wanted)
    for feature in features:
        observed = feature.statistic(spec.statistic)
        if observed is None:
            reason = feature.reasons.get(spec.statistic)
            if reason is None:
                groups.append(
                    GroupOutcome(
                        {"column": feature.column},
                        "not_applicable",
                        None,
                        None,
                        None,
                        f"{spec.statistic} does not apply to {feature.kind} columns",
                    )
                )
            else:
                groups.append(
                    GroupOutcome(
                        {"column": feature.column}, "inconclusive", None, None, None, reason
                    )
                )
            continue
        status, why = decide(observed, spec.op, spec.value, interval=None, confident=False)
        groups.append(GroupOutcome({"column": feature.column}, status, observed, None, None, why))
    chosen = worst(groups, spec.op)
    observed = chosen.observed if chosen else None
    failing = [str(group.group["column"]) for group in groups if group.status == "fail"]
    subject = chosen.label() if chosen else "no column"
    message = f"{spec.statistic} of {subject} is {format_number(observed, against=spec.value)} (required {spec.op} {spec.value:g})"
    if len(failing) > 1:
        message += f"; {len(failing)} columns fail: {', '.join(failing)}"
    return finding(
        rule, combine(groups), message, observed=observed, groups=groups, metric=spec.statistic
    )


def _expand_score(columns: list[str], evidence: Evidence) -> tuple[list[str], list[GroupOutcome]]:
    """``$score`` -> the score column when both datasets have it; otherwise a not_applicable row."""
    if SCORE not in columns:
        return columns, []
    wanted = [column for column in columns if column != SCORE]
    score = evidence.score_column
    measured = {feature.column for feature in evidence.drift.features} if evidence.drift else set()
    if score is not None and score in measured:
        return [*wanted, score], []
    reason = (
        "the project has no score column"
        if score is None
        else f"the reference data has no score column {score!r}: nothing to compare"
    )
    return wanted, [GroupOutcome({"column": score or SCORE}, "not_applicable", None, reason=reason)]


EXAMPLE = __doc__.split("Example::", 1)[1] if __doc__ else ""
