"""Policy tests (``auditkit policy test DIR``): cases with small data and the outcome each rule must give.

Like ``opa test``, the cases live next to the policies, in files named ``*.test.yaml`` anywhere under
DIR. A case names a policy (``builtin:NAME`` or a path relative to the case file), the column roles,
its data (inline ``rows``, or a ``data`` file; optionally ``reference_rows`` or a ``reference`` file),
and the expected outcome of rules by id::

    policy: builtin:eeoc-four-fifths            # default for the cases below
    columns: {label: hired, prediction: selected, sensitive: [sex]}
    cases:
      - name: a 0.5 impact ratio fails
        rows:
          - {sex: F, selected: 1, hired: 1, _repeat: 20}   # _repeat: the row 20 times
          - {sex: F, selected: 0, hired: 0, _repeat: 20}
          - {sex: M, selected: 1, hired: 1, _repeat: 40}
        expect:
          EEOC-4-5: fail
          EEOC-GROUP-SIZE: {status: pass, observed: 40, groups: {by=sex: pass}}

An expectation is an outcome, or a mapping with ``status`` and optionally ``observed`` (within
``tolerance``), ``message_contains``, and ``groups`` (by label, e.g. ``race=Black``: an outcome, or
``{status, observed, figures}``). Inline rows are registered in DuckDB from an Arrow table (no file is
written) and evaluated by the same engine as ``auditkit check``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError

from auditkit.errors import AuditkitError, ConfigError, ConfigErrors, SourcePosition
from auditkit.policy.findings import Finding, Outcome
from auditkit.policy.loader import Policy, load_policy
from auditkit.policy.model import Strict
from auditkit.project import ColumnsSection
from auditkit.yamlsource import YamlDocument, did_you_mean, load_yaml, validation_errors

CASE_SUFFIX = ".test.yaml"
REPEAT = "_repeat"
"""In an inline row: how many times the row occurs."""


class PolicyTestErrors(ConfigErrors):
    """Malformed case files, or cases whose policy or data cannot be loaded (exit code 2)."""


class GroupExpectation(Strict):
    status: Outcome | None = None
    observed: float | None = None
    figures: dict[str, float | None] = Field(default_factory=dict)
    """Expected figures of a disclosure group, e.g. ``{selection_rate: 0.5, impact_ratio: 0.625}``."""


class Expectation(Strict):
    status: Outcome
    observed: float | None = None
    """The rule's observed value (the worst group's for grouped rules)."""
    tolerance: float = Field(default=1e-9, ge=0)
    """Largest absolute difference accepted for ``observed`` and figures."""
    message_contains: str | None = None
    groups: dict[str, Outcome | GroupExpectation] = Field(default_factory=dict)
    """Per group label as printed (``race=Black``, ``sex=Female, race=Black``, ``column=income``)."""


class Case(Strict):
    name: str
    policy: str | None = None
    """``builtin:NAME`` or a policy file relative to the case file (default: the file's ``policy``)."""
    columns: ColumnsSection | None = None
    """Column roles, as in the project file (default: the file's ``columns``)."""
    rows: list[dict[str, Any]] | None = None
    """Inline rows; ``_repeat: N`` repeats a row N times."""
    number_rows: str | None = None
    """Add a column of this name numbering the inline rows 1, 2, ... (makes repeated rows distinct)."""
    data: str | None = None
    """A small dataset file relative to the case file, instead of ``rows``."""
    reference_rows: list[dict[str, Any]] | None = None
    reference: str | None = None
    where: str | None = None
    expect: dict[str, Any] = Field(min_length=1)
    """Rule id -> expected outcome, or a mapping with ``status`` (see :class:`Expectation`)."""


class CaseFile(Strict):
    policy: str | None = None
    columns: ColumnsSection | None = None
    cases: list[Case] = Field(min_length=1)


@dataclass(frozen=True)
class RuleCheck:
    """One rule's expected outcome against what the engine gave."""

    rule_id: str
    expected: Expectation
    finding: Finding | None
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class CaseResult:
    name: str
    position: SourcePosition
    policy: str
    checks: tuple[RuleCheck, ...]

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)


@dataclass(frozen=True)
class TestRun:
    cases: tuple[CaseResult, ...]
    untested: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Policy (label) -> ids of its rules that no case expects."""

    @property
    def failed(self) -> int:
        return sum(1 for check in self._checks() if not check.ok)

    @property
    def expectations(self) -> int:
        return sum(1 for _ in self._checks())

    def _checks(self) -> Iterator[RuleCheck]:
        for case in self.cases:
            yield from case.checks


@dataclass(frozen=True)
class _Prepared:
    """A parsed case with its policy loaded, ready to evaluate."""

    case: Case
    position: SourcePosition
    base: Path
    policy_label: str
    policy: Policy
    columns: ColumnsSection
    expectations: dict[str, Expectation]


def find_case_files(directory: Path) -> list[Path]:
    return sorted(path for path in directory.rglob(f"*{CASE_SUFFIX}") if path.is_file())


def run_directory(directory: Path) -> TestRun:
    """Parse every case file under ``directory``, then evaluate every case.

    Raises :class:`PolicyTestErrors` listing every malformed case file, unloadable policy or unreadable
    case data (nothing is reported as passed or failed then).
    """
    if not directory.is_dir():
        raise ConfigError("not a folder", position=SourcePosition(str(directory)))
    problems: list[AuditkitError] = []
    prepared: list[_Prepared] = []
    cache: dict[str, Policy] = {}
    for path in find_case_files(directory):
        try:
            prepared += _prepare_file(path, cache)
        except ConfigErrors as error:
            problems += error.errors
        except ConfigError as error:
            problems.append(error)
    policies_here, policy_problems = _policies_in(directory, cache)
    problems += policy_problems
    if problems:
        raise PolicyTestErrors(problems)
    results: list[CaseResult] = []
    for item in prepared:
        try:
            results.append(_run_case(item))
        except AuditkitError as error:
            problems.append(
                ConfigError(f"case {item.case.name!r}: {error}", position=item.position)
            )
    if problems:
        raise PolicyTestErrors(problems)
    return TestRun(tuple(results), _untested([*policies_here, *cache.values()], prepared))


def _prepare_file(path: Path, cache: dict[str, Policy]) -> list[_Prepared]:
    document = load_yaml(path)
    if not isinstance(document.data, dict):
        raise ConfigError(
            "a case file must be a mapping with cases:", position=SourcePosition(str(path), 1, 1)
        )
    try:
        parsed = CaseFile.model_validate(document.data)
    except ValidationError as error:
        raise validation_errors(document, error, CaseFile) from None
    prepared: list[_Prepared] = []
    problems: list[AuditkitError] = []
    for index, case in enumerate(parsed.cases):
        try:
            prepared.append(_prepare_case(case, index, parsed, document, path, cache))
        except ConfigErrors as error:
            problems += error.errors
        except ConfigError as error:
            problems.append(error)
    if problems:
        raise ConfigErrors(problems)
    return prepared


def _prepare_case(
    case: Case,
    index: int,
    parsed: CaseFile,
    document: YamlDocument,
    path: Path,
    cache: dict[str, Policy],
) -> _Prepared:
    location = ("cases", index)
    position = document.position((*location, "name"))
    reference = case.policy or parsed.policy
    columns = case.columns or parsed.columns
    missing = [
        message
        for message, absent in (
            ("no policy: give policy: in the case or at the top of the file", reference is None),
            (
                "no column roles: give columns: in the case or at the top of the file",
                columns is None,
            ),
            (
                "give the data as rows: or data: (one of them)",
                (case.rows is None) == (case.data is None),
            ),
            (
                "give reference_rows: or reference:, not both",
                bool(case.reference_rows and case.reference),
            ),
        )
        if absent
    ]
    if missing:
        raise ConfigErrors(
            [ConfigError(f"case {case.name!r}: {m}", position=position) for m in missing]
        )
    assert reference is not None and columns is not None
    where = (*location, "policy") if case.policy else ("policy",)
    policy = _load_cached(reference, path.parent, cache, document.position(where))
    _check_expected_ids(case, policy, document, location)
    expectations = _expectations(case, document, location)
    return _Prepared(
        case, position, path.parent.resolve(), reference, policy, columns, expectations
    )


def _expectations(
    case: Case, document: YamlDocument, location: tuple[str | int, ...]
) -> dict[str, Expectation]:
    """Each expected outcome as an :class:`Expectation`, every mistake at its position."""
    from auditkit.policy.findings import OUTCOMES

    result: dict[str, Expectation] = {}
    problems: list[AuditkitError] = []
    for rule_id, raw in case.expect.items():
        where = (*location, "expect", rule_id)
        if isinstance(raw, str):
            if raw in OUTCOMES:
                result[rule_id] = Expectation(status=raw)
                continue
            problems.append(
                ConfigError(
                    f"expect {rule_id}: unknown outcome {raw!r}{did_you_mean(raw, OUTCOMES)} "
                    f"(outcomes: {', '.join(OUTCOMES)})",
                    position=document.position(where),
                )
            )
            continue
        try:
            result[rule_id] = Expectation.model_validate(raw)
        except ValidationError as error:
            label = f"expect {rule_id}: "
            problems += validation_errors(
                document, error, Expectation, prefix=where, label=label
            ).errors
    if problems:
        raise ConfigErrors(problems)
    return result


def _load_cached(
    reference: str, base: Path, cache: dict[str, Policy], position: SourcePosition
) -> Policy:
    from auditkit.policy.loader import resolve_reference

    try:
        key = str(resolve_reference(reference, base).resolve())
    except ConfigError as error:
        raise ConfigError(error.message, position=position) from None
    if key not in cache:
        cache[key] = load_policy(reference, base)
    return cache[key]


def _check_expected_ids(
    case: Case, policy: Policy, document: YamlDocument, location: tuple[str | int, ...]
) -> None:
    known = [rule.id for rule in policy.rules]
    problems: list[AuditkitError] = [
        ConfigError(
            f"case {case.name!r}: policy {policy.id} has no rule {rule_id!r}{did_you_mean(rule_id, known)}",
            position=document.position((*location, "expect", rule_id), key=True),
        )
        for rule_id in case.expect
        if rule_id not in known
    ]
    if problems:
        raise ConfigErrors(problems)


def _policies_in(
    directory: Path, cache: dict[str, Policy]
) -> tuple[list[Policy], list[AuditkitError]]:
    """The policy files under ``directory`` (so that a policy without any case is listed as untested)."""
    policies: list[Policy] = []
    problems: list[AuditkitError] = []
    for path in sorted(directory.rglob("*.yaml")):
        if path.name.endswith(CASE_SUFFIX) or not _looks_like_policy(path):
            continue
        key = str(path.resolve())
        try:
            policies.append(cache.get(key) or load_policy(str(path)))
        except ConfigErrors as error:
            problems += error.errors
        except ConfigError as error:
            problems.append(error)
    return policies, problems


def _looks_like_policy(path: Path) -> bool:
    try:
        data = load_yaml(path).data
    except ConfigError:
        return False
    return isinstance(data, dict) and data.get("kind") == "Policy"


def _run_case(item: _Prepared) -> CaseResult:
    from auditkit.engine import evaluate_loaded, open_project
    from auditkit.project import Project, roles_of

    case = item.case
    label = f"{item.position.path}:{item.position.line} ({case.name})"
    project = Project(
        base=item.base,
        current=_source(label, case.rows, case.data, case.number_rows),
        reference=_optional_source(f"{label} reference", case.reference_rows, case.reference),
        roles=roles_of(item.columns),
        where=case.where,
    )
    loaded = open_project(project)
    try:
        findings = {finding.rule_id: finding for finding in evaluate_loaded([item.policy], loaded)}
    finally:
        loaded.workspace.close()
    checks = tuple(
        _check(rule_id, expected, findings.get(rule_id))
        for rule_id, expected in item.expectations.items()
    )
    return CaseResult(case.name, item.position, item.policy_label, checks)


def _source(
    label: str,
    rows: list[dict[str, Any]] | None,
    data: str | None,
    number_rows: str | None = None,
) -> Any:
    from auditkit.data.sources import SourceSpec

    if rows is not None:
        return SourceSpec.in_memory(label, rows_table(rows, number_rows))
    assert data is not None
    return SourceSpec.parse(data)  # relative paths are taken against the project base


def _optional_source(label: str, rows: list[dict[str, Any]] | None, data: str | None) -> Any:
    return None if rows is None and data is None else _source(label, rows, data)


def rows_table(rows: list[dict[str, Any]], number_rows: str | None = None) -> Any:
    """A ``pyarrow.Table`` of inline rows; ``_repeat: N`` repeats a row, absent keys are null;
    ``number_rows`` names a column added first that numbers the rows from 1."""
    import pyarrow as pa

    from auditkit.errors import InputError

    expanded: list[dict[str, Any]] = []
    for row in rows:
        repeat = row.get(REPEAT, 1)
        if not isinstance(repeat, int) or isinstance(repeat, bool) or repeat < 0:
            raise InputError(f"{REPEAT} must be a whole number >= 0, not {repeat!r}")
        plain = {key: value for key, value in row.items() if key != REPEAT}
        expanded += [plain] * repeat
    if number_rows is not None:
        expanded = [{number_rows: index, **row} for index, row in enumerate(expanded, start=1)]
    names = list(dict.fromkeys(key for row in expanded for key in row))
    if not names:
        raise InputError("the case has no rows")
    try:
        return pa.table({name: [row.get(name) for row in expanded] for name in names})
    except (pa.ArrowInvalid, pa.ArrowTypeError) as error:
        raise InputError(f"the inline rows do not form a table: {error}") from None


def _check(rule_id: str, expected: Expectation, got: Finding | None) -> RuleCheck:
    if got is None:
        return RuleCheck(rule_id, expected, None, ("the rule gave no finding",))
    problems: list[str] = []
    if got.status != expected.status:
        problems.append(f"expected {expected.status}, got {got.status}: {got.message}")
    if "observed" in expected.model_fields_set and not _close(
        got.observed, expected.observed, expected.tolerance
    ):
        problems.append(f"observed: expected {expected.observed}, got {got.observed}")
    if expected.message_contains and expected.message_contains not in got.message:
        problems.append(f"message does not contain {expected.message_contains!r}: {got.message}")
    problems += _group_problems(expected, got)
    return RuleCheck(rule_id, expected, got, tuple(problems))


def _group_problems(expected: Expectation, got: Finding) -> list[str]:
    groups = {group.label(): group for group in got.groups}
    problems: list[str] = []
    for label, wanted in expected.groups.items():
        group = groups.get(label)
        if group is None:
            problems.append(f"no group {label!r}{did_you_mean(label, groups)}")
            continue
        want = wanted if isinstance(wanted, GroupExpectation) else GroupExpectation(status=wanted)
        if want.status is not None and group.status != want.status:
            problems.append(f"group {label}: expected {want.status}, got {group.status}")
        if "observed" in want.model_fields_set and not _close(
            group.observed, want.observed, expected.tolerance
        ):
            problems.append(
                f"group {label}: observed expected {want.observed}, got {group.observed}"
            )
        for name, value in want.figures.items():
            actual = group.figures.get(name)
            if name not in group.figures or not _close(
                None if actual is None else float(actual), value, expected.tolerance
            ):
                problems.append(f"group {label}: {name} expected {value}, got {actual}")
    return problems


def _close(got: float | None, expected: float | None, tolerance: float) -> bool:
    if got is None or expected is None:
        return got is expected
    return math.isclose(got, expected, rel_tol=0.0, abs_tol=tolerance)


def _untested(policies: list[Policy], prepared: list[_Prepared]) -> dict[str, tuple[str, ...]]:
    """Rules (by the file that defines them) that no case expects."""
    tested = {
        (rule.source.path, rule.id)
        for item in prepared
        for rule in item.policy.rules
        if rule.id in item.case.expect
    }
    untested: dict[str, list[str]] = {}
    seen: set[tuple[str, str]] = set()
    for policy in policies:
        for rule in policy.rules:
            key = (rule.source.path, rule.id)
            if key in tested or key in seen:
                continue
            seen.add(key)
            untested.setdefault(f"{rule.policy_id} ({rule.source.path})", []).append(rule.id)
    return {label: tuple(ids) for label, ids in untested.items()}
