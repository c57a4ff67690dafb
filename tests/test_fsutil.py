"""Atomic outputs: whole or nothing, with the permissions a user expects."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from auditkit.fsutil import atomic_writer, write_text_atomic


def test_atomic_outputs_get_the_usual_permissions_and_keys_can_be_private(tmp_path: Path) -> None:
    umask = os.umask(0o022)
    try:
        write_text_atomic(tmp_path / "report.json", "{}")
        with atomic_writer(tmp_path / "key.pem", permissions=0o600) as handle:
            handle.write("secret")
    finally:
        os.umask(umask)
    assert stat.S_IMODE((tmp_path / "report.json").stat().st_mode) == 0o644
    assert stat.S_IMODE((tmp_path / "key.pem").stat().st_mode) == 0o600


def test_a_failed_write_leaves_the_previous_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "check.json"
    target.write_text("previous")
    with pytest.raises(RuntimeError), atomic_writer(target) as handle:
        handle.write("half")
        raise RuntimeError("disk full")
    assert target.read_text() == "previous"
    assert [path.name for path in tmp_path.iterdir()] == ["check.json"]
