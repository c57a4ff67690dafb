"""What the screens show, as plain rows: engine results turned into text, without Textual.

These functions only select and format numbers the engine computed; the threshold line of the fairness
chart is read from the rule that judges the metric (the chart shows what the policy checks, nothing more).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from auditkit.data.datasets import ColumnRoles
    from auditkit.explain.report import ExplanationReport, ReasonCodes
    from auditkit.metrics import MetricReport
    from auditkit.metrics.result import GroupResult
    from auditkit.policy.findings import Finding
    from auditkit.policy.loader import Policy
    from auditkit.policy.rule import Rule

DASH = "—"
COUNT_KEYS = frozenset({"n", "tp", "fp", "tn", "fn"})

STATUS_LABELS: dict[str, tuple[str, str]] = {
    "pass": ("PASS", "bold green"),
    "fail": ("FAIL", "bold red"),
    "inconclusive": ("INCONCLUSIVE", "bold yellow"),
    "waived": ("WAIVED", "bold cyan"),
    "error": ("ERROR", "bold magenta"),
    "not_applicable": ("N/A", "dim"),
}


def status_markup(status: str) -> str:
    """A coloured badge for an outcome, in Rich markup."""
    label, style = STATUS_LABELS.get(status, (status.upper(), "bold"))
    return f"[{style}]{label}[/]"


def number(value: Any, digits: int = 4) -> str:
    """A number as the tables show it: integers with separators, others with ``digits`` decimals."""
    if value is None:
        return DASH
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def interval(bounds: Sequence[float] | None, digits: int = 4) -> str:
    if not bounds:
        return DASH
    low, high = bounds
    return f"[{low:.{digits}f}, {high:.{digits}f}]"


def cell(value: Any) -> str:
    """A data value in a preview table (``NULL`` for missing values, so they stand out)."""
    return "NULL" if value is None else str(value)


# -- fairness --------------------------------------------------------------------------------------


def groupings_to_offer(sensitive: Sequence[str]) -> list[tuple[str, ...]]:
    """Each sensitive attribute, every pair of them, and all of them together."""
    offered: list[tuple[str, ...]] = [(column,) for column in sensitive]
    offered += [tuple(pair) for pair in combinations(sensitive, 2)]
    if len(sensitive) > 2:
        offered.append(tuple(sensitive))
    return offered


def grouping_label(grouping: Sequence[str]) -> str:
    return " × ".join(grouping)


def group_metrics(report: MetricReport) -> list[str]:
    """The metrics of ``report`` that can be compared across groups (not the raw counts); without a
    label, those that need no observed outcomes."""
    from auditkit.metrics.registry import computable_keys

    computed = computable_keys(report.settings.get("metrics", []), labelled=report.labelled)
    return [key for key in computed if key not in COUNT_KEYS]


@dataclass(frozen=True)
class FairnessRow:
    """One group's value of the chosen metric, with its interval, size and disparity."""

    label: str
    n: int
    value: float | None
    ci: tuple[float, float] | None
    ratio_to_max: float | None
    difference_to_overall: float | None
    inconclusive: bool
    note: str | None

    @property
    def unknown(self) -> bool:
        return "unknown" in self.label


def fairness_rows(
    report: MetricReport, grouping: tuple[str, ...], metric: str
) -> list[FairnessRow]:
    return [_fairness_row(group, metric) for group in report.groups_by(grouping)]


def _fairness_row(group: GroupResult, metric: str) -> FairnessRow:
    value = group.value(metric)
    disparity = group.disparity.get(metric, {})
    note = group.inconclusive_reason or group.reasons.get(metric)
    return FairnessRow(
        label=", ".join("unknown" if value is None else str(value) for value in group.group),
        n=group.n,
        value=None if value is None else float(value),
        ci=group.ci.get(metric),
        ratio_to_max=disparity.get("ratio_to_max"),
        difference_to_overall=disparity.get("difference_to_overall"),
        inconclusive=group.inconclusive,
        note=note,
    )


@dataclass(frozen=True)
class ThresholdLine:
    """Where a rule draws the line on the chart of one metric, and which rule it is."""

    value: float
    label: str
    op: str = ">="

    def holds(self, observed: float) -> bool:
        """True when ``observed`` is on the right side of the line."""
        checks = {
            ">=": observed >= self.value,
            ">": observed > self.value,
            "<=": observed <= self.value,
            "<": observed < self.value,
            "==": observed == self.value,
            "!=": observed != self.value,
        }
        return checks.get(self.op, True)


def threshold_line(
    policies: Iterable[Policy],
    sensitive: tuple[str, ...],
    grouping: tuple[str, ...],
    metric: str,
    rows: Sequence[FairnessRow],
) -> ThresholdLine | None:
    """The line the first rule judging ``metric`` by ``grouping`` puts on the metric's scale.

    A ``ratio_to_max`` (or ``min_max_ratio``) parity rule with value v draws v times the highest known
    group's value of the groups large enough to judge (four fifths of the best rate); a ``threshold``
    rule by groups draws its value.
    """
    for rule in _rules_judging(policies, sensitive, grouping, metric):
        line = _line_of(rule.spec, rule.id, rows, rule.min_group_size)
        if line is not None:
            return line
    return None


def ratio_rule(
    policies: Iterable[Policy], sensitive: tuple[str, ...], grouping: tuple[str, ...], metric: str
) -> Rule | None:
    """The first rule that judges ``metric`` by ``grouping`` as a ratio to the highest group."""
    return next(
        (
            rule
            for rule in _rules_judging(policies, sensitive, grouping, metric)
            if _is_ratio_to_highest(rule.spec)
        ),
        None,
    )


def ratios_to_highest(rows: Sequence[FairnessRow], min_group_size: int) -> list[float | None]:
    """Each row's value divided by the highest group's, the highest among the groups of at least
    ``min_group_size`` rows (as the rules and the metric report divide): None for the unknown group,
    a missing value, or a highest value of zero."""
    highest = highest_judged(rows, min_group_size)
    return [
        None if row.unknown or row.value is None or not highest else row.value / highest
        for row in rows
    ]


def small_for_rule(row: FairnessRow, min_group_size: int) -> str | None:
    """Why the rule judging the ratio leaves ``row`` inconclusive though the screen's metrics (at
    the smallest minimum of the run's rules) do not: a group under the rule's own minimum size."""
    if row.inconclusive or row.unknown or row.n >= min_group_size:
        return None
    return f"{row.n} rows, fewer than the minimum group size {min_group_size}"


def highest_judged(rows: Sequence[FairnessRow], min_group_size: int) -> float | None:
    """The highest known value among groups of at least ``min_group_size`` rows (among all known
    groups when none is that large)."""
    known = [row for row in rows if row.value is not None and not row.unknown]
    judged = [row.value for row in known if row.n >= min_group_size and row.value is not None]
    candidates = judged or [row.value for row in known if row.value is not None]
    return max(candidates) if candidates else None


def _rules_judging(
    policies: Iterable[Policy], sensitive: tuple[str, ...], grouping: tuple[str, ...], metric: str
) -> Iterator[Rule]:
    from auditkit.policy.kinds.base import groupings_of

    for policy in policies:
        for rule in policy.rules:
            spec: Any = rule.spec
            if getattr(spec, "metric", None) != metric:
                continue
            if grouping in groupings_of(getattr(spec, "by", None), sensitive):
                yield rule


def _is_ratio_to_highest(spec: Any) -> bool:
    return spec.kind == "parity" and spec.aggregate in ("ratio_to_max", "min_max_ratio")


def _line_of(
    spec: Any, rule_id: str, rows: Sequence[FairnessRow], min_group_size: int
) -> ThresholdLine | None:
    if spec.kind == "threshold":
        return ThresholdLine(float(spec.value), f"{rule_id}: {spec.op} {spec.value:g}", spec.op)
    if _is_ratio_to_highest(spec):
        # The yardstick is the highest group large enough for this rule to judge, as the rule's is.
        highest = highest_judged(rows, min_group_size)
        if highest is None:
            return None
        return ThresholdLine(
            float(spec.value) * highest,
            f"{rule_id}: {spec.value:g} × highest group ({highest:.4f})",
            spec.op,
        )
    return None


# -- performance -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class MetricLine:
    key: str
    title: str
    value: Any
    ci: tuple[float, float] | None
    reason: str | None


def overall_lines(report: MetricReport) -> list[MetricLine]:
    """Every non-count metric of the whole sample, with its interval or why it is missing."""
    from auditkit.metrics import METRICS

    overall = report.overall
    return [
        MetricLine(
            key,
            METRICS[key].title if key in METRICS else key,
            overall.value(key),
            overall.ci.get(key),
            overall.reasons.get(key),
        )
        for key in group_metrics(report)
    ]


def confusion_matrix(report: MetricReport) -> dict[str, int | float | None]:
    overall = report.overall
    return {cell_key: overall.value(cell_key) for cell_key in ("tp", "fp", "tn", "fn")}


# -- policies --------------------------------------------------------------------------------------


def findings_by_policy(findings: Iterable[Finding]) -> dict[str, list[Finding]]:
    """Findings grouped by the policy (or pack) that holds their rule, in evaluation order."""
    grouped: dict[str, list[Finding]] = {}
    for finding in findings:
        grouped.setdefault(finding.policy_id, []).append(finding)
    return grouped


def policy_titles(policies: Iterable[Policy]) -> dict[str, str]:
    return {policy.id: policy.title for policy in policies}


def editor_target(source: str | None) -> tuple[str, int | None] | None:
    """``path:line:col`` of a rule -> (path, line), for opening it in an editor."""
    if not source:
        return None
    parts = source.rsplit(":", 2)
    numbers = [part for part in parts[1:] if part.isdigit()]
    if len(numbers) == len(parts) - 1 and numbers:
        return parts[0], int(numbers[0])
    return source, None


# -- explainability --------------------------------------------------------------------------------


def explanation_summary(report: ExplanationReport) -> str:
    """Which explainer ran on how many rows, in one or two lines."""
    method, sample = report.method, report.sample
    stratified = ", ".join(sample.stratified_by) or "nothing"
    lines = [
        f"{method.explainer} · {method.output}",
        f"sample {sample.rows:,} of {sample.population_rows:,} rows, seed {sample.seed}, "
        f"stratified by {stratified}",
    ]
    if sample.limited_by:
        lines.append(f"limited: {sample.limited_by}")
    return "\n".join(lines)


def group_value(value: Any) -> str:
    """A group's value as the tables show it (``unknown`` for a missing value)."""
    return "unknown" if value is None else str(value)


def attribution_table(
    report: ExplanationReport, attribute: str
) -> tuple[list[str], list[list[str]]]:
    """Mean |SHAP| of each feature (rows, most important first) in each group of ``attribute``."""
    groups = [group for group in report.groups if group.attribute == attribute]
    columns = ["feature", *(f"{group_value(g.group)} (n={g.rows:,})" for g in groups)]
    rows = [
        [feature, *(number(group.mean_abs.get(feature)) for group in groups)]
        for feature in report.features
    ]
    return columns, rows


def attributes_explained(report: ExplanationReport) -> list[str]:
    return list(dict.fromkeys(group.attribute for group in report.groups))


def stability_text(reasons: ReasonCodes) -> str:
    stability = reasons.stability
    if stability is None:
        return "stability: not checked"
    return (
        f"stability ({stability.method}, seed {stability.seed}, {stability.rows:,} rows): "
        f"same principal reason {percent(stability.top1_agreement)}, "
        f"top-{reasons.k} overlap {percent(stability.topk_overlap)}"
    )


def percent(value: float | None) -> str:
    return DASH if value is None else f"{value:.0%}"


def example_label(example: dict[str, Any]) -> str:
    """A declined example row by its id (or row number)."""
    ident = example.get("id")
    return str(ident) if ident is not None else f"row {example.get('row')}"


# -- audit trail -----------------------------------------------------------------------------------


def signoff_text(signoff: dict[str, Any]) -> str:
    comment = f": {signoff['comment']}" if signoff.get("comment") else ""
    decision = str(signoff.get("decision", "")).replace("_", " ")
    return (
        f"{decision} by {signoff.get('reviewer')} at {short_time(signoff.get('created'))}{comment}"
    )


DECISION_MARKS = {"approve": "ok", "approve_with_conditions": "cond", "reject": "rej"}
"""The latest sign-off's decision in the four columns the history table gives it."""


def decision_mark(signoff: dict[str, Any] | None) -> str:
    if signoff is None:
        return "—"
    decision = str(signoff.get("decision", ""))
    return DECISION_MARKS.get(decision, decision[:4])


def short_time(stamp: Any) -> str:
    """An ISO time as ``YYYY-MM-DD HH:MM:SS`` (UTC)."""
    return str(stamp or "").replace("T", " ")[:19]


def diff_sections(difference: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """The sections of a run diff that have entries, as (title, lines)."""
    from auditkit.trail.diff_text import diff_sections as text_sections

    return [(title.capitalize(), lines) for title, lines in text_sections(difference, arrow="→")]


# -- data ------------------------------------------------------------------------------------------


def sql_example(roles: ColumnRoles) -> str:
    """A first query over this project's own columns: decisions by the first sensitive attribute."""
    from auditkit.data.sql import quote_identifier

    decision = roles.prediction or roles.score
    if not roles.sensitive:
        return "SELECT count(*) FROM current"
    group = quote_identifier(roles.sensitive[0])
    measures = f"count(*), avg({quote_identifier(decision)})" if decision else "count(*)"
    return f"SELECT {group}, {measures} FROM current GROUP BY {group}"
