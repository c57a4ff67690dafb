"""``drift``: input distributions of the current data stay close to the reference data.

``statistic`` is one of ``psi``, ``ks``, ``js_divergence``, ``chi_square_p_value``, ``ks_p_value``; the rule
holds when every selected column satisfies the comparison.

Example::

    - id: DRIFT-001
      title: Input distributions are stable against training data
      kind: drift
      statistic: psi
      columns: all
      op: "<="
      value: 0.25
      severity: medium
"""

from __future__ import annotations

from typing import Literal

from auditkit.policy.kinds.base import Comparison

Statistic = Literal["psi", "ks", "js_divergence", "chi_square_p_value", "ks_p_value"]


class DriftRule(Comparison):
    kind: Literal["drift"]
    statistic: Statistic
    columns: Literal["all"] | list[str] = "all"
    """``all`` (every feature column) or a list of columns."""


EXAMPLE = __doc__.split("Example::", 1)[1] if __doc__ else ""
