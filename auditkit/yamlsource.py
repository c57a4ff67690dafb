"""YAML documents that remember where every key and value came from.

The project file and policies are validated with pydantic; this module maps a validation error's location
back to ``file:line:col`` so that every message points at the offending text. Duplicate keys, which
PyYAML silently collapses, are errors here.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from auditkit.errors import AuditkitError, ConfigError, ConfigErrors, SourcePosition

Location = tuple[str | int, ...]


@dataclass
class YamlDocument:
    """Plain Python data loaded from YAML plus the position of every key and value in the file."""

    path: str
    data: Any
    key_positions: dict[Location, tuple[int, int]] = field(default_factory=dict)
    value_positions: dict[Location, tuple[int, int]] = field(default_factory=dict)

    def position(self, location: Sequence[str | int], *, key: bool = False) -> SourcePosition:
        """Position of ``location``, or of its nearest ancestor that has one."""
        table = self.key_positions if key else self.value_positions
        parts = tuple(location)
        while parts:
            if parts in table:
                line, column = table[parts]
                return SourcePosition(self.path, line, column)
            if parts in self.value_positions:
                line, column = self.value_positions[parts]
                return SourcePosition(self.path, line, column)
            parts = parts[:-1]
        return SourcePosition(self.path, 1, 1)


class _Builder:
    """Turns a composed YAML node tree into Python data while recording positions."""

    def __init__(self, document: YamlDocument) -> None:
        self.document = document
        self.constructor = yaml.SafeLoader("")
        self.errors: list[AuditkitError] = []

    def build(self, node: yaml.Node, location: Location) -> Any:
        self.document.value_positions[location] = _mark(node)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, location)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*location, index)) for index, item in enumerate(node.value)]
        return self.constructor.construct_object(node, deep=True)

    def _mapping(self, node: yaml.MappingNode, location: Location) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = self.constructor.construct_object(key_node, deep=True)
            child = (*location, key)
            if key in result:
                line, column = _mark(key_node)
                first_line, _ = self.document.key_positions[child]
                position = SourcePosition(self.document.path, line, column)
                self.errors.append(
                    ConfigError(
                        f"duplicate key {key!r} (first defined on line {first_line})",
                        position=position,
                    )
                )
                continue
            self.document.key_positions[child] = _mark(key_node)
            result[key] = self.build(value_node, child)
        return result


def _mark(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def load_yaml(path: str | Path, *, text: str | None = None) -> YamlDocument:
    """Load one YAML document from ``path`` (or from ``text``, reported as ``path``)."""
    display = str(path)
    if text is None:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigError("file not found", position=SourcePosition(display)) from None
        except (OSError, UnicodeDecodeError) as error:
            raise ConfigError(
                f"cannot read file: {error}", position=SourcePosition(display)
            ) from None
    document = YamlDocument(path=display, data=None)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        position = (
            SourcePosition(display, mark.line + 1, mark.column + 1)
            if mark
            else SourcePosition(display)
        )
        problem = error.problem or error.context or "malformed YAML"
        raise ConfigError(f"malformed YAML: {problem}", position=position) from None
    if node is None:
        return document
    builder = _Builder(document)
    try:
        document.data = builder.build(node, ())
    except yaml.constructor.ConstructorError as error:
        mark = error.problem_mark
        position = (
            SourcePosition(display, mark.line + 1, mark.column + 1)
            if mark
            else SourcePosition(display)
        )
        raise ConfigError(f"invalid YAML value: {error.problem}", position=position) from None
    if builder.errors:
        raise ConfigErrors(builder.errors)
    return document


def closest(word: str, candidates: Iterable[str], limit: int = 3) -> list[str]:
    """The candidates that look most like ``word`` (for 'did you mean' hints)."""
    options = list(candidates)
    same_but_case = [option for option in options if option.lower() == word.lower()]
    if same_but_case:
        return same_but_case[:limit]
    return difflib.get_close_matches(word, options, n=limit, cutoff=0.5)


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """A ``; did you mean ...?`` suffix, or nothing when no candidate is close."""
    matches = closest(word, candidates)
    if not matches:
        return ""
    return "; did you mean " + " or ".join(repr(match) for match in matches) + "?"


def validation_errors(
    document: YamlDocument,
    error: Any,
    model: type[Any],
    *,
    prefix: Location = (),
    label: str = "",
) -> ConfigErrors:
    """Turn a pydantic ``ValidationError`` into positioned, one-line messages.

    ``prefix`` is where in the document the validated value sits (for a rule validated on its own);
    ``label`` starts each message (e.g. ``"rule FAIR-001: "``).
    """
    problems: list[AuditkitError] = []
    located = [_in_document(document, prefix, item) for item in error.errors()]
    for item, (location, tagged) in zip(error.errors(), located, strict=True):
        if tagged and _deeper_error_exists(location, located):
            continue  # the error of a union member that the value was plainly not meant to be
        if item["type"] == "extra_forbidden":
            name = str(location[-1])
            allowed = _allowed_fields(model, location[:-1])
            message = f"unknown key {name!r}{did_you_mean(name, allowed)}"
            position = document.position((*prefix, *location), key=True)
        else:
            dotted = ".".join(str(part) for part in location) or "value"
            message = f"{dotted}: {_clean(item['msg'])}"
            position = document.position((*prefix, *location), key=item["type"] == "missing")
        problems.append(ConfigError(label + message, position=position))
    problems.sort(key=_position_key)
    return ConfigErrors(problems)


def _in_document(document: YamlDocument, prefix: Location, item: Any) -> tuple[Location, bool]:
    """The error's location without the union-member tags pydantic inserts (``str``, ``Extend``,
    ``literal[...]``), and whether it had any. A part is kept when the document has it: rule ids
    such as ``FAIR-001`` look like tags but are keys."""
    data = document.data
    for part in prefix:
        data = _child(data, part)
    kept: list[str | int] = []
    tagged = False
    for part in item["loc"]:
        child = _child(data, part)
        if child is not _ABSENT:
            kept.append(part)
            data = child
        elif _is_union_tag(part):
            tagged = True
        else:
            kept.append(part)  # a missing key: the message says so
            data = _ABSENT
    return tuple(kept), tagged


_ABSENT = object()


def _child(data: Any, part: str | int) -> Any:
    if isinstance(data, dict) and part in data:
        return data[part]
    if isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data):
        return data[part]
    return _ABSENT


def _deeper_error_exists(location: Location, located: list[tuple[Location, bool]]) -> bool:
    return any(
        len(other) > len(location) and other[: len(location)] == location for other, _ in located
    )


def _position_key(problem: AuditkitError) -> tuple[int, int]:
    position = problem.position
    return (position.line or 0, position.column or 0) if position else (0, 0)


def _clean(message: str) -> str:
    # pydantic prefixes messages of custom validators with "Value error, ".
    return message.removeprefix("Value error, ")


def _is_union_tag(part: str | int) -> bool:
    # pydantic inserts the name of a union member ("str", "DataSource") into error locations.
    return isinstance(part, str) and (
        part[:1].isupper() or part in {"str", "int", "float", "bool", "list[str]"}
    )


def _allowed_fields(model: type[Any], location: Sequence[str | int]) -> list[str]:
    """Field names of the (nested) pydantic model at ``location``, best effort."""
    current: Any = model
    for part in location:
        if isinstance(part, int):
            continue
        fields = getattr(current, "model_fields", {})
        if part not in fields:
            return []
        current = _model_of(fields[part].annotation)
    return list(getattr(current, "model_fields", {}).keys())


def _model_of(annotation: Any) -> Any:
    if hasattr(annotation, "model_fields"):
        return annotation
    for argument in getattr(annotation, "__args__", ()):
        found = _model_of(argument)
        if found is not None:
            return found
    return None
