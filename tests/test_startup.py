"""Start-up stays fast: importing auditkit or its CLI loads none of the heavy libraries."""

from __future__ import annotations

import subprocess
import sys

HEAVY = (
    "shap",
    "sklearn",
    "weasyprint",
    "textual",
    "matplotlib",
    "pandas",
    "fairlearn",
    "scipy",
    "skops",
    "onnxruntime",
)


def modules_loaded_by(statement: str) -> set[str]:
    code = f"import sys; {statement}; print(' '.join(sorted(sys.modules)))"
    output = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout
    return {name.split(".")[0] for name in output.split()}


def test_import_auditkit_loads_no_heavy_library() -> None:
    loaded = modules_loaded_by("import auditkit, auditkit.cli.main")
    assert loaded.isdisjoint(HEAVY), loaded & set(HEAVY)


def test_help_loads_no_heavy_library_nor_duckdb() -> None:
    loaded = modules_loaded_by(
        "from auditkit.cli.main import main; import contextlib, io\n"
        "with contextlib.redirect_stdout(io.StringIO()): main(['--help'])"
    )
    assert loaded.isdisjoint((*HEAVY, "duckdb", "pyarrow", "numpy")), loaded & {
        *HEAVY,
        "duckdb",
        "pyarrow",
        "numpy",
    }


def test_loading_a_project_imports_no_numpy() -> None:
    """`auditkit report` loads the project before it sends the page to its worker: numpy waits for
    the charts."""
    loaded = modules_loaded_by("import auditkit.project, auditkit.trail.store")
    assert "numpy" not in loaded
