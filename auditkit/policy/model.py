"""The policy language at its boundary: pydantic models of what a policy file may say.

Field docstrings are the documentation: ``auditkit policy schema`` and the docs read them.
"""

from __future__ import annotations

import ast
import inspect
import itertools
import textwrap
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

API_VERSION = "auditkit/v1"
Severity = Literal["critical", "high", "medium", "low", "info"]
SEVERITIES: tuple[Severity, ...] = ("critical", "high", "medium", "low", "info")
Enforcement = Literal["advisory", "soft-mandatory", "hard-mandatory"]
Operator = Literal[">=", ">", "<=", "<", "==", "!="]
Decision = Literal["point", "confident"]
RuleId = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_.\-]*$", max_length=64)]


def field_docstrings(model: type) -> dict[str, str]:
    """The docstring written under each field of ``model`` and of the models it derives from."""
    found: dict[str, str] = {}
    for owner in reversed(model.__mro__):
        if not issubclass(owner, BaseModel) or owner is BaseModel:
            continue
        try:
            source = textwrap.dedent(inspect.getsource(owner))
        except (OSError, TypeError):  # no source to read (a model made at run time)
            continue
        body = next(node for node in ast.parse(source).body if isinstance(node, ast.ClassDef)).body
        for statement, following in itertools.pairwise(body):
            if (
                isinstance(statement, ast.AnnAssign)
                and isinstance(statement.target, ast.Name)
                and isinstance(following, ast.Expr)
                and isinstance(following.value, ast.Constant)
                and isinstance(following.value.value, str)
            ):
                found[statement.target.id] = inspect.cleandoc(following.value.value)
    return found


def _describe_fields(schema: dict[str, Any], model: type) -> None:
    """Each field's docstring as its description in the JSON schema. Read from the source when a
    schema is asked for: pydantic's ``use_attribute_docstrings`` reads it for every model as the
    model is defined, which searched every loaded module and cost ``auditkit check`` a tenth of a
    second once scikit-learn was loading beside it."""
    properties = schema.get("properties", {})
    for name, text in field_docstrings(model).items():
        if name in properties and "description" not in properties[name]:
            properties[name]["description"] = text


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_extra=_describe_fields)


class Reference(Strict):
    framework: str
    """Regulation, standard or guidance, e.g. ``EEOC UGESP`` or ``NYC LL144``."""
    clause: str | None = None
    """Section or clause, e.g. ``29 CFR 1607.4(D)``."""
    url: str | None = None
    """Where the text can be read."""


class Defaults(Strict):
    min_group_size: int = Field(default=30, ge=1)
    """Groups with fewer rows give ``inconclusive`` instead of a pass or a fail."""
    confidence: float = Field(default=0.95, gt=0.5, lt=1.0)
    """Confidence level of the intervals used by ``decision: confident``."""
    decision: Decision = "point"
    """``point`` decides on the estimate; ``confident`` fails only when the whole interval is on the wrong
    side, passes only when it is wholly on the right side, and is inconclusive otherwise."""


class Metadata(Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.\-]*$")
    """Policy identifier (lower case)."""
    title: str
    version: str = "1.0.0"
    owner: str | None = None
    description: str | None = None


class RuleCommon(Strict):
    """Fields every rule has, whatever its kind."""

    id: RuleId
    """Stable rule identifier (SARIF ruleId, waivers and overrides refer to it)."""
    title: str
    """What the rule asserts, in plain words."""
    kind: str
    severity: Severity = "medium"
    references: list[Reference] = Field(default_factory=list)
    """Regulation clauses the rule implements."""
    remediation: str | None = None
    """What to do when the rule fails."""
    message: str | None = None
    """Message template; placeholders: {observed}, {threshold}, {op}, {group}, {metric}, {rule}."""
    description: str | None = None
    enforcement: Enforcement | None = None
    """Overrides the pack's enforcement; hard-mandatory rules ignore waivers."""
    min_group_size: int | None = Field(default=None, ge=1)
    confidence: float | None = Field(default=None, gt=0.5, lt=1.0)
    decision: Decision | None = None


MAX_EXCLUDED_SHARE = 0.02
"""6 RCNY 5-301(d): only a category under 2% of the data may be left out of the impact ratios."""


class Exclusion(Strict):
    """Small categories left out of an impact-ratio calculation, with the written justification."""

    below_share: float = Field(gt=0, le=MAX_EXCLUDED_SHARE)
    """Categories holding less than this share of the rows are left out of the impact ratios (at most
    0.02, as NYC LL144 allows)."""
    justification: str = Field(min_length=20)
    """Why the exclusion is justified; the finding repeats it (the published summary must include it)."""

    @model_validator(mode="before")
    @classmethod
    def _justified(cls, data: Any) -> Any:
        if isinstance(data, dict) and not str(data.get("justification") or "").strip():
            raise ValueError(
                "excluding small categories needs a written justification "
                "(6 RCNY 5-301(d)): add justification: ..."
            )
        return data


class Override(Strict):
    value: float | None = None
    """New threshold."""
    severity: Severity | None = None
    enforcement: Enforcement | None = None
    min_group_size: int | None = Field(default=None, ge=1)
    """Groups with fewer rows give ``inconclusive`` (instead of the pack's default)."""
    confidence: float | None = Field(default=None, gt=0.5, lt=1.0)
    decision: Decision | None = None
    disabled: bool = False
    """Drop the rule from the evaluated policy."""
    exclude_small_categories: Exclusion | None = None
    """For ``disclosure`` rules with impact ratios: leave small categories out, with a justification."""


class Extend(Strict):
    policy: str
    """``builtin:NAME`` or a path relative to this file."""
    enforcement: Enforcement = "soft-mandatory"
    overrides: dict[str, Override] = Field(default_factory=dict)
    """Per rule id: a new threshold, severity, enforcement, minimum group size, confidence or decision
    basis, or ``disabled: true``."""


class PolicyFile(Strict):
    apiVersion: Literal["auditkit/v1"]  # noqa: N815 - the key as written in policy files
    kind: Literal["Policy"]
    metadata: Metadata
    extends: list[str | Extend] = Field(default_factory=list)
    """Packs this policy builds on: ``builtin:NAME``, a path, or ``{policy, enforcement, overrides}``."""
    defaults: Defaults = Field(default_factory=Defaults)
    enforcement: Enforcement = "soft-mandatory"
    """Enforcement of this file's own rules."""
    rules: list[dict[str, Any]] = Field(default_factory=list)
    """Rules; each is validated against the model of its ``kind``."""

    @field_validator("rules")
    @classmethod
    def _rules_are_mappings(cls, rules: list[Any]) -> list[Any]:
        return rules
