"""The policy language: every kind's documented example loads; mistakes point at file:line:col, all at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from auditkit.cli.main import main
from auditkit.errors import ExitCode
from auditkit.policy.kinds import RULE_MODELS, kind_example
from auditkit.policy.loader import PolicyError, load_policy

HEADER = "apiVersion: auditkit/v1\nkind: Policy\nmetadata: {id: test, title: Test}\nrules:\n"


def write(tmp_path: Path, rules: str, name: str = "policy.yaml") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + rules)
    return path


@pytest.mark.parametrize("kind", list(RULE_MODELS))
def test_every_kind_documents_an_example_that_loads(kind: str, tmp_path: Path) -> None:
    example = kind_example(kind)
    assert example.lstrip().startswith("- id:")
    policy = load_policy(
        str(write(tmp_path, example.replace("\n    ", "\n  ").replace("    - id", "  - id", 1)))
    )
    assert [rule.spec.kind for rule in policy.rules] == [kind]


def test_the_product_example_policy_loads_as_written() -> None:
    policy = load_policy(
        str(Path(__file__).resolve().parents[2] / "sample_data" / "policies" / "baseline.yaml")
    )
    assert [rule.id for rule in policy.rules] == [
        "EEOC-4-5",
        "EEOC-GROUP-SIZE",
        "PERF-001",
        "FAIR-001",
        "FAIR-002",
        "EXPL-001",
        "DRIFT-001",
        "DQ-001",
        "SQL-001",
    ]


def test_all_mistakes_are_reported_at_once_with_positions(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        (
            "  - {id: A-1, title: t, kind: treshold, metric: fpr, op: '<=', value: 0.1}\n"
            "  - {id: A-2, title: t, kind: threshold, metric: fpt, op: '<=', value: 0.1}\n"
            "  - {id: A-3, title: t, kind: threshold, metric: fpr, op: '=<', value: 0.1}\n"
            "  - {id: A-3, title: t, kind: threshold, metric: fpr, op: '<=', value: 0.1, colour: red}\n"
            "  - {id: A-5, title: t, kind: parity, metric: fpr, by: [race], aggregate: ratio_to_reference, op: '<=', value: 2}\n"
        ),
    )
    with pytest.raises(PolicyError) as caught:
        load_policy(str(path))
    lines = str(caught.value).splitlines()
    assert (
        lines[0]
        == f"{path}:5:31: unknown rule kind 'treshold'; did you mean 'threshold' or 'reasons'? (kinds: threshold, parity, coverage, drift, data_quality, sql, disclosure, attribution, proxy, reasons)"
    )
    assert (
        lines[1]
        == f"{path}:6:50: rule A-2: metric: unknown metric 'fpt'; did you mean 'fp' or 'fpr'?"
    )
    assert lines[2].startswith(
        f"{path}:7:59: rule A-3: op: Input should be '>=', '>', '<=', '<', '==' or '!='"
    )
    assert lines[3] == f"{path}:8:77: rule A-3: unknown key 'colour'"
    assert lines[4].startswith(
        f"{path}:9:5: rule A-5: value: aggregate ratio_to_reference needs reference_group"
    )
    assert len(lines) == 5


def test_duplicate_rule_ids(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        (
            "  - {id: D-1, title: t, kind: sql, query: SELECT 1, op: '==', value: 1}\n"
            "  - {id: D-1, title: t, kind: sql, query: SELECT 2, op: '==', value: 2}\n"
        ),
    )
    with pytest.raises(
        PolicyError, match=r"policy.yaml:6:10: duplicate rule id 'D-1' \(first defined at .*:5:10\)"
    ):
        load_policy(str(path))


def test_extends_with_overrides_and_unknown_override(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        "apiVersion: auditkit/v1\nkind: Policy\nmetadata: {id: p, title: P}\n"
        "extends:\n  - policy: builtin:eeoc-four-fifths\n    enforcement: hard-mandatory\n"
        "    overrides: {EEOC-4-5: {value: 0.9, severity: critical}, EEOC-GROUP-SIZE: {disabled: true}}\n"
    )
    policy = load_policy(str(path))
    (rule,) = policy.rules
    assert (
        rule.spec.value == 0.9
        and rule.spec.severity == "critical"
        and rule.enforcement == "hard-mandatory"
    )  # type: ignore[attr-defined]
    path.write_text(path.read_text().replace("EEOC-GROUP-SIZE", "EEOC-SIZE"))
    with pytest.raises(PolicyError, match="override of unknown rule 'EEOC-SIZE'"):
        load_policy(str(path))


def test_unknown_builtin_and_lint_exit_codes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["policy", "lint", "builtin:eeoc-four-fifth"]) == ExitCode.ERROR
    assert "did you mean 'eeoc-four-fifths'" in capsys.readouterr().err
    good = write(
        tmp_path,
        "  - {id: G-1, title: t, kind: threshold, metric: accuracy, op: '>=', value: 0.7}\n",
    )
    assert main(["policy", "lint", str(good)]) == ExitCode.OK
    assert "ok" in capsys.readouterr().out


def test_schema_lists_every_kind(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    assert main(["policy", "schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    kinds = {
        variant["$ref"].split("/")[-1]
        for variant in schema["properties"]["rules"]["items"]["oneOf"]
    }
    assert kinds == {model.__name__ for model in RULE_MODELS.values()}


def test_policy_list_gives_each_kind_a_whole_sentence(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy", "list"]) == ExitCode.OK
    lines = capsys.readouterr().out.splitlines()
    start = lines.index("rule kinds:") + 1
    listed = {line.split()[0]: line for line in lines[start : start + len(RULE_MODELS)]}
    assert set(listed) == set(RULE_MODELS)
    for kind, line in listed.items():
        assert line.endswith("."), f"{kind}: cut off mid-sentence: {line!r}"
        assert "``" not in line, line


def test_the_schema_describes_each_field_with_its_docstring(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import json

    from auditkit.policy.model import Defaults, field_docstrings

    assert main(["policy", "schema"]) == 0
    definitions = json.loads(capsys.readouterr().out)["$defs"]
    documented = field_docstrings(Defaults)
    assert set(documented) == set(Defaults.model_fields)  # every default is documented
    for name, text in documented.items():
        assert definitions["Defaults"]["properties"][name]["description"] == text
    # A field a rule kind narrows keeps the documentation of the field it narrows.
    by = definitions["CoverageRule"]["properties"]["by"]["description"]
    assert by.startswith("Sensitive attributes; each is evaluated separately")
