"""Fixtures shared by every test folder."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from auditkit.data import Workspace
from auditkit.resources import CACHE_ENVIRONMENT
from tests.shared_datasets import SHARED_DATA

_CACHE_FOLDER = pytest.StashKey[str]()


@pytest.fixture()
def workspace() -> Iterator[Workspace]:
    """A fresh in-memory DuckDB workspace, closed after the test."""
    with Workspace() as opened:
        yield opened


@pytest.fixture()
def shared_data() -> Path:
    """The ``../shared/data`` folder beside the repository, or a skip saying it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real datasets not available: {SHARED_DATA.resolve()} is not a folder")
    return SHARED_DATA.resolve()


def pytest_configure(config: pytest.Config) -> None:
    """Tests keep auditkit's cache (compiled report templates) in a folder of their own, never in the
    user's cache folder; every command they start inherits it."""
    folder = tempfile.mkdtemp(prefix="auditkit-test-cache-")
    config.stash[_CACHE_FOLDER] = folder
    os.environ[CACHE_ENVIRONMENT] = folder


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(config.stash.get(_CACHE_FOLDER, ""), ignore_errors=True)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="rewrite the golden files of tests/outputs/golden from the current outputs",
    )


@pytest.fixture()
def update_golden(request: pytest.FixtureRequest) -> bool:
    """True with ``pytest --update-golden``: golden-file tests write their files instead of comparing."""
    return bool(request.config.getoption("--update-golden"))
