"""``auditkit signoff``: a reviewer's decision on a recorded run, appended to the audit trail."""

from __future__ import annotations

from pathlib import Path

import click

from auditkit.cli.cmd_trail import TEXT_OR_JSON, emit_json, open_store, run_option, store_options
from auditkit.errors import ExitCode


class DecisionText(click.types.StringParamType):
    """A decision of the trail (:data:`auditkit.trail.DECISIONS`), left for the trail to check so that a
    wrong one is a one-line error like every other; the choices are read only when help is shown,
    which keeps ``auditkit --help`` from loading the trail."""

    name = "decision"

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        from auditkit.trail import DECISIONS

        return "[" + "|".join(DECISIONS) + "]"


@click.command(short_help="Record a reviewer's sign-off on a recorded run.")
@store_options
@run_option("sign off")
@click.option("--reviewer", metavar="NAME", help="Who decides: a name or e-mail (required).")
@click.option("--decision", type=DecisionText(), help="The reviewer's decision (required).")
@click.option(
    "--comment",
    default="",
    metavar="TEXT",
    help="Why the run is rejected, or the conditions of an approval (required for those two).",
)
@click.option(
    "--format",
    "output_format",
    type=TEXT_OR_JSON,
    default="text",
    show_default=True,
    help="json: the recorded sign-off with its record's sequence number and hash.",
)
def signoff(
    config: Path | None,
    store: Path | None,
    run_reference: str,
    reviewer: str | None,
    decision: str | None,
    comment: str,
    output_format: str,
) -> int:
    """Record a reviewer's decision on a run recorded by `auditkit check`, in the audit trail beside
    the run, for `auditkit history` and the run's report to show.

    The whole trail is verified first: a sign-off on a trail that was tampered with is refused.
    Prints the run id, the decision, the reviewer and the hash of the new record. Exit 0 recorded,
    2 when nothing was recorded (no reviewer, an unknown decision, a reject or
    approve_with_conditions without --comment, no store, an unknown run, a broken trail).
    """
    trail = open_store(config, store)
    record = trail.append_signoff(
        run_reference, reviewer=reviewer or "", decision=decision or "", comment=comment
    )
    recorded = record.document()
    if output_format == "json":
        emit_json(
            {
                "store": str(trail.path),
                "run_id": record.run_id,
                "reviewer": recorded["reviewer"],
                "decision": recorded["decision"],
                "comment": recorded["comment"],
                "created": record.created,
                "record": record.seq,
                "record_hash": record.record_hash,
            }
        )
        return int(ExitCode.OK)
    click.echo(
        f"signed off run {record.run_id}: {recorded['decision']} by {recorded['reviewer']} "
        f"(record {record.seq}, hash {record.record_hash})"
    )
    return int(ExitCode.OK)
