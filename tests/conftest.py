"""Fixtures shared by every test folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from auditkit.data import Workspace
from tests.shared_datasets import SHARED_DATA


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
