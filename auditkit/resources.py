"""Locate the files shipped with auditkit: built-in policy packs, report templates, sample data.

In a wheel they live in ``auditkit/_resources/``; in a source checkout (editable install) they are the
top-level folders of the repository.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def resource_dir(name: str) -> Path:
    """Return the folder ``name`` (``policies``, ``report_templates`` or ``sample_data``)."""
    for candidate in (_PACKAGE_DIR / "_resources" / name, _PACKAGE_DIR.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"auditkit resource folder {name!r} is missing from this installation")


def policies_dir() -> Path:
    return resource_dir("policies")


def report_templates_dir() -> Path:
    return resource_dir("report_templates")


def sample_data_dir() -> Path:
    return resource_dir("sample_data")
