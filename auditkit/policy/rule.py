"""A validated rule with the context it is evaluated in."""

from __future__ import annotations

from dataclasses import dataclass

from auditkit.errors import SourcePosition
from auditkit.policy.model import Defaults, Enforcement, RuleCommon


@dataclass(frozen=True)
class Rule:
    """A validated rule with the context it is evaluated in."""

    spec: RuleCommon
    policy_id: str
    enforcement: Enforcement
    defaults: Defaults
    source: SourcePosition

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def min_group_size(self) -> int:
        return self.spec.min_group_size or self.defaults.min_group_size

    @property
    def confidence(self) -> float:
        return self.spec.confidence or self.defaults.confidence

    @property
    def decision(self) -> str:
        return self.spec.decision or self.defaults.decision
