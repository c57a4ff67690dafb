"""Locate the files shipped with auditkit (built-in policy packs, report templates, sample data) and
the user's cache folder.

In a wheel the shipped files live in ``auditkit/_resources/``; in a source checkout (editable install)
they are the top-level folders of the repository.
"""

from __future__ import annotations

import os
from pathlib import Path

CACHE_ENVIRONMENT = "AUDITKIT_CACHE_DIR"

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


def cache_dir(name: str) -> Path | None:
    """The folder ``name`` of auditkit's cache, made private to this user if new: under
    ``$AUDITKIT_CACHE_DIR`` when set, else under the platform's user cache folder (``~/.cache/auditkit``
    on Linux). None when it cannot be made (a read-only home) or others can write in it: a cache only
    ever saves time."""
    import platformdirs

    root = Path(os.environ.get(CACHE_ENVIRONMENT) or platformdirs.user_cache_dir("auditkit"))
    folder = root / name
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        inside = [root / part for part in Path(name).parents]  # the folders from the root down
        private = all(_private(part) for part in (*inside, folder))
    except OSError:
        return None
    return folder if private and os.access(folder, os.W_OK | os.X_OK) else None


def _private(folder: Path) -> bool:
    """Whether only this user can write in ``folder``: what is cached there is run (compiled
    templates), so a folder others can write to (a shared ``$AUDITKIT_CACHE_DIR``), or one inside
    such a folder (others could put another in its place), is not used."""
    if not hasattr(os, "getuid"):  # Windows: the user's own profile folder
        return True
    status = folder.stat()
    return status.st_uid == os.getuid() and not status.st_mode & 0o022
