"""``proxy``: no feature stands in for a protected attribute (association with it times importance).

Example::

    - id: PROXY-001
      title: No feature is a strong proxy for race or sex
      kind: proxy
      sensitive: [race, sex]
      op: "<="
      value: 0.3
      severity: high
"""

from __future__ import annotations

from typing import Literal

from auditkit.policy.kinds.base import Comparison


class ProxyRule(Comparison):
    kind: Literal["proxy"]
    sensitive: list[str] | None = None
    """Protected attributes to check (default: the project's sensitive columns)."""


EXAMPLE = __doc__.split("Example::", 1)[1] if __doc__ else ""
