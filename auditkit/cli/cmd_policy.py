"""``auditkit policy``: lint, test, list, show and describe policies."""

from __future__ import annotations

import json
from pathlib import Path

import click


@click.group(short_help="Lint, test, list and show policies.")
def policy() -> None:
    """Work with policy files and the built-in packs."""


@policy.command(short_help="Check policy files without data.")
@click.argument("files", nargs=-1, required=True)
def lint(files: tuple[str, ...]) -> int:
    """Report every problem in the policy FILES (or builtin:NAME) as file:line:col: message."""
    from auditkit.errors import ConfigError, ConfigErrors, ExitCode
    from auditkit.policy.loader import load_policy

    failed = False
    for reference in files:
        try:
            loaded = load_policy(reference)
        except ConfigErrors as error:
            failed = True
            for problem in error.errors:
                click.echo(str(problem), err=True)
            continue
        except ConfigError as error:
            failed = True
            click.echo(str(error), err=True)
            continue
        click.echo(f"ok {reference}: {loaded.id} {loaded.version}, {len(loaded.rules)} rules")
    return int(ExitCode.ERROR if failed else ExitCode.OK)


@policy.command(name="list", short_help="List built-in packs, rule kinds and metrics.")
def list_command() -> int:
    """The built-in policy packs, the rule kinds and the metric keys rules can use."""
    from auditkit.metrics.quality import QUALITY_CHECKS
    from auditkit.metrics.registry import FAIRNESS_METRICS, METRICS, label_free_keys
    from auditkit.policy.kinds import RULE_MODELS, kind_headline
    from auditkit.policy.loader import builtin_names, load_policy

    click.echo("built-in packs:")
    for name in builtin_names():
        pack = load_policy(f"builtin:{name}")
        click.echo(f"  builtin:{name:<22} {pack.title} ({len(pack.rules)} rules)")
    click.echo("rule kinds:")
    for name in RULE_MODELS:
        click.echo(f"  {name:<14} {kind_headline(name)}")
    click.echo("metrics: " + ", ".join(METRICS))
    click.echo("fairness metrics: " + ", ".join(FAIRNESS_METRICS))
    click.echo("without a label column (decisions only): " + ", ".join(label_free_keys()))
    click.echo("data-quality checks: " + ", ".join(QUALITY_CHECKS))
    return 0


@policy.command(short_help="Show a built-in pack or a rule kind's example.")
@click.argument("name")
def show(name: str) -> int:
    """Print the built-in pack NAME (or builtin:NAME) as written, or the documented example of rule kind NAME."""
    from auditkit.errors import UsageError
    from auditkit.policy.kinds import RULE_MODELS, kind_example, kind_summary
    from auditkit.policy.loader import builtin_names, resolve_reference
    from auditkit.yamlsource import did_you_mean

    if name in RULE_MODELS:
        click.echo(f"# {kind_summary(name)}\n{kind_example(name)}")
        return 0
    pack = name.removeprefix("builtin:")
    if pack not in builtin_names():
        raise UsageError(
            f"no built-in pack or rule kind {name!r}{did_you_mean(pack, [*builtin_names(), *RULE_MODELS])}"
        )
    click.echo(resolve_reference(f"builtin:{pack}").read_text(encoding="utf-8"), nl=False)
    return 0


@policy.command(name="test", short_help="Run the policy test cases under a folder.")
@click.argument("directory", type=click.Path(path_type=Path))
def test_command(directory: Path) -> int:
    """Run the cases in every *.test.yaml file under DIRECTORY, like `opa test`.

    Each case names a policy (builtin:NAME or a path relative to the case file), column roles, data as
    inline rows (or a small file) and the outcome each rule must give. Prints one line per case and
    rule, a summary, and the rules no case covers. Exit 0 when every expectation holds, 1 when one does
    not, 2 when a case file is malformed or its policy or data cannot be loaded.
    """
    from auditkit.errors import ExitCode
    from auditkit.policy.testing import PolicyTestErrors, run_directory

    try:
        run = run_directory(directory)
    except PolicyTestErrors as error:
        for problem in error.errors:
            click.echo(str(problem), err=True)
        return int(ExitCode.ERROR)
    for case in run.cases:
        for check in case.checks:
            where = f"{case.position.path}:{case.position.line}"
            if check.ok:
                got = check.finding.status if check.finding else "?"
                click.echo(f"ok    {where} {case.name}: {check.rule_id} {got}")
            else:
                click.echo(
                    f"FAIL  {where} {case.name}: {check.rule_id}: {'; '.join(check.problems)}"
                )
    failed = run.failed
    click.echo(
        f"\n{len(run.cases)} cases, {run.expectations} expectations: "
        f"{run.expectations - failed} ok, {failed} failed"
    )
    if run.untested:
        click.echo("rules without a case:")
        for policy, rule_ids in run.untested.items():
            click.echo(f"  {policy}: {', '.join(rule_ids)}")
    return int(ExitCode.VIOLATIONS if failed else ExitCode.OK)


@policy.command(short_help="Print the JSON Schema of policy files.")
def schema() -> int:
    """JSON Schema of policy files (for editor completion and validation)."""
    from auditkit.policy.schema import policy_schema

    click.echo(json.dumps(policy_schema(), indent=2))
    return 0
