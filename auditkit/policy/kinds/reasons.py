"""``reasons``: every declined applicant can be given specific principal reasons that are stable and
never a prohibited basis (Regulation B adverse-action notices).

A declined row's principal reasons are the model inputs that lowered its score most (negative SHAP
attributions, most adverse first), over the declined rows of the explained sample (``auditkit
explain`` shows them as reason codes). ``check`` says what is judged:

- ``available``: the share of declined rows that get at least ``top_k`` reasons with a non-zero
  adverse contribution;
- ``stability``: how often a second explanation of the same declined rows, against another
  background sample, agrees: ``measure: principal`` (the same first reason, the default) or
  ``measure: top_k`` (mean overlap of the reasons computed for the run);
- ``forbid``: the share of declined rows whose ``top_k`` reasons include a listed feature
  (``$sensitive``: each of the project's sensitive attributes); each listed feature is a group of the
  finding with the share of rows it is a reason for; ``op``/``value`` default to ``<= 0``.

``top_k`` defaults to 4 (Regulation B's commentary: more than four reasons are unlikely to help the
applicant). Shares count declined sample rows, every notice alike, with a Wilson interval for
``decision: confident``. Without a model, for a regression model, or when the sample holds no declined
row, the rule is ``not_applicable`` and says why; fewer declined rows than ``min_group_size`` give
``inconclusive``.

Example::

    - id: REASONS-001
      title: No protected attribute or its proxy among the four principal reasons
      kind: reasons
      check: forbid
      top_k: 4
      forbid: [$sensitive, region]
      severity: high
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, model_validator

from auditkit.policy.evidence import Evidence, decide, finding, format_number
from auditkit.policy.findings import Finding, GroupOutcome, Outcome
from auditkit.policy.kinds.base import expand_sensitive
from auditkit.policy.model import Operator, RuleCommon
from auditkit.policy.rule import Rule

if TYPE_CHECKING:
    from auditkit.explain.report import ReasonCodes

PRINCIPAL_REASONS = 4
"""Supplement I to Part 1002, comment 9(b)(2)-1: more than four reasons are unlikely to help."""


class ReasonsRule(RuleCommon):
    kind: Literal["reasons"]
    check: Literal["available", "stability", "forbid"]
    """``available`` (rows with ``top_k`` reasons), ``stability`` (agreement of two explanations) or
    ``forbid`` (rows whose reasons include a listed feature)."""
    top_k: int = Field(default=PRINCIPAL_REASONS, ge=1)
    """How many principal reasons a notice states (``available`` and ``forbid``)."""
    forbid: list[str] | None = None
    """Features that must not be a principal reason; ``$sensitive`` is the project's sensitive attributes."""
    measure: Literal["principal", "top_k"] = "principal"
    """For ``stability``: agreement on the first reason, or mean overlap of the reasons."""
    op: Operator
    """Comparison operator: >=, >, <=, <, ==, !=."""
    value: float
    """Threshold (a share in [0, 1])."""

    @model_validator(mode="before")
    @classmethod
    def _forbid_defaults_to_none(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("check") == "forbid":
            data = {"op": "<=", "value": 0} | data
        return data

    @model_validator(mode="after")
    def _fields_fit_the_check(self) -> ReasonsRule:
        given = self.model_fields_set
        if (self.check == "forbid") != (self.forbid is not None):
            raise ValueError("forbid: [...] goes with check: forbid, and check: forbid needs it")
        if self.check == "forbid" and not self.forbid:
            raise ValueError("forbid needs at least one feature (or $sensitive)")
        if self.check == "stability" and "top_k" in given:
            raise ValueError(
                "top_k does not apply to check: stability (it compares the reasons computed for the run)"
            )
        if self.check != "stability" and "measure" in given:
            raise ValueError("measure applies to check: stability only")
        return self


def evaluate(rule: Rule, evidence: Evidence) -> Finding:
    spec = rule.spec
    assert isinstance(spec, ReasonsRule)
    report = evidence.explanations
    if report is None:
        status, reason = evidence.explanations_missing or ("error", "no explanations were computed")
        return finding(rule, status, reason)
    reasons = report.reasons
    if reasons is None:
        return finding(
            rule, "not_applicable", "reason codes are computed for classification models only"
        )
    if not reasons.declined_rows:
        return finding(
            rule,
            "not_applicable",
            f"no declined row in the explained sample of {report.sample.rows} rows "
            f"(decision: {reasons.decision}): no adverse-action reasons to judge",
        )
    if spec.check != "stability" and spec.top_k > reasons.k:
        return finding(
            rule,
            "error",
            f"top_k {spec.top_k}: the run computed only {reasons.k} reasons per declined row",
        )
    if spec.check == "available":
        return _available(rule, spec, reasons)
    if spec.check == "stability":
        return _stability(rule, spec, reasons)
    return _forbidden(rule, spec, reasons, report.features, evidence.sensitive)


def _available(rule: Rule, spec: ReasonsRule, reasons: ReasonCodes) -> Finding:
    declined = reasons.declined_rows
    covered = reasons.rows_with_reasons(spec.top_k)
    share = covered / declined
    status, why = _judge(rule, spec, covered, declined)
    plural = "s" if spec.top_k > 1 else ""
    message = (
        f"{covered} of {declined} declined rows ({share:.1%}) get at least {spec.top_k} adverse "
        f"reason{plural} (share {format_number(share, against=spec.value)}, required {spec.op} {spec.value:g})"
        f"{_shortfall(reasons, spec.top_k)}{_because(why)}"
    )
    return finding(rule, status, message, observed=share)


def _shortfall(reasons: ReasonCodes, top_k: int) -> str:
    """How many rows got how few reasons: ``; fewer: 3 reasons 12 rows, 0 reasons 2 rows``."""
    counts = {
        count: reasons.rows_with_reasons(count) - reasons.rows_with_reasons(count + 1)
        for count in range(top_k - 1, -1, -1)
    }
    shown = [
        f"{count} reason{'' if count == 1 else 's'} {rows} rows"
        for count, rows in counts.items()
        if rows
    ]
    return f"; fewer: {', '.join(shown)}" if shown else ""


def _stability(rule: Rule, spec: ReasonsRule, reasons: ReasonCodes) -> Finding:
    stability = reasons.stability
    if stability is None or not stability.rows:
        return finding(rule, "not_applicable", "no declined row was explained a second time")
    principal = spec.measure == "principal"
    value = stability.top1_agreement if principal else stability.topk_overlap
    if value is None:
        return finding(rule, "inconclusive", "the agreement of the two explanations is undefined")
    if principal:
        agreeing = round(value * stability.rows)
        status, why = _judge(rule, spec, agreeing, stability.rows)
        what = f"the principal reason agrees for {agreeing} of {stability.rows} declined rows"
    else:
        status, why = _judge_mean(rule, spec, value, stability.rows)
        what = f"the top {reasons.k} reasons overlap on average over {stability.rows} declined rows"
    message = (
        f"{what} ({format_number(value, against=spec.value)}, required {spec.op} {spec.value:g}) against another "
        f"background sample (seed {stability.seed}; {stability.method}){_because(why)}"
    )
    return finding(rule, status, message, observed=value)


def _forbidden(
    rule: Rule,
    spec: ReasonsRule,
    reasons: ReasonCodes,
    inputs: tuple[str, ...],
    sensitive: tuple[str, ...],
) -> Finding:
    features = expand_sensitive(spec.forbid or [], sensitive)
    if not features:
        return finding(
            rule, "not_applicable", "no feature to forbid: the project names no sensitive attribute"
        )
    declined = reasons.declined_rows
    groups = [_feature_outcome(rule, spec, reasons, feature, inputs) for feature in features]
    naming = reasons.rows_naming(features, spec.top_k)
    share = naming / declined
    status, why = _judge(rule, spec, naming, declined)
    reasons_of = [group for group in groups if group.observed]
    listed = "; ".join(f"{group.label()}: {group.reason}" for group in reasons_of)
    message = (
        f"{naming} of {declined} declined rows ({share:.1%}) have {_names(features)} among their "
        f"top {spec.top_k} reasons (share {format_number(share, against=spec.value)}, required {spec.op} "
        f"{spec.value:g}){f': {listed}' if listed else ''}{_because(why)}"
    )
    return finding(rule, status, message, observed=share, groups=groups)


def _feature_outcome(
    rule: Rule, spec: ReasonsRule, reasons: ReasonCodes, feature: str, inputs: tuple[str, ...]
) -> GroupOutcome:
    declined = reasons.declined_rows
    if feature not in inputs:
        return GroupOutcome(
            {"feature": feature}, "pass", 0.0, declined, reason="not a model input: never a reason"
        )
    rows = reasons.rows_naming([feature], spec.top_k)
    status, why = _judge(rule, spec, rows, declined)
    codes = ", ".join(code.code for code in reasons.codes if code.feature == feature)
    detail = f"{rows} rows ({rows / declined:.1%})" + (f", as {codes}" if rows and codes else "")
    return GroupOutcome(
        {"feature": feature},
        status,
        rows / declined,
        declined,
        _wilson(rule, rows, declined),
        f"{detail}{_because(why)}",
    )


def _judge(rule: Rule, spec: ReasonsRule, hits: float, rows: int) -> tuple[Outcome, str | None]:
    """The decision on a share of ``rows`` declined rows; too few rows are inconclusive."""
    if rows < rule.min_group_size:
        return "inconclusive", _too_few(rows, rule.min_group_size)
    return decide(
        hits / rows,
        spec.op,
        spec.value,
        interval=_wilson(rule, hits, rows),
        confident=rule.decision == "confident",
    )


def _judge_mean(
    rule: Rule, spec: ReasonsRule, value: float, rows: int
) -> tuple[Outcome, str | None]:
    if rows < rule.min_group_size:
        return "inconclusive", _too_few(rows, rule.min_group_size)
    return decide(value, spec.op, spec.value, interval=None, confident=False)


def _wilson(rule: Rule, hits: float, rows: int) -> tuple[float, float] | None:
    from auditkit.metrics.stats import wilson_interval

    return wilson_interval(hits, rows, rule.confidence)


def _too_few(rows: int, minimum: int) -> str:
    return f"{rows} declined rows in the sample, fewer than the minimum group size {minimum}"


def _because(why: str | None) -> str:
    return f"; inconclusive: {why}" if why else ""


def _names(features: list[str]) -> str:
    return features[0] if len(features) == 1 else f"one of {', '.join(features)}"


EXAMPLE = __doc__.split("Example::", 1)[1] if __doc__ else ""
