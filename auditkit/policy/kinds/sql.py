"""``sql``: a read-only query over the registered tables returns one number that must satisfy a bound.

The query sees the views ``current`` and ``reference`` only: no file reads, no extensions, no network,
and a time limit.

Example::

    - id: SQL-001
      title: Scores lie in [0, 1]
      kind: sql
      query: SELECT count(*) FROM current WHERE approval_score NOT BETWEEN 0 AND 1
      op: "=="
      value: 0
      severity: medium
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from auditkit.policy.evidence import Evidence, decide, finding, format_number
from auditkit.policy.findings import Finding
from auditkit.policy.kinds.base import Comparison
from auditkit.policy.rule import Rule


class SqlRule(Comparison):
    kind: Literal["sql"]
    query: str = Field(min_length=1)
    """A SELECT returning one row with one numeric column."""
    timeout_seconds: float = Field(default=30.0, gt=0, le=600)


def evaluate(rule: Rule, evidence: Evidence) -> Finding:
    spec = rule.spec
    assert isinstance(spec, SqlRule)
    from auditkit.policy.sandbox import SqlRuleError

    if evidence.sandbox is None:
        return finding(rule, "error", "no SQL access was prepared for this run")
    try:
        observed = evidence.sandbox.scalar(spec.query, spec.timeout_seconds)
    except SqlRuleError as error:
        return finding(rule, "error", f"query failed: {error}")
    status, _ = decide(observed, spec.op, spec.value, interval=None, confident=False)
    if observed is None:
        status = "inconclusive"
    message = f"query returned {format_number(observed, against=spec.value)} (required {spec.op} {spec.value:g})"
    return finding(rule, status, message, observed=observed)


EXAMPLE = __doc__.split("Example::", 1)[1] if __doc__ else ""
