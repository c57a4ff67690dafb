"""Audit reports: HTML and PDF/A-3b rendered from a stored run, then signed and verifiable.

``render_report`` renders a run; ``build_report`` renders, signs and moves a finished report folder
into place (what ``auditkit report`` and the terminal UI call). Heavy libraries (matplotlib,
WeasyPrint) load only when they run.
"""

from __future__ import annotations

from auditkit.report.build import build_report
from auditkit.report.render import RenderedReport, render_report

__all__ = ["RenderedReport", "build_report", "render_report"]
