"""The full result as one JSON object (the product specification's shape)."""

from __future__ import annotations

import json

from auditkit.check import CheckResult


def render(result: CheckResult) -> str:
    return (
        json.dumps(result.to_dict(), indent=2, allow_nan=False, ensure_ascii=False, default=str)
        + "\n"
    )
