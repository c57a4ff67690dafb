"""`auditkit check` with several --format/--output pairs: every file written whole, or none at all."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ElementTree
from pathlib import Path
from typing import Any

import pytest

import auditkit.engine
from auditkit.cli.main import main
from auditkit.errors import ExitCode
from auditkit.outputs import OUTPUT_FORMATS
from auditkit.outputs.markdown import cell
from tests.outputs import fixed_result as fixed


@pytest.fixture()
def fixed_check(monkeypatch: pytest.MonkeyPatch) -> None:
    """`auditkit check` returns the fixed result instead of running the engine (and records nothing)."""
    from auditkit.data.datasets import ColumnRoles
    from auditkit.engine import AuditRun
    from auditkit.policy.evidence import Evidence

    def fixed_run(*args: Any, **kwargs: Any) -> AuditRun:
        return AuditRun(fixed.fixed_result(), Evidence(), ColumnRoles())

    monkeypatch.setattr(auditkit.engine, "audit_project", fixed_run)


def format_args(out: Path, names: list[str]) -> list[str]:
    return [arg for name in names for arg in ("--format", name, "--output", str(out / name))]


def test_the_cli_offers_exactly_the_registered_formats() -> None:
    from auditkit.cli.cmd_check import check

    option = next(param for param in check.params if param.name == "formats")
    assert list(option.type.choices) == list(OUTPUT_FORMATS)  # type: ignore[attr-defined]
    assert "sarif" in OUTPUT_FORMATS


def test_every_pair_writes_its_file(
    sample_project: Path, tmp_path: Path, fixed_check: None, sarif_validator: Any
) -> None:
    out = tmp_path / "reports"
    names = list(OUTPUT_FORMATS)
    code = main(["check", "-c", str(sample_project), "--no-record", *format_args(out, names)])
    assert code == ExitCode.ERROR  # the fixed result has an evaluation error
    assert sorted(path.name for path in out.iterdir()) == sorted(names), "no temporary file left"
    assert json.loads((out / "json").read_text())["status"] == "error"
    assert list(sarif_validator.iter_errors(json.loads((out / "sarif").read_text()))) == []
    suite = ElementTree.parse(out / "junit").getroot().find("testsuite")
    assert suite is not None and suite.get("errors") == "1"
    assert (out / "markdown").read_text().startswith("### auditkit check: ⚠️ error")
    assert (out / "github").read_text().startswith("::error ")
    assert "ERROR: 10 rules" in (out / "text").read_text()


def test_a_format_that_fails_leaves_every_previous_file_untouched(
    sample_project: Path, tmp_path: Path, fixed_check: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "reports"
    out.mkdir()
    for name in ("json", "markdown"):
        (out / name).write_text("previous run\n")

    def broken(result: object) -> str:
        raise RuntimeError("renderer bug")

    monkeypatch.setattr("auditkit.outputs.markdown.render", broken)
    code = main(
        ["check", "-c", str(sample_project), "--no-record", *format_args(out, ["json", "markdown"])]
    )
    assert code == ExitCode.INTERNAL
    assert [(out / name).read_text() for name in ("json", "markdown")] == ["previous run\n"] * 2
    assert sorted(path.name for path in out.iterdir()) == ["json", "markdown"]


def test_the_same_output_twice_is_a_usage_error(
    sample_project: Path, tmp_path: Path, fixed_check: None, capsys: pytest.CaptureFixture[str]
) -> None:
    target = str(tmp_path / "out.txt")
    args = ["--format", "json", "--output", target, "--format", "sarif", "--output", target]
    assert main(["check", "-c", str(sample_project), "--no-record", *args]) == ExitCode.ERROR
    assert "given twice" in capsys.readouterr().err
    assert not Path(target).exists()


def test_markdown_cells_cannot_break_the_table_or_inject_html() -> None:
    escaped = cell("a | b <script>&\nline *two* `x` [link](u)")
    assert "<script>" not in escaped and "&lt;script&gt;&amp;" in escaped
    assert "\n" not in escaped and "<br>" in escaped
    assert re.search(r"(?<!\\)\|", escaped) is None
    assert "\\*two\\*" in escaped and "\\`x\\`" in escaped and "\\[link\\]" in escaped


def test_markdown_summary_is_a_well_formed_table(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir("/")
    text = OUTPUT_FORMATS["markdown"].render(fixed.fixed_result())
    lines = text.splitlines()
    header = lines.index("| result | rule | severity | policy | details |")
    rows = []
    for line in lines[header + 2 :]:
        if not line.startswith("|"):
            break
        rows.append(line)
    assert len(rows) == len(fixed.fixed_result().findings)
    for row in rows:
        assert len(re.findall(r"(?<!\\)\|", row)) == 6, row
    assert rows[0].startswith("| ❌ fail | `FAIR-001`"), "failures first"
    assert "#### Waivers in force" in text and "WVR-001" in text and "2027-01-31" in text
    assert (
        "1 pass · 4 fail · 1 inconclusive · 1 waived · 1 error · 1 not applicable · 1 reported"
        in text
    )


def test_each_output_goes_with_the_format_written_before_it(
    sample_project: Path, tmp_path: Path, fixed_check: None, capsys: pytest.CaptureFixture[str]
) -> None:
    # The continuous-integration example of the README: GitHub annotations on standard output, the
    # other formats into files, whatever their order.
    out = tmp_path / "reports"
    args = ["--format", "github", "--format", "sarif", "--output", str(out / "auditkit.sarif")]
    args += ["--format=markdown", f"--output={out / 'summary.md'}"]
    args += ["--format", "junit", f"-o{out / 'auditkit-junit.xml'}"]
    code = main(["check", "-c", str(sample_project), "--no-record", *args])
    assert code == ExitCode.ERROR
    assert capsys.readouterr().out.startswith("::error ")
    assert json.loads((out / "auditkit.sarif").read_text())["version"] == "2.1.0"
    assert (out / "summary.md").read_text().startswith("### auditkit check")
    assert ElementTree.parse(out / "auditkit-junit.xml").getroot().tag == "testsuites"


@pytest.mark.parametrize(
    "args",
    [
        ["--format", "json", "--output", "a.json", "--output", "b.json"],
        ["--output", "b.json", "--output", "a.json", "--format", "json"],
        ["--format", "json", "--format", "markdown", "--output", "a.json", "--output", "b.json"],
    ],
    ids=["two after a format", "two before a format", "outputs listed after the formats"],
)
def test_an_output_beside_no_format_of_its_own_is_refused(
    sample_project: Path, args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", "-c", str(sample_project), "--no-record", *args]) == ExitCode.ERROR
    assert "is beside no --format of its own" in capsys.readouterr().err


def test_an_output_may_come_before_its_format(
    sample_project: Path, tmp_path: Path, fixed_check: None
) -> None:
    out = tmp_path / "out"
    args = [
        "-o",
        str(out / "r.json"),
        "--format",
        "json",
        "--format",
        "sarif",
        "-o",
        str(out / "r.sarif"),
    ]
    assert main(["check", "-c", str(sample_project), "--no-record", *args]) == ExitCode.ERROR
    assert json.loads((out / "r.json").read_text())["status"] == "error"
    assert json.loads((out / "r.sarif").read_text())["version"] == "2.1.0"
