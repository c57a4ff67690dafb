"""``data_quality``: the current data is complete, in range and consistent with the reference.

``check`` names a data-quality check (``auditkit policy list`` shows them: missing_rate,
out_of_range_rate, duplicate_ids, constant, row_count, schema_changes, new_category_rate).

Example::

    - id: DQ-001
      title: Income is almost never missing
      kind: data_quality
      check: missing_rate
      columns: [income]
      op: "<="
      value: 0.01
      severity: low
"""

from __future__ import annotations

from typing import Literal

from pydantic import field_validator

from auditkit.policy.evidence import Evidence, combine, decide, finding, format_number, worst
from auditkit.policy.findings import Finding, GroupOutcome
from auditkit.policy.kinds.base import Comparison
from auditkit.policy.rule import Rule


class DataQualityRule(Comparison):
    kind: Literal["data_quality"]
    check: str
    columns: Literal["all"] | list[str] | None = None
    """Columns for per-column checks (default: all); ignored by dataset-wide checks such as row_count."""

    @field_validator("check")
    @classmethod
    def _known(cls, check: str) -> str:
        from auditkit.metrics.quality import QUALITY_CHECKS
        from auditkit.yamlsource import did_you_mean

        if check not in QUALITY_CHECKS:
            raise ValueError(f"unknown check {check!r}{did_you_mean(check, QUALITY_CHECKS)}")
        return check


def evaluate(rule: Rule, evidence: Evidence) -> Finding:
    spec = rule.spec
    assert isinstance(spec, DataQualityRule)
    from auditkit.metrics.quality import QUALITY_CHECKS

    if evidence.quality is None:
        return finding(rule, "error", "no data-quality checks were computed for this run")
    definition = QUALITY_CHECKS[spec.check]
    checks = evidence.quality.of(spec.check)
    if not checks:
        needs = (
            "a reference dataset"
            if definition.needs_reference
            else "an id column"
            if definition.needs_id
            else "data"
        )
        return finding(rule, "error", f"{spec.check} needs {needs}", metric=spec.check)
    if definition.per_column and isinstance(spec.columns, list):
        present = {check.column for check in checks}
        missing = [column for column in spec.columns if column not in present]
        if missing:
            return finding(
                rule, "error", f"{spec.check}: no column(s) {', '.join(missing)}", metric=spec.check
            )
        checks = tuple(check for check in checks if check.column in spec.columns)
    groups = []
    for check in checks:
        label: dict[str, object] = (
            {"column": check.column} if check.column else {"dataset": "current"}
        )
        observed = None if check.value is None else float(check.value)
        status, _ = decide(observed, spec.op, spec.value, interval=None, confident=False)
        groups.append(
            GroupOutcome(label, status, observed, None, None, check.reason or check.detail)
        )
    chosen = worst(groups, spec.op)
    observed = chosen.observed if chosen else None
    where = f" of {chosen.label()}" if chosen and chosen.group.get("column") else ""
    message = f"{spec.check.replace('_', ' ')}{where} is {format_number(observed, against=spec.value)} (required {spec.op} {spec.value:g})"
    if chosen and chosen.reason:
        message += f": {chosen.reason}"
    return finding(
        rule, combine(groups), message, observed=observed, groups=groups, metric=spec.check
    )


EXAMPLE = __doc__.split("Example::", 1)[1] if __doc__ else ""
