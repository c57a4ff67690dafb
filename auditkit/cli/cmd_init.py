"""``auditkit init``: inspect a dataset and write a starter ``auditkit.yaml``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click


@click.command(short_help="Write a starter auditkit.yaml for a dataset.")
@click.option(
    "--data", required=True, metavar="FILE", help="Dataset to inspect (any supported format)."
)
@click.option("--reference", metavar="FILE", help="Reference (training) dataset, if any.")
@click.option("--model", metavar="FILE", help="Model artifact, if any.")
@click.option(
    "-o",
    "--out",
    type=click.Path(path_type=Path),
    default=Path("auditkit.yaml"),
    show_default=True,
    help="Project file to write.",
)
@click.option("--force", is_flag=True, help="Overwrite an existing project file.")
def init(data: str, reference: str | None, model: str | None, out: Path, force: bool) -> int:
    """Guess column roles from a dataset and write a starter project file.

    Label-, score-, prediction- and protected-attribute-like columns are recognised by name and values;
    what cannot be guessed is left as a TODO comment to fill in.
    """
    from auditkit.data import load_dataset
    from auditkit.data.artifacts import review_todo, types_to_review
    from auditkit.data.datasets import ColumnRoles
    from auditkit.data.guess import guess_roles, render_project_file
    from auditkit.data.sources import SourceSpec
    from auditkit.data.workspace import Workspace
    from auditkit.errors import UsageError
    from auditkit.fsutil import write_text_atomic

    if out.exists() and not force:
        raise UsageError(f"{out} already exists (use --force to overwrite)")
    with Workspace() as workspace:
        dataset = load_dataset(
            workspace, "current", SourceSpec.parse(data), ColumnRoles(), require_decisions=False
        )
        guess = guess_roles(workspace, dataset)
    untrusted = types_to_review(model) if model else ()
    if untrusted:
        guess.todo.append(review_todo(untrusted))
    text = render_project_file(
        guess,
        data=_relative(data, out),
        reference=_relative(reference, out),
        model=_relative(model, out),
        review_todo=review_todo(untrusted) if untrusted else None,
    )
    write_text_atomic(out, text)
    click.echo(f"wrote {out}: {guess.summary()}", err=True)
    for line in guess.todo:
        click.echo(f"  TODO {line}", err=True)
    return 0


def _relative(path: str | None, out: Path) -> Any:
    if path is None:
        return None
    try:
        return str(Path(path).resolve().relative_to(out.resolve().parent))
    except ValueError:
        return str(Path(path).resolve())
