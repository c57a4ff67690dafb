"""The command line's contract: help, version, exit codes, one-line errors on stderr."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from auditkit import __version__
from auditkit.cli.main import main
from auditkit.errors import ExitCode


def run(args: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "auditkit", *args], capture_output=True, text=True, cwd=cwd
    )


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert __version__ in capsys.readouterr().out


def test_help_lists_commands_and_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for command in ("demo", "init", "metrics"):
        assert command in out
    assert "Exit codes" in out and "inconclusive" in out


def test_piped_output_is_delivered_whole_before_the_process_ends() -> None:
    # The console script ends with os._exit: buffered output to a pipe must be flushed first.
    result = run(["--help"])
    assert result.returncode == 0
    assert result.stdout.rstrip().endswith(main_help_last_line())
    assert result.stderr == ""


def main_help_last_line() -> str:
    import contextlib
    import io

    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        main(["--help"])
    return buffer.getvalue().rstrip().splitlines()[-1]


class ClosedPipe(io.StringIO):
    """Standard output whose reader went away (`auditkit ... | head -c 10`)."""

    def write(self, text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")

    def flush(self) -> None:
        raise BrokenPipeError(32, "Broken pipe")


def test_a_reader_that_goes_away_ends_the_command_with_141_and_nothing_on_stderr(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Not exit 1, which means policy violations: click's own handling of a broken pipe gives 1.
    monkeypatch.setattr(sys, "stdout", ClosedPipe())
    assert main(["policy", "list"]) == ExitCode.OUTPUT_CLOSED == 141
    assert capsys.readouterr().err == ""


def test_output_left_undelivered_at_the_end_is_told_by_the_final_flush(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from auditkit.cli.main import _flush_standard_streams

    assert _flush_standard_streams() is True
    monkeypatch.setattr(sys, "stdout", ClosedPipe())
    assert _flush_standard_streams() is False


def test_unknown_option_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["metrics", "--no-such-option"]) == ExitCode.ERROR
    assert "No such option" in capsys.readouterr().err


def test_missing_data_file_is_one_line_without_traceback(tmp_path: Path) -> None:
    result = run(
        [
            "metrics",
            "--data",
            str(tmp_path / "nope.csv"),
            "--label",
            "y",
            "--prediction",
            "p",
            "--by",
            "g",
        ]
    )
    assert result.returncode == ExitCode.ERROR
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert lines == [f"auditkit: error: {tmp_path / 'nope.csv'}: no such file or folder"]


def test_wrong_column_names_the_closest(tmp_path: Path) -> None:
    data = tmp_path / "d.csv"
    data.write_text("label,pred,race\n1,1,a\n0,1,b\n")
    result = run(
        ["metrics", "--data", str(data), "--label", "labl", "--prediction", "pred", "--by", "race"]
    )
    assert result.returncode == ExitCode.ERROR
    assert "Traceback" not in result.stderr
    assert "label column 'labl' not found; did you mean 'label'?" in result.stderr


def test_bare_command_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    assert "Commands:" in capsys.readouterr().out


@pytest.mark.parametrize("command", ["keygen", "check"])
def test_an_output_path_that_cannot_be_written_is_one_line_naming_it(
    tmp_path: Path, command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # A file where a folder should be: the path and the system's reason, exit 2, not an internal error.
    from tests.shared_datasets import copy_sample_project

    blocker = tmp_path / "a-file"
    blocker.write_text("")
    target = str(blocker / "inside" / "out.json")
    if command == "keygen":
        args = ["keygen", "--name", "X", "--no-passphrase", "--out", target]
    else:
        project = copy_sample_project(tmp_path / "project")
        args = ["check", "-c", str(project), "--no-record", "--format", "json", "-o", target]
    assert main(args) == ExitCode.ERROR
    [line] = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(f"auditkit: error: {blocker}") and "internal" not in line


def test_a_command_started_with_its_output_and_error_closed_does_its_work(tmp_path: Path) -> None:
    # `auditkit ... >&- 2>&-`: Python starts with sys.stdout and sys.stderr None.
    keys = tmp_path / "keys"
    command = f"{sys.executable} -m auditkit keygen --out {keys} --name X --no-passphrase >&- 2>&-"
    assert subprocess.run(["bash", "-c", command], check=False).returncode == 0
    assert (keys / "signing-cert.pem").is_file()
