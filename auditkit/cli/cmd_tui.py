"""``auditkit tui``: the terminal UI for reviewers."""

from __future__ import annotations

import gc
from pathlib import Path

import click


@click.command(short_help="Open the terminal UI.")
@click.argument("project", required=False, type=click.Path(path_type=Path))
def tui(project: Path | None) -> int:
    """Review a project in the terminal: data, fairness, performance, drift, policies and waivers.

    PROJECT defaults to ./auditkit.yaml; without one, a start screen picks a dataset, its column roles
    and policies, and saves a project file. Press ? in the UI for the keys.
    """
    from auditkit.errors import ConfigError, SourcePosition
    from auditkit.project import DEFAULT_PROJECT_FILE

    if project is not None and not project.is_file():
        raise ConfigError("project file not found", position=SourcePosition(str(project)))
    if project is None and Path(DEFAULT_PROJECT_FILE).is_file():
        project = Path(DEFAULT_PROJECT_FILE)
    from auditkit.tui.app import run_app

    gc.enable()  # off for one-shot commands (auditkit.cli.main.run); the UI runs for as long as it is used
    return run_app(project)
