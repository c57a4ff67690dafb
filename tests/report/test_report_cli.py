"""`auditkit report`: a recorded run rendered, signed, verified and recorded; failures leave nothing behind."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from auditkit.cli.main import main
from auditkit.errors import ExitCode
from auditkit.report.dsse import parse_envelope_line
from auditkit.report.verify import verify_report
from auditkit.trail import TrailStore
from tests.shared_datasets import copy_sample_project

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A copy of the sample project with one recorded check and a passphrase-protected trial key."""
    folder = tmp_path_factory.mktemp("project")
    project = copy_sample_project(folder)
    assert (
        main(["check", "-c", str(project), "--format", "json", "-o", str(folder / "c.json")]) == 1
    )
    secret = folder / "secret.txt"
    secret.write_text("correct horse battery staple\n")
    keys = folder / "keys"
    assert (
        main(
            ["keygen", "--out", str(keys), "--name", "Model Risk", "--passphrase-file", str(secret)]
        )
        == 0
    )
    return {"folder": folder, "project": project, "keys": keys, "secret": secret}


def report_args(recorded: dict[str, Any], out: Path, *extra: str) -> list[str]:
    return ["report", "-c", str(recorded["project"]), "--out", str(out), *extra]


def signing_args(recorded: dict[str, Any], secret: Path) -> list[str]:
    keys = recorded["keys"]
    return [
        "--sign-key",
        str(keys / "signing-key.pem"),
        "--sign-cert",
        str(keys / "signing-cert.pem"),
        "--passphrase-file",
        str(secret),
    ]


def test_signed_report_verifies_and_is_recorded_with_its_hashes(
    recorded: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    out = recorded["folder"] / "signed"
    code = main(report_args(recorded, out, *signing_args(recorded, recorded["secret"])))
    assert code == ExitCode.OK
    names = {path.name for path in out.iterdir()}
    assert names == {
        "report.html",
        "report.pdf",
        "results.json",
        "manifest.json",
        "report.intoto.jsonl",
    }
    trusted = verify_report(out, [recorded["keys"] / "signing-cert.pem"])
    assert int(trusted.exit_code) == ExitCode.OK
    store = TrailStore(recorded["folder"] / ".auditkit" / "audit.duckdb")
    [run] = store.recent_runs()
    [stored] = [r for r in run.reports if r["signer"] == "Model Risk"]
    assert {entry["name"]: entry["sha256"] for entry in stored["files"]} == {
        name: hashlib.sha256((out / name).read_bytes()).hexdigest() for name in names
    }
    assert store.verify().count >= 2
    printed = capsys.readouterr().out
    assert all(str(out / name) in printed for name in names)
    # The trail's head at report time is signed into the statement: it still verifies as an anchor.
    envelope = parse_envelope_line((out / "report.intoto.jsonl").read_text().splitlines()[0])
    statement = json.loads(base64.b64decode(envelope["payload"]))
    anchor = statement["predicate"]["audit_trail"]
    assert store.verify(expect_head=anchor["head"]).intact
    assert anchor["records"] == store.verify().count - 1, "the report record came after the anchor"
    # The model's identity is signed too, and `verify` names it.
    project = yaml.safe_load(recorded["project"].read_text())["model"]
    assert statement["predicate"]["model"] == {
        "name": project["name"],
        "version": project["version"],
    }
    assert main(["verify", str(out), "--trust", str(recorded["keys"] / "signing-cert.pem")]) == 0
    assert f"model {project['name']} {project['version']}" in capsys.readouterr().out


def test_unsigned_report_says_so_and_has_no_envelope(
    recorded: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    out = recorded["folder"] / "unsigned"
    assert main(report_args(recorded, out, "--run", "latest")) == ExitCode.OK
    assert not (out / "report.intoto.jsonl").exists() and (out / "report.pdf").is_file()
    assert "unsigned report" in capsys.readouterr().err


def test_a_wrong_passphrase_leaves_no_report_and_no_staging_folder(
    recorded: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wrong = tmp_path / "wrong.txt"
    wrong.write_text("not it\n")
    out = tmp_path / "report"
    code = main(report_args(recorded, out, *signing_args(recorded, wrong)))
    assert code == ExitCode.ERROR
    assert "passphrase" in capsys.readouterr().err.lower()
    assert list(tmp_path.iterdir()) == [wrong], "no report folder, no leftover staging folder"


def test_a_broken_trail_is_not_reported_on(
    recorded: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import shutil

    import duckdb

    from auditkit.trail.layout import segment_of

    folder = tmp_path / "copy"
    shutil.copytree(recorded["folder"], folder)
    store = folder / ".auditkit" / "audit.duckdb"
    with duckdb.connect(str(store)) as connection:
        connection.execute(f"UPDATE {segment_of(1)} SET payload = replace(payload, 'fail', 'pass')")
    project = folder / "auditkit.yaml"
    out = tmp_path / "report"
    assert main(["report", "-c", str(project), "--out", str(out)]) == ExitCode.ERROR
    assert "the audit trail is broken" in capsys.readouterr().err
    assert not out.exists()


def test_usage_errors_name_the_problem(
    recorded: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report"
    assert main(report_args(recorded, out, "--run", "nope")) == ExitCode.ERROR
    assert "no run 'nope'" in capsys.readouterr().err
    key = str(recorded["keys"] / "signing-key.pem")
    assert main(report_args(recorded, out, "--sign-key", key)) == ExitCode.ERROR
    assert "go together" in capsys.readouterr().err
    assert not out.exists()
