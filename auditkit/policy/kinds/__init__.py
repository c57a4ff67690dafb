"""The rule kinds, registered in one place: validation, ``policy list``, the JSON Schema and the docs
all read :data:`RULE_KINDS`."""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

from auditkit.policy.kinds import (
    attribution,
    coverage,
    data_quality,
    disclosure,
    drift,
    parity,
    proxy,
    reasons,
    sql,
    threshold,
)
from auditkit.policy.model import RuleCommon

_MODULES: dict[str, tuple[ModuleType, type[RuleCommon]]] = {
    "threshold": (threshold, threshold.ThresholdRule),
    "parity": (parity, parity.ParityRule),
    "coverage": (coverage, coverage.CoverageRule),
    "drift": (drift, drift.DriftRule),
    "data_quality": (data_quality, data_quality.DataQualityRule),
    "sql": (sql, sql.SqlRule),
    "disclosure": (disclosure, disclosure.DisclosureRule),
    "attribution": (attribution, attribution.AttributionRule),
    "proxy": (proxy, proxy.ProxyRule),
    "reasons": (reasons, reasons.ReasonsRule),
}

RULE_MODELS: dict[str, type[RuleCommon]] = {name: model for name, (_, model) in _MODULES.items()}
"""Rule kind -> the pydantic model that validates it."""

RULE_EVALUATORS: dict[str, Callable[..., Any]] = {
    name: module.evaluate for name, (module, _) in _MODULES.items()
}
"""Rule kind -> ``evaluate(rule, evidence) -> Finding``."""


def kind_summary(name: str) -> str:
    """First paragraph of the kind's module docstring."""
    module = _MODULES[name][0]
    return (module.__doc__ or "").strip().split("\n\n", 1)[0]


def kind_headline(name: str) -> str:
    """The first paragraph on one line without its ````kind``:`` prefix, for listings."""
    return " ".join(kind_summary(name).split()).removeprefix(f"``{name}``: ")


def kind_example(name: str) -> str:
    """The kind's documented example rule (YAML, one list item)."""
    return str(_MODULES[name][0].EXAMPLE).strip("\n")
