"""The committed JSON Schemas are generated from the models and must not drift."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
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


@pytest.mark.parametrize("name", sorted(generated_schemas()))
def test_schemas_are_valid_draft_07(name: str) -> None:
    schema = json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8"))
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    jsonschema.Draft7Validator.check_schema(schema)
    text = json.dumps(schema)
    # 2020-12 keywords that draft-07 editors would ignore must have been rewritten.
    assert "$defs" not in text and "prefixItems" not in text


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
        errors = list(jsonschema.Draft7Validator(schema).iter_errors(data))
        assert errors == [], f"{path}: {errors[0].message if errors else ''}"


def test_editor_schema_catches_a_typo() -> None:
    schema = generated_schemas()["agreement.schema.json"]
    bad = {"definitions": {"mql": {"when": {"field": "x", "greater": 3}}}}
    assert list(jsonschema.Draft7Validator(schema).iter_errors(bad))
    bad_key = {"definitions": {"MQL": {"when": {"definition": "icp"}}}}
    assert list(jsonschema.Draft7Validator(schema).iter_errors(bad_key))


def test_lead_schema_follows_the_data_contract() -> None:
    agreement = slaengine.load_agreement(AGREEMENT)
    schema = lead_schema(agreement.spec.fields)
    validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())
    good = {"id": "L-1", "employee_count": 120, "industry": "software", "demo_requested": True,
            "mql_at": "2026-11-02T10:00:00+01:00", "country": None}
    assert list(validator.iter_errors(good)) == []
    assert list(validator.iter_errors({"id": "L-2", "employee_count": "120"}))
    assert list(validator.iter_errors({"id": "L-3", "industry": "banking"}))
    assert list(validator.iter_errors({"employee_count": 3}))  # no id
