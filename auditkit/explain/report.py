"""What an explanation run found: frozen, JSON-safe, stored with the run under ``explanations``."""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from auditkit.explain.attributions import ExplainerInfo


def number(value: float | None) -> float | None:
    """A finite float, or ``None`` (JSON has no NaN)."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def plain(value: Any) -> Any:
    """A group value as JSON: numpy scalars become Python ones, NaN becomes ``None``."""
    if value is None:
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value if isinstance(value, str | int | float | bool) else str(value)


@dataclass(frozen=True)
class SampleInfo:
    requested: int
    rows: int
    population_rows: int
    seed: int
    strata: int
    stratified_by: tuple[str, ...]
    limited_by: str | None = None
    """Why fewer rows than requested were explained (the explainer's cost), if so."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "requested": self.requested,
            "rows": self.rows,
            "population_rows": self.population_rows,
            "seed": self.seed,
            "strata": self.strata,
            "stratified_by": list(self.stratified_by),
            "weighted": True,
            "limited_by": self.limited_by,
        }


@dataclass(frozen=True)
class FeatureImportance:
    feature: str
    mean_abs: float
    """Weighted mean |attribution| over the sample (population estimate)."""
    share: float
    """``mean_abs`` over the sum of all features' ``mean_abs``."""
    mean: float
    """Weighted mean signed attribution."""
    rank: int | None
    """1 = most important; ``None`` for a feature whose attributions are all zero."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "feature": self.feature,
            "rank": self.rank,
            "mean_abs": number(self.mean_abs),
            "share": number(self.share),
            "mean": number(self.mean),
        }


@dataclass(frozen=True)
class GroupAttribution:
    attribute: str
    group: Any
    """The group's value; ``None`` is the ``unknown`` group (missing value)."""
    rows: int
    """Sample rows in the group."""
    mean_abs: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        return {
            "attribute": self.attribute,
            "group": plain(self.group),
            "unknown": self.group is None,
            "rows": self.rows,
            "mean_abs": {feature: number(value) for feature, value in self.mean_abs.items()},
        }


@dataclass(frozen=True)
class GroupDifference:
    attribute: str
    feature: str
    high_group: Any
    high: float
    low_group: Any
    low: float

    @property
    def difference(self) -> float:
        return self.high - self.low

    def to_dict(self) -> dict[str, Any]:
        return {
            "attribute": self.attribute,
            "feature": self.feature,
            "high_group": plain(self.high_group),
            "high": number(self.high),
            "low_group": plain(self.low_group),
            "low": number(self.low),
            "difference": number(self.difference),
        }


@dataclass(frozen=True)
class ProxyRisk:
    feature: str
    attribute: str
    measure: str
    """``cramers_v`` (categorical feature) or ``correlation_ratio`` (numeric feature)."""
    association: float | None
    """In [0, 1], over every row of the dataset where both values are present (DuckDB)."""
    importance: float
    """The feature's mean |attribution| relative to the most important feature's, in [0, 1]."""
    rows: int
    note: str | None = None

    @property
    def risk(self) -> float | None:
        """Association times relative importance: a strong stand-in that the model leans on."""
        return None if self.association is None else self.association * self.importance

    def to_dict(self) -> dict[str, Any]:
        return {
            "feature": self.feature,
            "attribute": self.attribute,
            "measure": self.measure,
            "association": number(self.association),
            "importance": number(self.importance),
            "risk": number(self.risk),
            "rows": self.rows,
            "note": self.note,
        }


@dataclass(frozen=True)
class ReasonCount:
    code: str
    feature: str
    direction: str
    """``low``, ``high``, ``missing`` (numeric features) or ``value`` (categorical)."""
    rows: int
    """Declined sample rows that have this code among their top reasons."""
    share: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "feature": self.feature,
            "direction": self.direction,
            "rows": self.rows,
            "share": number(self.share),
        }


@dataclass(frozen=True)
class ReasonPattern:
    """Declined sample rows that received the same reasons in the same order."""

    features: tuple[str, ...]
    """The features of the reasons, most adverse first (empty: no feature lowered the score)."""
    rows: int

    def to_dict(self) -> dict[str, Any]:
        return {"features": list(self.features), "rows": self.rows}


@dataclass(frozen=True)
class ReasonStability:
    rows: int
    """Declined rows explained a second time."""
    seed: int
    method: str
    top1_agreement: float | None
    """Share of those rows whose principal reason is the same both times."""
    topk_overlap: float | None
    """Mean share of the top reasons both runs name (|A ∩ B| / max(|A|, |B|))."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "seed": self.seed,
            "method": self.method,
            "top1_agreement": number(self.top1_agreement),
            "topk_overlap": number(self.topk_overlap),
        }


@dataclass(frozen=True)
class ReasonCodes:
    """Principal reasons for adverse decisions (Regulation B, 12 CFR 1002.9(b)(2))."""

    k: int
    declined_rows: int
    """Sample rows with a negative decision."""
    codes: tuple[ReasonCount, ...]
    examples: tuple[dict[str, Any], ...]
    """A few declined rows with their reasons in order (``row`` and ``id`` identify them)."""
    stability: ReasonStability | None
    decision: str
    """Where the decision came from."""
    patterns: tuple[ReasonPattern, ...] = ()
    """Every declined row's reasons, counted by their ordered feature list (most frequent first):
    what per-row checks (how many rows get k reasons, which name a feature) are computed from."""

    def rows_with_reasons(self, count: int) -> int:
        """Declined rows with at least ``count`` adverse reasons."""
        return sum(pattern.rows for pattern in self.patterns if len(pattern.features) >= count)

    def rows_naming(self, features: Collection[str], top_k: int) -> int:
        """Declined rows whose ``top_k`` principal reasons include one of ``features``."""
        wanted = set(features)
        return sum(
            pattern.rows for pattern in self.patterns if wanted & set(pattern.features[:top_k])
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "k": self.k,
            "decision": self.decision,
            "declined_rows": self.declined_rows,
            "codes": [code.to_dict() for code in self.codes],
            "patterns": [pattern.to_dict() for pattern in self.patterns],
            "examples": [dict(example) for example in self.examples],
            "stability": self.stability.to_dict() if self.stability else None,
        }


@dataclass(frozen=True)
class ExplanationReport:
    """Global, per-group and per-decision attributions of a model, with proxy risks."""

    method: ExplainerInfo
    sample: SampleInfo
    expected_value: float
    importance: tuple[FeatureImportance, ...]
    """Most important first."""
    groups: tuple[GroupAttribution, ...]
    group_differences: tuple[GroupDifference, ...]
    """Largest first."""
    proxies: tuple[ProxyRisk, ...]
    """Highest risk first."""
    reasons: ReasonCodes | None
    timings: dict[str, float]

    @property
    def features(self) -> tuple[str, ...]:
        return tuple(item.feature for item in self.importance)

    def ranked(self) -> list[FeatureImportance]:
        """Features with a rank (non-zero importance), most important first."""
        return [item for item in self.importance if item.rank is not None]

    def importance_of(self, feature: str) -> FeatureImportance | None:
        return next((item for item in self.importance if item.feature == feature), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method.to_dict(),
            "sample": self.sample.to_dict(),
            "expected_value": number(self.expected_value),
            "importance": [item.to_dict() for item in self.importance],
            "groups": [group.to_dict() for group in self.groups],
            "group_differences": [item.to_dict() for item in self.group_differences],
            "proxies": [item.to_dict() for item in self.proxies],
            "reasons": self.reasons.to_dict() if self.reasons else None,
            "timings": {stage: round(seconds, 4) for stage, seconds in self.timings.items()},
        }
