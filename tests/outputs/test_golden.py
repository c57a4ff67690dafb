"""Golden files: the JSON, JUnit and SARIF of a fixed result, byte for byte.

After an intended change of a format, regenerate them with ``pytest tests/outputs --update-golden``
and review the diff of ``tests/outputs/golden/`` before committing it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from auditkit.check import CheckResult
from auditkit.outputs import OUTPUT_FORMATS
from auditkit.outputs.sarif import render_log, sarif_log
from tests.outputs.fixed_result import BASE, fixed_result

GOLDEN = Path(__file__).parent / "golden"

RENDERERS: dict[str, Callable[[CheckResult], str]] = {
    "check.json": OUTPUT_FORMATS["json"].render,
    "check.junit.xml": OUTPUT_FORMATS["junit"].render,
    # Relative to a fixed base rather than the working directory, so the file is the same everywhere.
    "check.sarif": lambda result: render_log(sarif_log(result, base=BASE)),
}


@pytest.mark.parametrize("file_name", sorted(RENDERERS))
def test_output_matches_its_golden_file(file_name: str, update_golden: bool) -> None:
    rendered = RENDERERS[file_name](fixed_result())
    golden = GOLDEN / file_name
    if update_golden:
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(rendered, encoding="utf-8")
    assert golden.exists(), f"no {golden}: run pytest tests/outputs --update-golden"
    assert rendered == golden.read_text(encoding="utf-8"), (
        f"{file_name} changed; if intended, run pytest tests/outputs --update-golden and review the diff"
    )


def test_rendering_is_deterministic() -> None:
    for render in RENDERERS.values():
        assert render(fixed_result()) == render(fixed_result())
