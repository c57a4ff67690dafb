"""Audit reports: HTML and PDF/A-3b rendered from a stored run, then signed and verifiable.

``render_report`` is the entry point; heavy libraries (matplotlib, WeasyPrint) load only when it runs.
"""

from __future__ import annotations

from auditkit.report.render import RenderedReport, render_report

__all__ = ["RenderedReport", "render_report"]
