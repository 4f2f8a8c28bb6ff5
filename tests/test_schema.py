"""The committed JSON Schemas are generated from the models and must not drift."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import jsonschema_rs
import pytest

import slaengine
from slaengine.agreement.loader import read_yaml_file
from slaengine.agreement.schema import dumps, generated_schemas, lead_schema

ROOT = Path(__file__).resolve().parents[1]
SCHEMA_DIR = ROOT / "schema"
AGREEMENT = ROOT / "agreement"


@pytest.mark.parametrize("name", sorted(generated_schemas()))
def test_committed_schema_matches_the_models(name: str) -> None:
    committed = (SCHEMA_DIR / name).read_text(encoding="utf-8")
    assert committed == dumps(generated_schemas()[name]), (
        f"schema/{name} is out of date: run `slaengine schema --write schema`")


# Every keyword of JSON Schema 2020-12 (core, applicator, unevaluated, validation,
# meta-data, format, content): anything else in a schema position is ignored by editors
# and refused by strict validators such as ajv.
KEYWORDS_2020_12 = frozenset({
    "$schema", "$id", "$ref", "$anchor", "$dynamicRef", "$dynamicAnchor", "$vocabulary",
    "$comment", "$defs", "allOf", "anyOf", "oneOf", "not", "if", "then", "else",
    "dependentSchemas", "prefixItems", "items", "contains", "properties", "patternProperties",
    "additionalProperties", "propertyNames", "unevaluatedItems", "unevaluatedProperties",
    "type", "enum", "const", "multipleOf", "maximum", "exclusiveMaximum", "minimum",
    "exclusiveMinimum", "maxLength", "minLength", "pattern", "maxItems", "minItems",
    "uniqueItems", "maxContains", "minContains", "maxProperties", "minProperties", "required",
    "dependentRequired", "title", "description", "default", "deprecated", "readOnly",
    "writeOnly", "examples", "format", "contentEncoding", "contentMediaType", "contentSchema",
})
_SCHEMA_MAPS = ("properties", "patternProperties", "$defs", "dependentSchemas")
_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
_SCHEMA_ONE = ("not", "if", "then", "else", "items", "contains", "additionalProperties",
               "propertyNames", "unevaluatedItems", "unevaluatedProperties", "contentSchema")


def unknown_keywords(schema: object, where: str = "#") -> list[str]:
    """Every key in a schema position that is not a 2020-12 keyword, with its place."""
    if isinstance(schema, bool):
        return []
    assert isinstance(schema, dict), where
    found = [f"{where}/{key}" for key in schema if key not in KEYWORDS_2020_12]
    for key in _SCHEMA_MAPS:
        for name, sub in schema.get(key, {}).items():
            found += unknown_keywords(sub, f"{where}/{key}/{name}")
    for key in _SCHEMA_LISTS:
        for i, sub in enumerate(schema.get(key, [])):
            found += unknown_keywords(sub, f"{where}/{key}/{i}")
    for key in _SCHEMA_ONE:
        if key in schema:
            found += unknown_keywords(schema[key], f"{where}/{key}")
    return found


@pytest.mark.parametrize("name", sorted(generated_schemas()))
def test_schemas_are_strict_2020_12(name: str) -> None:
    schema = json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8"))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)
    assert unknown_keywords(schema) == []


def test_the_keyword_check_finds_a_non_keyword() -> None:
    bad = {"type": "object", "properties": {"gt": {"type": "number", "gt": 0}}}
    assert unknown_keywords(bad) == ["#/properties/gt/gt"]


def test_percentile_and_warn_at_bounds_are_keywords() -> None:
    defs = generated_schemas()["agreement.schema.json"]["$defs"]
    p = defs["Percentile"]["properties"]["p"]
    assert all(alt["exclusiveMinimum"] == 0 and alt["exclusiveMaximum"] == 100
               for alt in p["anyOf"])
    warn_at = defs["ServiceLevel"]["properties"]["warn_at"]
    assert (warn_at["exclusiveMinimum"], warn_at["exclusiveMaximum"]) == (0, 1)


def _header_target(path: Path) -> Path:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    match = re.fullmatch(r"# yaml-language-server: \$schema=(\S+)", first)
    assert match, f"{path} does not start with a yaml-language-server schema line"
    return (path.parent / match.group(1)).resolve()


def test_every_agreement_file_points_editors_at_its_schema() -> None:
    files = sorted(AGREEMENT.rglob("*.yaml"))
    assert len(files) >= 10
    for path in files:
        expected = {"reviews": "review.schema.json", "tests": "test.schema.json",
                    "meetings": "meeting.schema.json"}.get(
            path.parent.name, "agreement.schema.json")
        assert _header_target(path) == SCHEMA_DIR / expected


def test_each_example_file_validates_against_its_editor_schema() -> None:
    # What an editor does: validate each file on its own, with no sections required.
    for path in sorted(AGREEMENT.rglob("*.yaml")):
        schema = json.loads(_header_target(path).read_text(encoding="utf-8"))
        data = read_yaml_file(path).data
        errors = list(jsonschema.Draft202012Validator(schema).iter_errors(data))
        assert errors == [], f"{path}: {errors[0].message if errors else ''}"


def test_editor_schema_catches_a_typo() -> None:
    schema = generated_schemas()["agreement.schema.json"]
    bad = {"definitions": {"mql": {"when": {"field": "x", "greater": 3}}}}
    assert list(jsonschema.Draft202012Validator(schema).iter_errors(bad))
    bad_key = {"definitions": {"MQL": {"when": {"definition": "icp"}}}}
    assert list(jsonschema.Draft202012Validator(schema).iter_errors(bad_key))


def test_lead_schema_follows_the_data_contract() -> None:
    agreement = slaengine.load_agreement(AGREEMENT)
    schema = lead_schema(agreement.spec.fields)
    validator = jsonschema.Draft202012Validator(schema,
                                                format_checker=jsonschema.FormatChecker())
    good = {"id": "L-1", "employee_count": 120, "industry": "software", "demo_requested": True,
            "mql_at": "2026-11-02T10:00:00+01:00", "country": None}
    assert list(validator.iter_errors(good)) == []
    assert list(validator.iter_errors({"id": "L-2", "employee_count": "120"}))
    assert list(validator.iter_errors({"id": "L-3", "industry": "banking"}))
    assert list(validator.iter_errors({"employee_count": 3}))  # no id


def test_an_independent_validator_agrees_on_the_example() -> None:
    """jsonschema-rs (Rust, its own 2020-12 implementation) compiles every schema, accepts
    every example file, and enforces the exclusive bounds a non-keyword would have lost."""
    for path in sorted(AGREEMENT.rglob("*.yaml")):
        schema = json.loads(_header_target(path).read_text(encoding="utf-8"))
        validator = jsonschema_rs.Draft202012Validator(schema, validate_formats=True)
        data = json.loads(json.dumps(read_yaml_file(path).data, default=str))
        errors = [e.message for e in validator.iter_errors(data)]
        assert errors == [], f"{path}: {errors}"
    schema = generated_schemas()["agreement.schema.json"]
    validator = jsonschema_rs.Draft202012Validator(schema)
    level = {"title": "t", "owner": "sales", "start": "a_at", "stop": "b_at", "within": "8h"}
    assert validator.is_valid({"service_levels": {"x": {**level, "warn_at": 0.5}}})
    assert not validator.is_valid({"service_levels": {"x": {**level, "warn_at": 1}}})
    kpi = {"title": "t", "percentile": {"field": "amount", "p": 100}}
    assert not validator.is_valid({"kpis": {"k": kpi}})
