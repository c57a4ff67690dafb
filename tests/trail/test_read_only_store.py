"""A trail in a folder nobody may write to (an archived copy, a read-only mount) can still be read
and verified; appending to it is one clear error that names what cannot be written."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from auditkit.trail import TrailStore
from auditkit.trail.errors import TrailError
from auditkit.trail.lock import lock_path, turnstile_path

RUNS = 3

# Reads the store given as argv[1] and appends to it, printing what happened as JSON.
_PROBE = """
import json, sys
from pathlib import Path
from auditkit.trail import TrailStore
from auditkit.trail.errors import TrailError
store = TrailStore(Path(sys.argv[1]), lock_timeout=5)
verification = store.verify()
result = {
    "intact": verification.intact,
    "count": verification.count,
    "runs": [run.run_id for run in store.recent_runs()],
}
try:
    store.append_run({"run_id": "20261129T150000Z-late", "kind": "check"})
    result["append"] = "appended"
except TrailError as error:
    result["append"] = str(error)
print(json.dumps(result))
"""


def recorded_store(folder: Path, *, with_lock_files: bool) -> Path:
    store = folder / "audit.duckdb"
    trail = TrailStore(store)
    for number in range(RUNS):
        trail.append_run({"run_id": f"20261129T140000Z-r{number}", "kind": "check"})
    if not with_lock_files:  # the store file copied alone
        lock_path(store).unlink()
        turnstile_path(store).unlink()
    return store


def probe_read_only(store: Path) -> dict[str, object]:
    """Run the probe with the store's folder read-only: by its mode for a user, by a read-only
    bind mount in a mount namespace of its own for root (whom file modes do not stop)."""
    folder = store.parent
    command = [sys.executable, "-c", _PROBE, str(store)]
    environment = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    if os.geteuid() != 0:
        for path in folder.iterdir():
            path.chmod(0o444)
        folder.chmod(0o555)
        try:
            done = subprocess.run(command, capture_output=True, text=True, env=environment)
        finally:
            folder.chmod(0o755)
    else:
        unshare = shutil.which("unshare")
        if unshare is None:
            pytest.skip("root without unshare: no way to make a folder read-only")
        script = (
            'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" || exit 99; shift; exec "$@"'
        )
        done = subprocess.run(
            [
                unshare,
                "-m",
                "--propagation",
                "private",
                "sh",
                "-c",
                script,
                "sh",
                str(folder),
                *command,
            ],
            capture_output=True,
            text=True,
            env=environment,
        )
        if done.returncode == 99:
            pytest.skip("no permission to mount a read-only folder here")
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout))


@pytest.mark.parametrize("with_lock_files", [True, False], ids=["lock-files", "store-alone"])
def test_a_read_only_trail_is_read_and_verified(tmp_path: Path, with_lock_files: bool) -> None:
    store = recorded_store(tmp_path / "archive", with_lock_files=with_lock_files)
    before = store.read_bytes()

    result = probe_read_only(store)

    assert result["intact"] is True
    assert result["count"] == RUNS
    assert result["runs"] == [f"20261129T140000Z-r{number}" for number in reversed(range(RUNS))]
    append = str(result["append"])
    assert "cannot write the audit store" in append and "\n" not in append
    assert str(store.parent) in append
    assert store.read_bytes() == before


def test_an_unwritable_lock_file_is_named_when_appending(tmp_path: Path) -> None:
    store = recorded_store(tmp_path, with_lock_files=True)
    turnstile = turnstile_path(store)
    turnstile.unlink()
    turnstile.mkdir()  # a lock file that cannot be opened for writing, whoever runs this

    with pytest.raises(TrailError) as raised:
        TrailStore(store).append_run({"run_id": "20261129T150000Z-late", "kind": "check"})
    assert str(raised.value).startswith(f"{turnstile}: cannot write the audit store's lock file")


def test_a_report_of_a_trail_that_cannot_be_written_leaves_no_report(tmp_path: Path) -> None:
    """The report is recorded before its files are moved into place: when recording fails, the
    report folder is not made, and the staged files are gone."""
    from auditkit.report.build import build_report
    from auditkit.trail.errors import TrailError
    from tests.report.sample_run import build_run_document, sample_project

    document = build_run_document(sample_project(tmp_path))
    out = tmp_path / "report"

    def cannot_record(_files: list[dict[str, str]], _signer: str | None) -> None:
        raise TrailError(f"{tmp_path}: cannot write the audit store there (Read-only file system)")

    with pytest.raises(TrailError, match="cannot write the audit store"):
        build_report(document, out, signoffs=(), signer=None, record=cannot_record)
    assert not out.exists()
    assert [path.name for path in tmp_path.iterdir() if path.name.startswith(".report")] == []
