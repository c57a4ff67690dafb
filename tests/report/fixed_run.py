"""The fixed run of the HTML golden-file test: the sample audit's run document, frozen in the repository.

Regenerate it (after a change to what a run records) with ``python -m tests.report.fixed_run``, then
``pytest tests/report/test_golden_html.py --update-golden``, and review both diffs.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

FIXED_RUN = Path(__file__).resolve().parent / "data" / "fixed_run.json"
ROOT = Path(__file__).resolve().parents[2]
PORTABLE_ROOT = "/srv/audit"
"""Absolute paths of this checkout are written as if the project lived here, so the file is portable."""


def portable(value: Any, root: str) -> Any:
    """``value`` with every occurrence of ``root`` in its strings replaced by :data:`PORTABLE_ROOT`."""
    if isinstance(value, str):
        return value.replace(root, PORTABLE_ROOT)
    if isinstance(value, list):
        return [portable(item, root) for item in value]
    if isinstance(value, dict):
        return {key: portable(item, root) for key, item in value.items()}
    return value


def load_fixed_run() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(FIXED_RUN.read_text(encoding="utf-8"))
    return document


def main() -> None:
    from tests.report.sample_run import build_run_document, sample_project

    with tempfile.TemporaryDirectory() as folder:
        document = build_run_document(sample_project(Path(folder)))
        document = portable(portable(document, folder), str(ROOT))
    FIXED_RUN.parent.mkdir(parents=True, exist_ok=True)
    FIXED_RUN.write_text(
        json.dumps(document, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8"
    )
    print(f"wrote {FIXED_RUN}")


if __name__ == "__main__":
    main()
