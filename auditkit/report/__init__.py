"""Audit reports: HTML and PDF/A-3b rendered from a stored run, then signed and verifiable.

``render_report`` renders a run; ``build_report`` renders, signs and moves a finished report folder
into place (what ``auditkit report`` and the terminal UI call). Heavy libraries (matplotlib,
WeasyPrint) load only when they run, and these two only when first used: the report's worker process
(:mod:`auditkit.report.worker`) imports this package first and needs neither.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from auditkit.report.build import build_report
    from auditkit.report.render import RenderedReport, render_report

__all__ = ["RenderedReport", "build_report", "render_report"]

_HOMES = {
    "build_report": "auditkit.report.build",
    "RenderedReport": "auditkit.report.render",
    "render_report": "auditkit.report.render",
}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_HOMES[name]), name)
