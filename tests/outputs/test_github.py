"""GitHub workflow-command annotations: escaping, positions, order and the cap."""

from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path

from auditkit.outputs.github import (
    MAX_ANNOTATIONS,
    escape_data,
    escape_property,
    render_relative_to,
)
from auditkit.policy.findings import SEVERITIES, Finding
from tests.outputs import fixed_result as fixed


def unescape(text: str) -> str:
    """The runner's reading of an escaped value (the inverse of the toolkit's escaping)."""
    for escaped, plain in (("%0D", "\r"), ("%0A", "\n"), ("%3A", ":"), ("%2C", ","), ("%25", "%")):
        text = text.replace(escaped, plain)
    return text


def split_command(line: str) -> tuple[str, dict[str, str], str]:
    assert line.startswith("::")
    head, _, message = line[2:].partition("::")
    command, _, raw = head.partition(" ")
    properties = dict(item.split("=", 1) for item in raw.split(",")) if raw else {}
    return command, properties, message


def test_escaping_of_messages_and_properties() -> None:
    assert escape_data("100%\r\nnext: a,b") == "100%25%0D%0Anext: a,b"
    assert escape_property("100%\r\nnext: a,b") == "100%25%0D%0Anext%3A a%2Cb"
    # % first: an already escaped-looking text stays what it was.
    assert unescape(escape_property("%0A:%2C")) == "%0A:%2C"


def test_annotation_fields_survive_escaping() -> None:
    lines = render_relative_to(fixed.fixed_result(fixed.failing()), fixed.BASE).splitlines()
    assert len(lines) == 1
    command, properties, message = split_command(lines[0])
    assert command == "error"
    assert "\n" not in lines[0] and "\r" not in lines[0]
    assert unescape(message) == fixed.TRICKY
    assert properties["file"] == "policies/baseline.yaml"
    assert (properties["line"], properties["col"]) == ("17", "9")
    assert unescape(properties["title"]) == f"FAIR-001 (critical): {fixed.failing().title}"


def test_levels_and_positions_outside_the_working_directory() -> None:
    lines = render_relative_to(fixed.fixed_result(), fixed.BASE).splitlines()
    parsed = {
        unescape(split_command(line)[1].get("title", "")).split(" ")[0]: split_command(line)
        for line in lines
    }
    assert parsed["EEOC-4-5"][0] == "warning"
    assert "file" not in parsed["EEOC-4-5"][1], "a file outside the checkout cannot be linked"
    assert parsed["DRIFT-001"][0] == "notice"
    assert parsed["SQL-001"][0] == "error"
    assert "PERF-001" not in parsed and "EXPL-001" not in parsed


def many_failures(count: int, seed: int) -> list[Finding]:
    chooser = random.Random(seed)
    template = fixed.failing()
    return [
        replace(template, rule_id=f"R-{i:02d}", severity=chooser.choice(SEVERITIES))
        for i in range(count)
    ]


def test_the_cap_keeps_the_most_severe_and_counts_the_rest() -> None:
    findings = many_failures(15, seed=7)
    findings.append(replace(fixed.waived(), rule_id="W-1", severity="critical"))
    lines = render_relative_to(fixed.fixed_result(*findings), Path("/elsewhere")).splitlines()
    assert len(lines) == MAX_ANNOTATIONS
    shown = [unescape(split_command(line)[1]["title"]).split(" ")[0] for line in lines[:-1]]
    failures = [f for f in findings if f.status == "fail"]
    expected = sorted(failures, key=lambda f: SEVERITIES.index(f.severity))[: MAX_ANNOTATIONS - 1]
    assert shown == [f.rule_id for f in expected]
    command, _, message = split_command(lines[-1])
    left_out = len(findings) - (MAX_ANNOTATIONS - 1)
    assert command == "notice" and unescape(message).startswith(f"{left_out} more findings")
    assert "1 waived" in unescape(message)


def test_no_note_when_everything_fits() -> None:
    findings = many_failures(MAX_ANNOTATIONS, seed=3)
    lines = render_relative_to(fixed.fixed_result(*findings), fixed.BASE).splitlines()
    assert len(lines) == MAX_ANNOTATIONS
    assert all(line.startswith("::") and "more findings" not in line for line in lines)


def test_a_clean_run_writes_nothing() -> None:
    assert render_relative_to(fixed.fixed_result(fixed.passing()), fixed.BASE) == ""
