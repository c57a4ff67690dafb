"""The metric report: frozen results in the JSON shape of ``auditkit metrics --format json``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class GroupResult:
    """Metrics of one group (or of the whole sample, for ``overall``)."""

    by: tuple[str, ...]
    group: tuple[Any, ...]
    values: Mapping[str, float | int | None]
    reasons: Mapping[str, str]
    ci: Mapping[str, tuple[float, float]]
    disparity: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    rows: int = 0
    excluded: Mapping[str, int] = field(default_factory=dict)
    inconclusive: bool = False
    inconclusive_reason: str | None = None

    @property
    def unknown(self) -> bool:
        """True when a sensitive value of this group is missing."""
        return any(value is None for value in self.group)

    @property
    def n(self) -> int:
        return int(self.values.get("n") or 0)

    def value(self, key: str) -> float | int | None:
        return self.values.get(key)

    def label(self) -> str:
        return ", ".join(
            f"{column}={'unknown' if value is None else value}"
            for column, value in zip(self.by, self.group, strict=True)
        )

    def to_dict(self, *, with_group: bool = True) -> dict[str, Any]:
        document: dict[str, Any] = {}
        if with_group:
            document["by"] = list(self.by)
            document["group"] = {
                column: _plain(value) for column, value in zip(self.by, self.group, strict=True)
            }
            if self.unknown:
                document["unknown"] = True
        document.update({key: _plain(value) for key, value in self.values.items()})
        document["ci"] = {key: [low, high] for key, (low, high) in self.ci.items()}
        if with_group:
            document["disparity"] = {key: dict(entry) for key, entry in self.disparity.items()}
            document["inconclusive"] = self.inconclusive
            if self.inconclusive_reason:
                document["inconclusive_reason"] = self.inconclusive_reason
        document["rows"] = self.rows
        if any(self.excluded.values()):
            document["excluded"] = dict(self.excluded)
        if self.reasons:
            document["reasons"] = dict(self.reasons)
        return document


@dataclass(frozen=True)
class GroupingResult:
    """Across-grouping aggregates and named fairness metrics of one grouping."""

    by: tuple[str, ...]
    summary: Mapping[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"by": list(self.by), **self.summary}


@dataclass(frozen=True)
class MetricReport:
    rows: int
    overall: GroupResult
    groups: tuple[GroupResult, ...]
    fairness: tuple[GroupingResult, ...]
    settings: Mapping[str, Any]

    @property
    def labelled(self) -> bool:
        """Whether the data had a label column (observed outcomes); a report without the setting had."""
        return bool(self.settings.get("labelled", True))

    def groups_by(self, by: tuple[str, ...]) -> tuple[GroupResult, ...]:
        return tuple(group for group in self.groups if group.by == tuple(by))

    def group(self, by: tuple[str, ...], values: tuple[Any, ...]) -> GroupResult | None:
        return next(
            (
                group
                for group in self.groups
                if group.by == tuple(by) and group.group == tuple(values)
            ),
            None,
        )

    def fairness_of(self, by: tuple[str, ...]) -> GroupingResult | None:
        return next((entry for entry in self.fairness if entry.by == tuple(by)), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "overall": self.overall.to_dict(with_group=False),
            "groups": [group.to_dict() for group in self.groups],
            "fairness": [entry.to_dict() for entry in self.fairness],
            "settings": dict(self.settings),
        }


def _plain(value: Any) -> Any:
    """JSON-ready scalars (dates and decimals as text or float)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value)
