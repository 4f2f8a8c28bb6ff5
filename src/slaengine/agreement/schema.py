"""JSON Schemas generated from the models: one per kind of file, JSON Schema 2020-12.

The models are the source of truth; `schema/*.schema.json` are committed copies
that a test keeps in sync (`slaengine schema --write` regenerates them).
"""

from __future__ import annotations

import copy
import json
from functools import cache
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from .models import REQUIRED_SECTIONS, AgreementSpec, MeetingRecord, Review, TestSuite
from .models.sections import FieldSpec

DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_FILES = {
    "agreement": "agreement.schema.json",
    "review": "review.schema.json",
    "test": "test.schema.json",
    "meeting": "meeting.schema.json",
}


class _AgreementSchema(GenerateJsonSchema):
    """pydantic's generator with the choices editors and our validator need."""

    def nullable_schema(self, schema: core_schema.NullableSchema) -> JsonSchemaValue:
        # `None` is how a model says "not written"; writing `null` in YAML is never meant.
        return self.generate_inner(schema["schema"])

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False

    def default_schema(self, schema: core_schema.WithDefaultSchema) -> JsonSchemaValue:
        result = super().default_schema(schema)
        if result.get("default") is None:
            result.pop("default", None)
        return result


def _tidy(node: Any) -> Any:
    """pydantic's output, with noise removed and id-keyed mappings said with propertyNames."""
    if isinstance(node, dict):
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key == "title" and isinstance(value, str) and not isinstance(
                    node.get("properties"), dict):
                continue  # generated titles of plain values only add noise in editors
            out[key] = _tidy(value)
        patterns = out.pop("patternProperties", None)
        if isinstance(patterns, dict) and len(patterns) == 1:
            # Keys are ids: say so with propertyNames, so a bad key is an error, not ignored.
            (pattern, value_schema), = patterns.items()
            out["propertyNames"] = {"pattern": pattern}
            out["additionalProperties"] = value_schema
        elif patterns is not None:
            out["patternProperties"] = patterns
        return out
    if isinstance(node, list):
        return [_tidy(v) for v in node]
    return node


def _model_schema(model: type[BaseModel], title: str) -> dict[str, Any]:
    raw = model.model_json_schema(schema_generator=_AgreementSchema, mode="validation")
    schema: dict[str, Any] = {"$schema": DRAFT_2020_12, "title": title}
    schema.update(_tidy(raw))
    schema["title"] = title
    return schema


@cache
def _agreement_document_schema() -> dict[str, Any]:
    schema = _model_schema(AgreementSpec, "slaengine agreement file")
    schema["description"] = (
        "One file of a slaengine agreement. Sections may be split across files; together "
        "they must define " + ", ".join(REQUIRED_SECTIONS) + ".")
    return schema


def agreement_file_schema() -> dict[str, Any]:
    """The schema of one agreement file: any subset of the sections."""
    schema = copy.deepcopy(_agreement_document_schema())
    schema.pop("required", None)
    return schema


def agreement_schema() -> dict[str, Any]:
    """The schema of the merged agreement: the required sections must all be present."""
    return copy.deepcopy(_agreement_document_schema())


def review_schema() -> dict[str, Any]:
    return _model_schema(Review, "slaengine review record")


def test_schema() -> dict[str, Any]:
    return _model_schema(TestSuite, "slaengine agreement tests")


def meeting_schema() -> dict[str, Any]:
    return _model_schema(MeetingRecord, "slaengine meeting record")


_LEAD_TYPES: dict[str, dict[str, Any]] = {
    "string": {"type": "string"},
    "integer": {"type": "integer"},
    "number": {"type": "number"},
    "boolean": {"type": "boolean"},
    "date": {"type": "string", "format": "date"},
    "datetime": {"type": "string", "format": "date-time"},
    "list": {"type": "array"},
}


def lead_schema(fields: dict[str, FieldSpec], title: str = "lead record") -> dict[str, Any]:
    """The schema of one lead record under an agreement's data contract (JSON lead files)."""
    properties: dict[str, Any] = {}
    for name, spec in fields.items():
        prop = dict(_LEAD_TYPES[spec.type])
        if spec.enum is not None:
            prop["enum"] = list(spec.enum)
        prop = {"anyOf": [prop, {"type": "null"}]}
        if spec.description:
            prop["description"] = spec.description
        properties[name] = prop
    required = [n for n, s in fields.items() if s.key or s.required]
    return {"$schema": DRAFT_2020_12, "title": title, "type": "object",
            "properties": properties, "required": required}


def generated_schemas() -> dict[str, dict[str, Any]]:
    """Every committed schema file by name."""
    return {
        SCHEMA_FILES["agreement"]: agreement_file_schema(),
        SCHEMA_FILES["review"]: review_schema(),
        SCHEMA_FILES["test"]: test_schema(),
        SCHEMA_FILES["meeting"]: meeting_schema(),
    }


def dumps(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=False) + "\n"
