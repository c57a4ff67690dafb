"""Writing waivers: add or replace one entry of a waivers file, keeping every other entry as written.

Entries are validated by the same model that :mod:`auditkit.policy.waivers` reads them with, and the file
is written atomically, so a crash never leaves half a waivers file. Other entries are kept as they are,
even ones that do not validate (they stay findings until someone fixes them); YAML comments inside the
list are not kept, the comment block at the top of the file is.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from auditkit.errors import ConfigError, SourcePosition
from auditkit.fsutil import write_text_atomic
from auditkit.policy.waivers import WaiverEntry


def save_waiver(path: Path, entry: WaiverEntry, *, replaces: str | None = None) -> None:
    """Add ``entry`` to the waivers file ``path`` (created if missing), or replace the waiver whose id is
    ``replaces`` (default: ``entry.id``)."""
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    entries = _raw_entries(text, path)
    target = replaces or entry.id
    if entry.id != target and any(_id_of(raw) == entry.id for raw in entries):
        raise ConfigError(f"duplicate waiver id {entry.id!r}", position=SourcePosition(str(path)))
    document = _entry_document(entry)
    index = next((i for i, raw in enumerate(entries) if _id_of(raw) == target), None)
    if index is None:
        entries.append(document)
    else:
        entries[index] = document
    write_text_atomic(path, _leading_comments(text) + _dump({"waivers": entries}))


def remove_waiver(path: Path, waiver_id: str) -> None:
    """Delete the waiver ``waiver_id`` from ``path``; a missing id is an error."""
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    entries = _raw_entries(text, path)
    kept = [raw for raw in entries if _id_of(raw) != waiver_id]
    if len(kept) == len(entries):
        raise ConfigError(f"no waiver {waiver_id!r}", position=SourcePosition(str(path)))
    write_text_atomic(path, _leading_comments(text) + _dump({"waivers": kept}))


def _raw_entries(text: str, path: Path) -> list[Any]:
    try:
        data = yaml.safe_load(text) if text.strip() else None
    except yaml.YAMLError as error:
        raise ConfigError(
            f"cannot parse the waivers file: {error}", position=SourcePosition(str(path))
        ) from None
    if data is None:
        return []
    if not isinstance(data, dict) or not isinstance(data.get("waivers", []), list):
        raise ConfigError(
            "the waivers file must be a mapping with a 'waivers:' list",
            position=SourcePosition(str(path)),
        )
    return list(data.get("waivers") or [])


def _id_of(raw: Any) -> Any:
    return raw.get("id") if isinstance(raw, dict) else None


def _entry_document(entry: WaiverEntry) -> dict[str, Any]:
    document = entry.model_dump(mode="python", exclude_none=True)
    if not document.get("scope"):
        document.pop("scope", None)
    return document


def _leading_comments(text: str) -> str:
    lines = []
    for line in text.splitlines(keepends=True):
        if not line.startswith("#"):
            break
        lines.append(line)
    return "".join(lines)


def _dump(data: dict[str, Any]) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
