"""Exact performance and fairness metrics computed in DuckDB.

:func:`compute_metrics` is the API the policy engine, the report and the terminal UI all use.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from auditkit.data.datasets import Dataset
from auditkit.data.workspace import Workspace
from auditkit.errors import UsageError
from auditkit.metrics import aggregate, derive
from auditkit.metrics.disparity import GroupState, add_group_disparities, grouping_summary
from auditkit.metrics.registry import (
    FAIRNESS_METRICS,
    METRICS,
    NO_LABEL_REASON,
    MetricDefinition,
    computable_keys,
)
from auditkit.metrics.result import GroupingResult, GroupResult, MetricReport
from auditkit.yamlsource import did_you_mean

__all__ = [
    "FAIRNESS_METRICS",
    "METRICS",
    "GroupResult",
    "MetricDefinition",
    "MetricReport",
    "compute_metrics",
]

_RANK_METRICS = frozenset({"roc_auc", "average_precision", "ks"})
_SCORE_SUM_METRICS = frozenset({"brier", "log_loss"})


def applicable_metrics(dataset: Dataset) -> list[str]:
    """The metric keys that make sense for the dataset's task and columns, in registry order."""
    if dataset.roles.task == "regression":
        return [
            key for key, metric in METRICS.items() if metric.family == "regression" or key == "n"
        ]
    keys = [key for key, metric in METRICS.items() if metric.family in ("count", "classification")]
    if dataset.score_sql is not None:
        keys += [key for key, metric in METRICS.items() if metric.family == "score"]
    return keys


def compute_metrics(
    workspace: Workspace,
    dataset: Dataset,
    *,
    by: Sequence[Sequence[str]] = (),
    reference_groups: Mapping[str, Any] | None = None,
    confidence: float = 0.95,
    min_group_size: int = 30,
    metrics: Sequence[str] | None = None,
) -> MetricReport:
    """Metrics overall and for every group of every grouping (each a tuple of sensitive columns).

    Without a label column, the metrics that need observed outcomes are null with
    :data:`~auditkit.metrics.registry.NO_LABEL_REASON`; the others come from the same scan.
    """
    groupings = tuple(dict.fromkeys(tuple(grouping) for grouping in by))
    keys = _requested_keys(dataset, metrics)
    request = _request(workspace, dataset, groupings, keys)
    tables = _aggregate(workspace, dataset, request)
    probabilities = _scores_are_probabilities(tables[0])
    derived = {
        key: _derive(record, request, keys, confidence, tables, key, probabilities)
        for key, record in tables[0].items()
    }
    overall_key: aggregate.GroupKey = ((), ())
    overall = derived[overall_key]
    groups: list[GroupResult] = []
    fairness: list[GroupingResult] = []
    for grouping in groupings:
        states = _states(derived, grouping)
        reference = _reference_state(states, grouping, reference_groups or {})
        add_group_disparities(
            states,
            overall,
            reference,
            keys,
            confidence,
            tests=not request.weighted,
            min_group_size=min_group_size,
        )
        groups += [
            _result(grouping, state, tables[0][(grouping, state.values)], min_group_size)
            for state in states
        ]
        summary = grouping_summary(states, keys, labelled=request.labelled)
        fairness.append(GroupingResult(grouping, summary))
    settings = {
        "confidence": confidence,
        "min_group_size": min_group_size,
        "metrics": keys,
        "reference_groups": {k: _plain(v) for k, v in (reference_groups or {}).items()},
        "weighted": request.weighted,
        "score_median": request.scoring_median,
        "labelled": request.labelled,
    }
    overall_result = GroupResult(
        (),
        (),
        overall.values,
        overall.reasons,
        overall.ci,
        rows=int(tables[0][overall_key]["rows"]),
        excluded=_excluded(tables[0][overall_key]),
    )
    return MetricReport(
        overall_result.rows, overall_result, tuple(groups), tuple(fairness), settings
    )


def _plain(value: Any) -> Any:
    return value if value is None or isinstance(value, bool | int | float | str) else str(value)


def _requested_keys(dataset: Dataset, metrics: Sequence[str] | None) -> list[str]:
    applicable = applicable_metrics(dataset)
    if metrics is None:
        return applicable
    for key in metrics:
        if key not in METRICS:
            raise UsageError(f"unknown metric {key!r}{did_you_mean(key, METRICS)}")
        if key not in applicable:
            family = METRICS[key].family
            need = "a score column" if family == "score" else f"task: {family}"
            raise UsageError(f"metric {key!r} needs {need}")
    counts = [key for key in ("n", "tp", "fp", "tn", "fn") if key in applicable]
    return list(dict.fromkeys([*counts, *metrics]))


def _request(
    workspace: Workspace,
    dataset: Dataset,
    groupings: tuple[tuple[str, ...], ...],
    keys: Sequence[str],
) -> aggregate.Request:
    labelled = dataset.roles.label is not None
    wanted = set(computable_keys(keys, labelled=labelled))
    median = None
    if "scoring_rate" in wanted:
        median = aggregate.score_median(workspace.connection, dataset)
    return aggregate.Request(
        groupings=groupings,
        weighted=dataset.weight_sql is not None,
        regression=dataset.roles.task == "regression",
        labelled=labelled,
        score_sums=bool(wanted & _SCORE_SUM_METRICS) or "ece" in wanted,
        scoring_median=median if "scoring_rate" in wanted else None,
        ranks=bool(wanted & _RANK_METRICS),
        calibration="ece" in wanted,
    )


Tables = tuple[
    dict[aggregate.GroupKey, dict[str, Any]],
    dict[aggregate.GroupKey, dict[str, Any]],
    dict[aggregate.GroupKey, dict[str, Any]],
]


def _aggregate(workspace: Workspace, dataset: Dataset, request: aggregate.Request) -> Tables:
    connection = workspace.connection
    counts = aggregate.aggregate_counts(connection, dataset, request)
    ranks = aggregate.aggregate_ranks(connection, dataset, request) if request.ranks else {}
    calibration = (
        aggregate.aggregate_calibration(connection, dataset, request) if request.calibration else {}
    )
    return counts, ranks, calibration


def _scores_are_probabilities(counts: Mapping[aggregate.GroupKey, Mapping[str, Any]]) -> bool:
    overall = counts[((), ())]
    low, high = overall.get("score_min"), overall.get("score_max")
    return low is None or high is None or (float(low) >= 0.0 and float(high) <= 1.0)


def _derive(
    record: Mapping[str, Any],
    request: aggregate.Request,
    keys: Sequence[str],
    confidence: float,
    tables: Tables,
    key: aggregate.GroupKey,
    probabilities: bool,
) -> derive.Derived:
    result = derive.Derived()
    computable = computable_keys(keys, labelled=request.labelled)
    if request.regression:
        derive.derive_regression(record, request.weighted, computable, result)
    elif request.labelled:
        derive.derive_classification(record, request.weighted, confidence, computable, result)
    else:
        derive.derive_decisions(record, request.weighted, confidence, computable, result)
    if request.score_sums:
        derive.derive_score_sums(record, request.weighted, keys, probabilities, result)
    if request.scoring_median is not None:
        derive.derive_scoring_rate(record, request.weighted, confidence, result)
    elif "scoring_rate" in keys:
        result.set("scoring_rate", None, "no scored rows")
    if request.ranks:
        derive.derive_ranks(tables[1].get(key), keys, result)
    if request.calibration:
        derive.derive_calibration(tables[2].get(key), probabilities, result)
    if not request.labelled:
        return _without_outcomes(result, keys)
    return result


def _without_outcomes(result: derive.Derived, keys: Sequence[str]) -> derive.Derived:
    """Every requested key in registry order, those that need a label null with the reason."""
    for key in keys:
        if key not in result.values:
            result.set(key, None, NO_LABEL_REASON)
    result.values = {key: result.values[key] for key in keys}
    return result


def _sort_key(values: tuple[Any, ...]) -> tuple[Any, ...]:
    # Unknown (NULL) last; values of mixed types compare by type name, then value.
    return tuple(
        (value is None, type(value).__name__, value if value is not None else 0) for value in values
    )


def _states(
    derived: Mapping[aggregate.GroupKey, derive.Derived], grouping: tuple[str, ...]
) -> list[GroupState]:
    members = [(values, result) for (by, values), result in derived.items() if by == grouping]
    members.sort(key=lambda item: _sort_key(item[0]))
    return [
        GroupState(values, result, any(value is None for value in values))
        for values, result in members
    ]


def _reference_state(
    states: Sequence[GroupState], grouping: tuple[str, ...], reference_groups: Mapping[str, Any]
) -> GroupState | None:
    if not all(column in reference_groups for column in grouping):
        return None
    wanted = tuple(reference_groups[column] for column in grouping)
    for state in states:
        if state.values == wanted or tuple(map(str, state.values)) == tuple(map(str, wanted)):
            return state
    labels = ", ".join(f"{column}={reference_groups[column]}" for column in grouping)
    present = [", ".join(map(str, state.values)) for state in states]
    raise UsageError(
        f"reference group {labels} does not occur in the data{did_you_mean(', '.join(map(str, wanted)), present)}"
    )


def _excluded(record: Mapping[str, Any]) -> dict[str, int]:
    return {
        "label_null": int(record.get("null_label") or 0),
        "decision_null": int(record.get("null_decision") or 0),
    }


def _result(
    grouping: tuple[str, ...], state: GroupState, record: Mapping[str, Any], min_group_size: int
) -> GroupResult:
    n = int(state.derived.values.get("n") or 0)
    small = n < min_group_size
    rows = "1 row" if n == 1 else f"{n} rows"
    reason = f"{rows}, fewer than the minimum group size of {min_group_size}" if small else None
    return GroupResult(
        grouping,
        state.values,
        state.derived.values,
        state.derived.reasons,
        state.derived.ci,
        state.disparity,
        rows=int(record.get("rows") or 0),
        excluded=_excluded(record),
        inconclusive=small,
        inconclusive_reason=reason,
    )
