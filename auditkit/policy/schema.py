"""JSON Schema of policy files, built from the same pydantic models that validate them."""

from __future__ import annotations

from typing import Any

from auditkit.policy.kinds import RULE_MODELS
from auditkit.policy.model import PolicyFile


def policy_schema() -> dict[str, Any]:
    schema = PolicyFile.model_json_schema()
    definitions = schema.setdefault("$defs", {})
    variants = []
    for name, model in RULE_MODELS.items():
        rule_schema = model.model_json_schema(ref_template="#/$defs/{model}")
        definitions.update(rule_schema.pop("$defs", {}))
        definitions[model.__name__] = rule_schema
        variants.append({"$ref": f"#/$defs/{model.__name__}"})
        rule_schema["properties"]["kind"] = {"const": name}
    schema["properties"]["rules"]["items"] = {"oneOf": variants}
    schema["title"] = "auditkit policy"
    return schema
