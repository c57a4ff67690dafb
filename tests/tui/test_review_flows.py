"""The reviewer's flows in the terminal UI (Pilot, 80x24 unless a wider screen is needed to read a
table): explanations, sign-off, the signed report and the history of runs.

Expected values come from independent computations: the explanation from the engine called here, the
trail read back with TrailStore, the report checked by the verifier against the keygen certificate.
"""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path
from typing import Any

import pytest

from auditkit.engine import explain_project, open_project
from auditkit.project import Overrides, load_project
from auditkit.report.keys import CERT_FILE, KEY_FILE, generate_keys
from auditkit.report.verify import verify_report
from auditkit.trail import TrailStore
from auditkit.tui.app import AuditApp
from tests.tui.conftest import run_async, screen_text, settle

pytestmark = pytest.mark.slow
SIZE = (80, 24)
WIDE = (120, 35)


def trail_of(project: Path) -> TrailStore:
    return TrailStore(load_project(project, Overrides(), search_cwd=False).store)


def independent_explanation(project: Path) -> Any:
    loaded = open_project(load_project(project, Overrides(), search_cwd=False))
    try:
        report, missing = explain_project(loaded)
    finally:
        loaded.workspace.close()
    assert missing is None and report is not None
    return report


def table_lines(text: str, header: str) -> list[str]:
    """The lines under the table header that starts with ``header`` (up to a blank line)."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().startswith(header))
    rows = []
    for line in lines[start + 1 :]:
        if not line.strip():
            break
        rows.append(line.strip())
    return rows


@run_async
async def test_explain_screen_shows_region_on_top_of_the_proxy_table(project: Path) -> None:
    expected = independent_explanation(project)
    top = expected.proxies[0]
    assert (top.feature, top.attribute) == ("region", "race")  # the sample's planted proxy
    app = AuditApp(project)
    async with app.run_test(size=WIDE) as pilot:
        await settle(app, pilot)
        await pilot.press("8")
        await settle(app, pilot)
        bar = app.screen.query_one("#explain-bar")
        # The worker fed the bar: it ended full on its last stage.
        assert bar.total is not None and bar.progress == bar.total
        await pilot.press("p")
        await pilot.pause()
        first = table_lines(screen_text(app), "feature")[0].split()
        assert first[:3] == ["region", "race", top.measure]
        assert first[5] == f"{top.risk:.3f}"

        await pilot.press("i")
        await pilot.pause()
        leader = expected.importance[0]
        chart = screen_text(app)
        assert any(
            line.strip().startswith(leader.feature) and f"{leader.mean_abs:.3f}" in line
            for line in chart.splitlines()
        )

        await pilot.press("c")
        await pilot.pause()
        reasons = expected.reasons
        example = reasons.examples[1]
        app.screen.query_one("#example").value = 1
        await pilot.pause()
        text = screen_text(app)
        assert f"{reasons.declined_rows:,} declined sample rows" in text
        assert f"same principal reason {reasons.stability.top1_agreement:.0%}" in text
        shown = table_lines(text, "#  code")
        assert [row.split()[1] for row in shown] == [r["code"] for r in example["reasons"]]


def test_sign_off_and_a_signed_report_from_the_ui(project: Path, tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    generate_keys(keys, "Jane Roe", passphrase=b"correct horse")
    (tmp_path / "pass.txt").write_text("correct horse\n")
    (tmp_path / "wrong.txt").write_text("battery staple\n")
    out = tmp_path / "signed-report"
    run_id = asyncio.run(sign_off_and_report(project, tmp_path, keys, out))
    # The verifier runs its own event loop: outside the UI's.
    verification = verify_report(out, [keys / CERT_FILE])
    assert int(verification.exit_code) == 0, verification
    reports = trail_of(project).load_run(run_id).reports
    assert len(reports) == 1 and reports[0]["signer"] == "Jane Roe"
    assert {entry["name"] for entry in reports[0]["files"]} == {p.name for p in out.iterdir()}


async def sign_off_and_report(project: Path, tmp_path: Path, keys: Path, out: Path) -> str:
    """Sign off in the UI, try two bad key settings, then write the signed report; the run id."""
    app = AuditApp(project)
    async with app.run_test(size=WIDE) as pilot:
        await settle(app, pilot)
        await pilot.press("9")
        await settle(app, pilot)
        assert app.session is not None and app.session.run_id is not None
        run_id = app.session.run_id
        screen = app.screen

        await pilot.press("ctrl+s")  # no reviewer yet
        await settle(app, pilot)
        assert "reviewer: give the reviewer's name" in screen_text(app)
        assert trail_of(project).load_run(run_id).signoffs == []

        screen.query_one("#reviewer").value = "Jane Roe"
        await pilot.press("ctrl+s")  # no decision: approving is never the default
        await settle(app, pilot)
        assert "decision: choose one of approve" in screen_text(app)
        assert trail_of(project).load_run(run_id).signoffs == []

        screen.query_one("#decision").value = "reject"
        await pilot.press("ctrl+s")  # a rejection without its reason
        await settle(app, pilot)
        assert "comment: say why the run is rejected" in screen_text(app)
        assert trail_of(project).load_run(run_id).signoffs == []

        screen.query_one("#decision").value = "approve_with_conditions"
        screen.query_one("#comment").value = "Remediate FAIR-001 by 2027-01-31 (MRC-2026-120)."
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        signoffs = trail_of(project).load_run(run_id).signoffs
        assert [(s["reviewer"], s["decision"], s["comment"]) for s in signoffs] == [
            (
                "Jane Roe",
                "approve_with_conditions",
                "Remediate FAIR-001 by 2027-01-31 (MRC-2026-120).",
            )
        ]
        assert "approve with conditions by Jane Roe" in screen_text(app)

        screen.query_one("#report-folder").value = str(out)
        screen.query_one("#report-key").value = str(keys / KEY_FILE)
        await pilot.press("ctrl+g")  # a key without its certificate
        await settle(app, pilot)
        assert "give both the private key and its certificate" in screen_text(app)
        screen.query_one("#report-certificate").value = str(keys / CERT_FILE)
        screen.query_one("#report-passphrase_file").value = str(tmp_path / "wrong.txt")
        await pilot.press("ctrl+g")
        await settle(app, pilot)
        assert "wrong passphrase" in screen_text(app)
        assert not out.exists()

        screen.query_one("#report-passphrase_file").value = str(tmp_path / "pass.txt")
        await pilot.press("ctrl+g")
        await pilot.pause()
        assert "wrong passphrase" not in screen_text(app)  # the last try's error is gone at once
        await settle(app, pilot, timeout=120)
        text = screen_text(app)
        assert "signed by Jane Roe" in text
        for path in sorted(out.iterdir()):
            assert f"{path.name}" in text
            assert hashlib.sha256(path.read_bytes()).hexdigest() in text

        await pilot.press("0")  # the history shows the decision that stands
        await settle(app, pilot)
        row = next(line for line in screen_text(app).splitlines() if run_id in line)
        assert "cond" in row.split()
    return run_id


@run_async
async def test_history_diff_shows_a_rule_waived_in_the_ui(project: Path) -> None:
    app = AuditApp(project)
    async with app.run_test(size=WIDE) as pilot:
        await settle(app, pilot)
        await pilot.press("7")
        await settle(app, pilot)
        await pilot.press("a")
        await pilot.pause()
        form = app.screen
        form.query_one("#waiver-rule").value = "DRIFT-001"
        form.query_one("#waiver-justification").value = "Seasonal shift reviewed (MRC-2026-114)."
        form.query_one("#waiver-approved_by").value = "jane.roe@example.com"
        await pilot.press("ctrl+s")
        await settle(app, pilot)  # the waiver is saved and the check runs (and is recorded) again

        await pilot.press("0")
        await settle(app, pilot)
        runs = trail_of(project).recent_runs()
        assert len(runs) == 2
        text = screen_text(app)
        assert all(run.run_id in text for run in runs) and "intact: 2 records" in text
        status = [
            {rule["id"]: rule["status"] for rule in run.document["result"]["rules"]}["DRIFT-001"]
            for run in reversed(runs)
        ]
        assert status == ["fail", "waived"]

        await pilot.press("space")  # mark the newest run
        await pilot.press("down")
        await pilot.press("space")  # and the one before: the diff shows
        await settle(app, pilot)
        diff = screen_text(app)
        assert f"{runs[1].run_id} FAIL → {runs[0].run_id}" in diff
        assert "DRIFT-001 [medium] fail → waived (waiver WVR-001)" in diff
        assert "WVR-001 for DRIFT-001, approved by jane.roe@example.com" in diff
