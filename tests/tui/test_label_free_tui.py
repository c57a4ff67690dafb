"""The terminal UI on data without observed outcomes (Ricci v. DeStefano: exam scores, a pass at 70,
no outcome column): the fairness and performance screens show what decisions give, and say what is
missing, without crashing. Expected rates are computed here with pandas."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from auditkit.tui.app import AuditApp
from tests.shared_datasets import SHARED_DATA
from tests.tui.conftest import run_async, screen_text, settle

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not SHARED_DATA.is_dir(),
        reason=f"real datasets not available: {SHARED_DATA} is not a folder",
    ),
]
RICCI = SHARED_DATA / "fc_ricci.csv"
PASS_MARK = 70


@pytest.fixture()
def ricci_project(tmp_path: Path) -> Path:
    path = tmp_path / "auditkit.yaml"
    document = {
        "data": {"current": str(RICCI)},
        "columns": {"score": "Combine", "threshold": PASS_MARK, "sensitive": ["Race"]},
        "policies": ["builtin:nyc-ll144", "builtin:eeoc-four-fifths"],
        "store": str(tmp_path / "audit.duckdb"),
    }
    path.write_text(yaml.safe_dump(document))
    return path


@run_async
async def test_fairness_and_performance_screens_without_a_label(ricci_project: Path) -> None:
    frame = pd.read_csv(RICCI)
    frame["passed"] = frame["Combine"] >= PASS_MARK
    rates = frame.groupby("Race")["passed"].mean()
    app = AuditApp(ricci_project)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await pilot.press("3")
        await settle(app, pilot)
        fairness = screen_text(app)
        assert "selection_rate by Race" in fairness
        for race, rate in rates.items():
            line = next(line for line in fairness.splitlines() if line.strip().startswith(race))
            assert f"{rate:.4f}" in line and f"{rate / rates.max():.3f}" in line
        metrics = app.screen.query_one("#metric")
        offered = [str(option[1]) for option in metrics._options if option[1] is not None]  # type: ignore[attr-defined]
        assert "selection_rate" in offered and "fpr" not in offered and "accuracy" not in offered

        await pilot.press("4")
        await settle(app, pilot)
        performance = screen_text(app)
        assert "No observed outcomes" in performance and "Confusion matrix" not in performance
        assert f"{frame['passed'].mean():.4f}" in performance
