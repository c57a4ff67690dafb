"""Fingerprints are sha256 of the bytes: equal to hashlib's for one file, stable across runs and
workspaces, and changed by any added, edited, renamed or removed file of a multi-file input."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import auditkit.data.fingerprint as fingerprint_module
from auditkit.data import ColumnRoles, SourceSpec, Workspace, load_dataset
from auditkit.data.fingerprint import FileDigest, fingerprint_files, sha256_file
from auditkit.data.sources import resolve_source


def hashlib_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_rows(path: Path, first: int, count: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    ids = list(range(first, first + count))
    pq.write_table(pa.table({"id": ids, "label": [i % 2 for i in ids]}), path)
    return path


def fingerprint_of(location: str | Path) -> str:
    return resolve_source(SourceSpec(str(location))).fingerprint().sha256


def test_one_file_is_the_sha256_of_its_bytes(tmp_path: Path) -> None:
    # Larger than the 1 MiB read chunk and not a multiple of it.
    path = tmp_path / "big.csv"
    path.write_bytes(os.urandom(2 * (1 << 20) + 12345))
    fingerprint = resolve_source(SourceSpec(str(path))).fingerprint()
    assert fingerprint.sha256 == hashlib_sha256(path)
    assert fingerprint.files == (FileDigest("big.csv", path.stat().st_size, hashlib_sha256(path)),)
    assert fingerprint.size == path.stat().st_size


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(content=st.binary(max_size=5000))
def test_sha256_file_equals_hashlib(content: bytes, tmp_path: Path) -> None:
    path = tmp_path / "blob.bin"
    path.write_bytes(content)
    assert sha256_file(path) == hashlib.sha256(content).hexdigest()


def test_matches_sha256sum(tmp_path: Path) -> None:
    if shutil.which("sha256sum") is None:
        pytest.skip("sha256sum (GNU coreutils) is not installed")
    path = write_rows(tmp_path / "rows.parquet", 0, 100)
    printed = subprocess.run(
        ["sha256sum", str(path)], capture_output=True, text=True, check=True
    ).stdout
    assert fingerprint_of(path) == printed.split()[0]


def test_stable_across_processes(tmp_path: Path) -> None:
    path = write_rows(tmp_path / "rows.parquet", 0, 100)
    code = (
        "import sys; from auditkit.data.sources import resolve_source, SourceSpec; "
        "print(resolve_source(SourceSpec(sys.argv[1])).fingerprint().sha256)"
    )
    runs = {
        subprocess.run(
            [sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True
        ).stdout.strip()
        for _ in range(2)
    }
    assert runs == {fingerprint_of(path)}


def test_stable_across_workspaces(tmp_path: Path) -> None:
    for index in range(3):
        write_rows(tmp_path / "parts" / f"{index}.parquet", index * 10, 10)
    spec = SourceSpec(str(tmp_path / "parts" / "*.parquet"))
    roles = ColumnRoles(label="label", prediction="label")
    digests = []
    for _ in range(2):
        with Workspace() as workspace:
            digests.append(load_dataset(workspace, "current", spec, roles).fingerprint())
    assert digests[0] == digests[1]
    assert len(digests[0].files) == 3


def test_multi_file_fingerprint_lists_every_file(tmp_path: Path) -> None:
    if shutil.which("sha256sum") is None:
        pytest.skip("sha256sum (GNU coreutils) is not installed")
    parts = tmp_path / "parts"
    names = ["b.parquet", "a.parquet", "c.parquet"]
    for index, name in enumerate(names):
        write_rows(parts / name, index * 5, 5 + index)
    fingerprint = resolve_source(SourceSpec(str(parts / "*.parquet"))).fingerprint()
    assert fingerprint.files == tuple(
        FileDigest(name, (parts / name).stat().st_size, hashlib_sha256(parts / name))
        for name in sorted(names)
    )
    assert fingerprint.size == sum((parts / name).stat().st_size for name in names)
    # The combined digest is the sha256 of what `sha256sum` prints for the sorted files.
    listing = subprocess.run(
        ["sha256sum", *sorted(names)], cwd=parts, capture_output=True, check=True
    ).stdout
    assert fingerprint.sha256 == hashlib.sha256(listing).hexdigest()


def test_multi_file_fingerprint_changes_with_any_file(tmp_path: Path) -> None:
    parts = tmp_path / "parts"
    write_rows(parts / "a.parquet", 0, 10)
    write_rows(parts / "b.parquet", 10, 10)
    pattern = parts / "*.parquet"
    original = fingerprint_of(pattern)
    assert fingerprint_of(pattern) == original

    write_rows(parts / "c.parquet", 20, 10)
    added = fingerprint_of(pattern)
    (parts / "c.parquet").unlink()
    assert fingerprint_of(pattern) == original  # a function of the files, not of time

    (parts / "b.parquet").rename(parts / "renamed.parquet")
    renamed = fingerprint_of(pattern)
    (parts / "renamed.parquet").rename(parts / "b.parquet")
    assert fingerprint_of(pattern) == original

    edit_in_place(parts / "b.parquet")
    edited = fingerprint_of(pattern)
    assert len({original, added, renamed, edited}) == 4


def edit_in_place(path: Path) -> None:
    """Change one byte, keeping the size and the modification time."""
    before = path.stat()
    content = bytearray(path.read_bytes())
    content[len(content) // 2] ^= 0xFF
    path.write_bytes(bytes(content))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_size == before.st_size


def test_cached_digest_is_not_reused_after_an_edit_that_keeps_size_and_mtime(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Cache even fresh files, so that only the cache key can notice the edit.
    monkeypatch.setattr(fingerprint_module, "_RACY_SECONDS", -1.0)
    path = write_rows(tmp_path / "rows.parquet", 0, 50)
    first = sha256_file(path)
    edit_in_place(path)
    assert sha256_file(path) == hashlib_sha256(path) != first


def test_unchanged_file_is_read_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fingerprint_module, "_RACY_SECONDS", -1.0)
    path = write_rows(tmp_path / "rows.parquet", 0, 50)
    expected = sha256_file(path)

    def must_not_read(_: Path) -> str:
        raise AssertionError("an unchanged file was hashed again")

    monkeypatch.setattr(fingerprint_module, "_stream_sha256", must_not_read)
    assert sha256_file(path) == expected


def test_recently_modified_file_is_not_cached(tmp_path: Path) -> None:
    path = write_rows(tmp_path / "rows.parquet", 0, 50)
    sha256_file(path)
    assert not any(key[0] == str(path.resolve()) for key in fingerprint_module._cache)


def test_hive_folder_uses_relative_paths_and_survives_a_move(tmp_path: Path) -> None:
    for year in (2023, 2024):
        write_rows(tmp_path / "hive" / f"year={year}" / "part-0.parquet", year, 5)
    fingerprint = resolve_source(SourceSpec(str(tmp_path / "hive"))).fingerprint()
    assert [item.path for item in fingerprint.files] == [
        "year=2023/part-0.parquet",
        "year=2024/part-0.parquet",
    ]
    moved = tmp_path / "elsewhere" / "hive"
    moved.parent.mkdir()
    (tmp_path / "hive").rename(moved)
    assert resolve_source(SourceSpec(str(moved))).fingerprint() == fingerprint


def test_fingerprint_files_without_a_root_keeps_the_paths(tmp_path: Path) -> None:
    first = write_rows(tmp_path / "x.parquet", 0, 3)
    second = write_rows(tmp_path / "y.parquet", 3, 3)
    fingerprint = fingerprint_files([second, first])
    assert [item.path for item in fingerprint.files] == [str(first), str(second)]
