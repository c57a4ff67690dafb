"""The terminal UI driven as a user drives it (Pilot), checked against what the screen shows at 80x24.

Every number asserted on screen is computed here independently (DuckDB on the Parquet file, hashlib,
the command line's JSON), never copied from an earlier run.
"""

from __future__ import annotations

import hashlib
import json
import sys
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
import pytest
import yaml
from textual.pilot import Pilot

from auditkit.cli.main import main
from auditkit.trail import TrailStore
from auditkit.tui.app import AuditApp
from tests.cli.test_named_model import named_only_project
from tests.shared_datasets import mixed_minimum_project
from tests.tui.conftest import run_async, screen_text, settle

pytestmark = pytest.mark.slow
SIZE = (80, 24)


def cli_check(project: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    code = main(["check", "-c", str(project), "--format", "json"])
    return code, json.loads(capsys.readouterr().out)


@run_async
async def test_every_screen_at_80x24(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, document = cli_check(project, capsys)
    current = project.parent / "applications_2026q3.parquet"
    app = AuditApp(project)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        overview = screen_text(app)
        assert "Verdict: FAIL" in overview and "exit code 1" in overview
        summary = document["summary"]
        assert f"PASS {summary['pass']}" in overview and f"FAIL {summary['fail']}" in overview
        assert hashlib.sha256(current.read_bytes()).hexdigest()[:16] in overview
        assert "credit-risk 3.2.0" in overview
        # The check on screen is recorded in the project's trail like `auditkit check`'s.
        stored = TrailStore(project.parent / ".auditkit" / "audit.duckdb").load_run("latest")
        assert f"Run: {stored.run_id}" in overview
        assert stored.document["result"]["summary"]["fail"] == summary["fail"]

        await pilot.press("2")
        await settle(app, pilot)
        data = screen_text(app)
        rows = pq.ParquetFile(current).metadata.num_rows
        assert f"rows 1–100 of {rows:,}" in data
        first_id = pq.read_table(current, columns=["applicant_id"]).column(0)[0].as_py()
        assert first_id in data
        await pilot.press("n")
        await settle(app, pilot)
        assert f"rows 101–200 of {rows:,}" in screen_text(app)

        await pilot.press("3")
        await settle(app, pilot)
        fairness = screen_text(app)
        assert "selection_rate by sex" in fairness and "EEOC-4-5: 0.8 × highest group" in fairness

        await pilot.press("4")
        await settle(app, pilot)
        performance = screen_text(app)
        auc = next(r for r in document["rules"] if r["id"] == "PERF-001")["observed"]
        assert "roc_auc" in performance and f"{auc:.4f}" in performance
        assert "Confusion matrix" in performance

        await pilot.press("5")
        await settle(app, pilot)
        drift = screen_text(app)
        drift_rule = next(r for r in document["rules"] if r["id"] == "DRIFT-001")
        income = next(g for g in drift_rule["groups"] if g["group"]["column"] == "income")
        assert f"{income['observed']:.4f}" in drift and "Data quality" in drift

        await pilot.press("6")
        await settle(app, pilot)
        policies = screen_text(app)
        for rule in document["rules"]:
            assert rule["id"] in policies
        first = document["rules"][0]
        assert f"Observed {first['observed']:.4f}" in policies  # the first rule's details
        app.screen.query_one("#rule-details").scroll_end(animate=False)
        await pilot.pause()
        assert first["references"][0]["clause"] in screen_text(app)

        await pilot.press("7")
        await settle(app, pilot)
        assert "written with the first waiver" in screen_text(app)

        await pilot.press("8")
        await settle(app, pilot)
        assert "mean |SHAP| over the sample" in screen_text(app)

        await pilot.press("9")
        await settle(app, pilot)
        assert app.session is not None and f"Run: {app.session.run_id}" in screen_text(app)

        await pilot.press("0")
        await settle(app, pilot)
        history = screen_text(app)
        # The command line's check and the UI's: two runs, both listed, the chain intact.
        trail = TrailStore(project.parent / ".auditkit" / "audit.duckdb")
        assert trail.verify().count == 2 and "intact: 2 records" in history
        assert all(run.run_id in history for run in trail.recent_runs())

        await pilot.press("question_mark")
        await pilot.pause()
        assert "command palette" in screen_text(app)
        await pilot.press("escape")
        await pilot.press("t")
        assert app.theme == "textual-light"


@run_async
async def test_fairness_screen_shows_the_injected_race_disparity(project: Path) -> None:
    current = project.parent / "applications_2026q3.parquet"
    rates = dict(
        duckdb.sql(
            f"SELECT race, avg(approved) FROM '{current}' WHERE race IS NOT NULL GROUP BY race"
        ).fetchall()
    )
    ratio = rates["Black"] / max(rates.values())
    assert 0.45 < ratio < 0.55
    app = AuditApp(project)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("3")
        await settle(app, pilot)
        screen = app.screen
        screen.query_one("#grouping").value = ("race",)
        await settle(app, pilot)
        text = screen_text(app)
        black = next(line for line in text.splitlines() if line.strip().startswith("Black"))
        assert f"{rates['Black']:.4f}" in black and f"{ratio:.3f}" in black
        assert "┃" in text  # the threshold line crosses the bars


@run_async
async def test_fairness_ratios_divide_as_the_rule_on_the_chart(tmp_path: Path) -> None:
    # Groups of 100 at rates 0.5 and 0.45 and one of 5 at 1.0: a four-fifths rule at 30 divides by
    # 0.5, while another pack's minimum of 1 has the screen's metrics divide by the group of 5.
    app = AuditApp(mixed_minimum_project(tmp_path))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await pilot.press("3")
        await settle(app, pilot)
        app.screen.query_one("#grouping").value = ("g",)
        await settle(app, pilot)
        lines = screen_text(app).splitlines()
        table_rows = [
            line.split() for line in lines if line.split()[:2] in (["A", "100"], ["B", "100"])
        ]
        assert {cells[0]: cells[-1] for cells in table_rows} == {"A": "1.000", "B": "0.900"}
        small = next(line for line in lines if line.split()[:2] == ["C", "5"])
        assert "inconclusive: 5 rows, fewer than" in small  # the column is cut at the edge
        assert "ratio to max as FF divides it" in " ".join(" ".join(lines).split())


@run_async
async def test_a_model_named_without_a_file_is_shown_and_not_explained(tmp_path: Path) -> None:
    app = AuditApp(named_only_project(tmp_path))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        overview = " ".join(screen_text(app).split())
        assert "talent-screen 2026.3 (named only: its decisions are in the data)" in overview
        await pilot.press("8")
        await settle(app, pilot)
        explain = " ".join(screen_text(app).split())
        assert "Nothing to explain: the project names the model talent-screen" in explain


@run_async
async def test_sql_console_refuses_file_access_with_a_clear_message(project: Path) -> None:
    app = AuditApp(project)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("2")
        await settle(app, pilot)
        await pilot.press("s")
        for query, reason in (
            ("COPY current TO '/tmp/leak.csv'", "only SELECT queries are allowed"),
            ("SELECT * FROM read_csv('/etc/passwd')", "Cannot access file"),
        ):
            sql = app.screen.query_one("#sql")
            sql.value = query
            await pilot.press("enter")
            await settle(app, pilot)
            assert reason in screen_text(app)
        app.screen.query_one(
            "#sql"
        ).value = "SELECT count(*) AS n FROM current WHERE race = 'Black'"
        await pilot.press("enter")
        await settle(app, pilot)
        expected = duckdb.sql(
            f"SELECT count(*) FROM '{project.parent / 'applications_2026q3.parquet'}' "
            "WHERE race = 'Black'"
        ).fetchall()
        assert "1 rows" in screen_text(app) and str(expected[0][0]) in screen_text(app)
        # The console's example is over this project's own columns, and runs as it stands.
        sql = app.screen.query_one("#sql")
        assert sql.placeholder.startswith('SELECT "sex", count(*), avg("approved") FROM current')
        sql.value = sql.placeholder.removesuffix("  (enter runs)")
        await pilot.press("enter")
        await settle(app, pilot)
        assert "3 rows" in screen_text(app)  # Female, Male and the missing value


@run_async
async def test_waiver_created_in_the_ui_waives_the_rule_on_the_command_line(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = AuditApp(project)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("6")
        await settle(app, pilot)
        tree = app.screen.query_one("#rules")
        node = next(n for n in _leaves(tree) if n.data.rule_id == "DRIFT-001")
        tree.move_cursor(node)
        await pilot.pause()
        await pilot.press("w")
        await pilot.pause()
        form = app.screen
        assert form.query_one("#waiver-rule").value == "DRIFT-001"
        form.query_one("#waiver-justification").value = "Seasonal shift reviewed (MRC-2026-114)."
        form.query_one("#waiver-approved_by").value = "jane.roe@example.com"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert app.session is not None and app.session.check is not None
        status = {f.rule_id: f.status for f in app.session.check.findings}
        assert status["DRIFT-001"] == "waived"
        assert "WAIVED DRIFT-001" in screen_text(app)
    written = yaml.safe_load((project.parent / "waivers.yaml").read_text())["waivers"]
    assert [(w["id"], w["rule"]) for w in written] == [("WVR-001", "DRIFT-001")]
    _, document = cli_check(project, capsys)
    assert next(r for r in document["rules"] if r["id"] == "DRIFT-001")["status"] == "waived"


@run_async
async def test_invalid_waiver_is_explained_and_nothing_is_written(project: Path) -> None:
    app = AuditApp(project)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("7")
        await settle(app, pilot)
        await pilot.press("a")
        await pilot.pause()
        app.screen.query_one("#waiver-rule").value = "FAIR-001"
        app.screen.query_one("#waiver-justification").value = "too short"
        await pilot.press("ctrl+s")
        await pilot.pause()
        text = screen_text(app)
        assert "justification" in text and "at least 10 characters" in text
    assert not (project.parent / "waivers.yaml").exists()


@run_async
async def test_editing_a_policy_in_the_editor_reruns_the_check(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An "editor" that raises PERF-001's threshold above the model's AUC.
    use_editor(
        project,
        monkeypatch,
        "path = pathlib.Path(sys.argv[-1])\n"
        "path.write_text(path.read_text().replace('value: 0.75', 'value: 0.99'))\n",
    )
    app = AuditApp(project)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert app.session is not None and app.session.check is not None
        before = {f.rule_id: f.status for f in app.session.check.findings}
        await edit_rule(app, pilot, "PERF-001")
        await settle(app, pilot)
        after = {f.rule_id: f.status for f in app.session.check.findings}
    assert before["PERF-001"] == "pass" and after["PERF-001"] == "fail"


def use_editor(project: Path, monkeypatch: pytest.MonkeyPatch, script: str) -> None:
    """$EDITOR is a Python script given the file's path last; the UI hands the terminal over at once."""
    editor = project.parent / "editor.py"
    editor.write_text(f"import sys, pathlib\n{script}")
    monkeypatch.setenv("EDITOR", f"{sys.executable} {editor}")
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setattr(AuditApp, "suspend", lambda self: nullcontext())


async def edit_rule(app: AuditApp, pilot: Pilot[None], rule_id: str) -> None:
    """Press e on ``rule_id`` in the policies screen."""
    await pilot.press("6")
    await settle(app, pilot)
    tree = app.screen.query_one("#rules")
    tree.move_cursor(next(n for n in _leaves(tree) if n.data.rule_id == rule_id))
    await pilot.pause()
    await pilot.press("e")


@run_async
async def test_start_screen_writes_a_project_and_opens_it(project: Path, tmp_path: Path) -> None:
    folder = tmp_path / "fresh"
    folder.mkdir()
    data = folder / "applications.parquet"
    data.write_bytes((project.parent / "applications_2026q3.parquet").read_bytes())
    app = AuditApp(None, folder=folder)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "no auditkit.yaml here" in screen_text(app)
        app.screen.query_one("#data").value = str(data)
        app.screen.query_one("#data").focus()
        await pilot.press("enter")
        await settle(app, pilot)
        screen = app.screen
        assert screen.query_one("#label").value == "defaulted"
        assert set(screen.query_one("#sensitive").selected) >= {"sex", "race"}
        screen.query_one("#positive_label").value = "0"
        screen.query_one("#policies").select("builtin:eeoc-four-fifths")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert app.session is not None and app.session.check is not None
        assert "Verdict:" in screen_text(app)
    written = yaml.safe_load((folder / "auditkit.yaml").read_text())
    assert written["data"]["current"] == "applications.parquet"
    assert written["policies"] == ["builtin:eeoc-four-fifths"]


@run_async
async def test_a_broken_project_file_is_a_message_not_a_crash(tmp_path: Path) -> None:
    broken = tmp_path / "auditkit.yaml"
    broken.write_text("data: {current: missing.parquet}\ncolumns: {label: [oops\n")
    app = AuditApp(broken, folder=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.session is None
        assert "no auditkit.yaml here" in screen_text(app) or app.current_mode == "start"
        assert any("auditkit.yaml" in str(n.message) for n in app._notifications)


def _leaves(tree: Any) -> list[Any]:
    return [leaf for branch in tree.root.children for leaf in branch.children]


@run_async
async def test_a_built_in_pack_is_not_opened_in_the_editor(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every project on the machine uses the installed packs: the reviewer is shown how to override."""
    from auditkit.resources import policies_dir

    pack = policies_dir() / "eeoc-four-fifths.yaml"
    before = pack.read_bytes()
    use_editor(project, monkeypatch, "pathlib.Path(sys.argv[-1]).write_text('edited')\n")
    app = AuditApp(project)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await edit_rule(app, pilot, "EEOC-4-5")
        await pilot.pause()
        notes = [str(note.message) for note in app._notifications]
    assert pack.read_bytes() == before
    assert any("built-in pack eeoc-four-fifths" in note and "overrides" in note for note in notes)
