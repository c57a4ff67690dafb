"""Fixtures of the output-format tests: the SARIF schema and a copy of the sample project."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.shared_datasets import copy_sample_project

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"
SCHEMA = Path(__file__).resolve().parents[1] / "data" / "sarif-schema-2.1.0.json"
"""The OASIS SARIF 2.1.0 schema, errata 01 (``Schemata/sarif-schema-2.1.0.json`` of oasis-tcs/sarif-spec,
id ``https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json``),
unchanged: its sha256 is :data:`SCHEMA_SHA256`."""
SCHEMA_SHA256 = "c3b4bb2d6093897483348925aaa73af03b3e3f4bd4ca38cef26dcb4212a2682e"


@pytest.fixture(scope="session")
def sarif_validator() -> Any:
    """A validator for the official SARIF 2.1.0 schema (OASIS errata 01), shipped as test data."""
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    return jsonschema.Draft4Validator(
        schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER
    )


@pytest.fixture()
def sample_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the sample project, made the working directory as a repository checkout is in CI."""
    project = copy_sample_project(tmp_path)
    monkeypatch.chdir(tmp_path)
    return project
