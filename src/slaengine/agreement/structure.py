"""Structure validation: JSON Schema first (readable, located errors), then strict pydantic.

Both produce the same `Diagnostic`s, located through the loader's source map.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import jsonschema
from jsonschema.exceptions import ValidationError as SchemaError
from jsonschema.exceptions import best_match
from pydantic import BaseModel
from pydantic import ValidationError as ModelError

from .diagnostics import Diagnostic, did_you_mean, error
from .loader import RECORD_FOLDERS, LoadedAgreement, PathKey
from .models import REQUIRED_SECTIONS, AgreementSpec, MeetingRecord, Review, TestSuite
from .models.common import DURATION_PATTERN, FIELD_PATTERN, IDENTIFIER_PATTERN, INTERVAL_PATTERN
from .models.review import DIGEST_PATTERN
from .schema import agreement_schema, meeting_schema, review_schema, test_schema


@dataclass
class Structured:
    """The agreement as models, when its structure is valid."""

    spec: AgreementSpec
    reviews: list[Review]
    tests: list[TestSuite]
    meetings: list[MeetingRecord] = field(default_factory=list)  # in file-name order


@cache
def _validator(kind: str) -> jsonschema.Draft7Validator:
    schema = {"agreement": agreement_schema, "review": review_schema, "test": test_schema,
              "meeting": meeting_schema}[kind]()
    checker = jsonschema.Draft7Validator.FORMAT_CHECKER
    return jsonschema.Draft7Validator(schema, format_checker=checker)


_NOUNS = {
    "AgreementSpec": "agreement", "FieldCondition": "field test", "ScoreCondition": "score test",
    "DefinitionCondition": "definition reference", "AllCondition": "`all` condition",
    "AnyCondition": "`any` condition", "NotCondition": "`not` condition",
    "FieldSpec": "field", "PerValueRule": "score rule", "PointsRule": "score rule",
    "ServiceLevel": "service level", "Kpi": "KPI", "TestSuite": "test file",
    "TestCase": "test case", "Review": "review", "MeetingRecord": "meeting record",
    "MeetingAction": "action", "Meeting": "meeting",
}


def _noun(schema: dict[str, Any]) -> str:
    title = str(schema.get("title", ""))
    if title in _NOUNS:
        return _NOUNS[title]
    if title.startswith("slaengine "):
        return title.removeprefix("slaengine ")
    return re.sub(r"(?<!^)(?=[A-Z])", " ", title).lower() or "mapping"


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return "empty" if value is None else type(value).__name__


_PATTERN_MESSAGES = {
    DURATION_PATTERN: ("is not a duration", "write a whole number and a unit: `90m`, `24h`, "
                                            "`30d`, `2w`, or `2bd` for business days"),
    IDENTIFIER_PATTERN: ("is not a valid id", "ids are lower snake case, e.g. `sales_ready`"),
    FIELD_PATTERN: ("is not a valid field name", "use letters, digits and `_`, e.g. `mql_at`"),
    INTERVAL_PATTERN: ("is not a time interval", "write opening hours as `09:00-17:30`"),
    DIGEST_PATTERN: ("is not a digest", "copy the digest `slaengine review status` prints"),
}


def _name(path: PathKey) -> str:
    for part in reversed(path):
        if isinstance(part, str):
            return part
    return "value"


def _translate(err: SchemaError, prefix: PathKey, loaded: LoadedAgreement) -> Iterator[Diagnostic]:
    path: PathKey = prefix + tuple(err.absolute_path)
    at = loaded.locate(path)
    kind, value = err.validator, err.instance
    schema: dict[str, Any] = dict(err.schema) if isinstance(err.schema, dict) else {}
    if kind == "additionalProperties" and isinstance(value, dict):
        allowed = list(schema.get("properties", {}))
        for key in value:
            if key in allowed:
                continue
            if path == () and prefix == ():
                what = f"section `{key}`"
            elif schema.get("title") in ("FieldCondition", "ScoreCondition"):
                what = f"operator `{key}`"
            else:
                what = f"key `{key}` in {_noun(schema)}"
            yield error("unknown-key", f"unknown {what}",
                        loaded.locate((*path, key), key=True), did_you_mean(key, allowed))
        return
    if kind == "required":
        missing = re.findall(r"'([^']+)' is a required property", err.message)
        for key in missing:
            if path == () and key in REQUIRED_SECTIONS:
                yield error("missing-section", f"the agreement has no `{key}` section",
                            loaded.locate(()), f"add `{key}:` to agreement.yaml")
            else:
                yield error("missing-key", f"{_noun(schema)} is missing `{key}`", at)
        return
    if kind == "type":
        expected = schema.get("type")
        expected_text = " or ".join(expected) if isinstance(expected, list) else str(expected)
        hint = None
        if expected == "string" and isinstance(value, int | float | bool):
            hint = f'quote it: `{_name(path)}: "{value}"`' if not isinstance(value, bool) else (
                "quote it if you mean the text")
        yield error("wrong-type", f"`{_name(path)}` must be {_article(expected_text)}, "
                                  f"not {_type_name(value)}", at, hint)
        return
    if kind in ("enum", "const"):
        options = schema.get("enum", [schema.get("const")])
        yield error("invalid-value",
                    f"`{value}` is not one of " + ", ".join(f"`{o}`" for o in options), at,
                    did_you_mean(str(value), [str(o) for o in options], list_known=False))
        return
    if kind == "pattern":
        what, hint = _PATTERN_MESSAGES.get(str(schema.get("pattern")),
                                           ("has the wrong form", None))
        if "propertyNames" in err.schema_path:  # a mapping key, not a value
            at = loaded.locate((*path, str(value)), key=True)
        yield error("invalid-value", f"`{value}` {what}", at, hint)
        return
    if kind == "format":
        yield error("invalid-value", f"`{value}` is not a valid {schema.get('format')}", at,
                    "dates are written YYYY-MM-DD" if schema.get("format") == "date" else None)
        return
    if kind in ("minProperties", "maxProperties") and "field" in schema.get("properties", {}):
        yield error("invalid-condition",
                    f"a {_noun(schema)} takes exactly one operator", at,
                    "e.g. `{field: employee_count, gte: 50}`")
        return
    if kind in _LIMITS and isinstance(schema.get(kind), int | float):
        name, limit = _name(path), schema[kind]
        if kind in ("minItems", "minLength", "minProperties") and limit == 1:
            yield error("invalid-value", f"`{name}` must not be empty", at)
        else:
            yield error("invalid-value", f"`{name}` must be {_LIMITS[kind]} {limit:g}", at,
                        _LIMIT_HINTS.get(name))
        return
    if kind == "oneOf" and _exclusive_keys(schema) and isinstance(value, dict):
        keys = _exclusive_keys(schema)
        found = [k for k in keys if k in value]
        yield error("invalid-value",
                    f"a {_noun(schema)} takes exactly one of " + ", ".join(f"`{k}`" for k in keys)
                    + "; found " + (", ".join(f"`{k}`" for k in found) or "none"), at)
        return
    if kind in ("oneOf", "anyOf"):
        yield from _translate_alternatives(err, prefix, loaded)
        return
    yield error("invalid-value", _plain(err.message), at)


_LIMITS = {
    "minimum": "at least", "maximum": "at most", "exclusiveMinimum": "above",
    "exclusiveMaximum": "below", "minItems": "a list of at least", "maxItems":
    "a list of at most", "minLength": "at least this long:", "minProperties": "at least",
}
_LIMIT_HINTS = {
    "warn_at": "a fraction of the allowance, e.g. `0.75` to warn at three quarters",
    "expected_conversion": "a rate between 0 and 1, e.g. `0.08` for 8%",
    "every_months": "the review cadence in months, e.g. `6`",
}


def _exclusive_keys(schema: dict[str, Any]) -> list[str]:
    """`oneOf: [{required: [a]}, {required: [b]}]`: exactly one of these keys."""
    alternatives = schema.get("oneOf", [])
    if alternatives and all(isinstance(a, dict) and list(a) == ["required"]
                            and len(a["required"]) == 1 for a in alternatives):
        return [a["required"][0] for a in alternatives]
    return []


def _article(text: str) -> str:
    if text in ("integer", "array", "object"):
        return {"integer": "an integer", "array": "a list", "object": "a mapping"}[text]
    return {"string": "text", "number": "a number", "boolean": "true or false"}.get(text, text)


def _plain(message: str) -> str:
    return message[0].lower() + message[1:] if message else message


def _translate_alternatives(err: SchemaError, prefix: PathKey,
                            loaded: LoadedAgreement) -> Iterator[Diagnostic]:
    """Report the branch the author clearly meant; fall back on `best_match`."""
    branches: dict[Any, list[SchemaError]] = defaultdict(list)
    for sub in err.context or []:
        branches[sub.relative_schema_path[0]].append(sub)
    meant = [errs for errs in branches.values()
             if not any(e.validator == "required" and not e.relative_path for e in errs)]
    if isinstance(err.instance, dict) and len(meant) == 1:
        for sub in meant[0]:
            yield from _translate(sub, prefix, loaded)
        return
    path: PathKey = prefix + tuple(err.absolute_path)
    if err.validator == "oneOf" and not branches:
        yield error("invalid-value", _plain(err.message), loaded.locate(path))
        return
    if isinstance(err.instance, dict) and _looks_like_condition(err):
        keys = ", ".join(f"`{k}`" for k in err.instance) or "nothing"
        yield error("invalid-condition",
                    f"not a condition: it has {keys}; a condition needs one of `field`, "
                    "`score`, `definition`, `all`, `any` or `not`", loaded.locate(path),
                    "e.g. `{field: industry, in: [software]}` or `{definition: icp_fit}`")
        return
    best = best_match([err])
    if best is err:
        yield error("invalid-value", _plain(err.message), loaded.locate(path))
    else:
        yield from _translate(best, prefix, loaded)


def _looks_like_condition(err: SchemaError) -> bool:
    schema = err.schema if isinstance(err.schema, dict) else {}
    alternatives = schema.get(str(err.validator), [])
    refs = {alt.get("$ref", "") for alt in alternatives if isinstance(alt, dict)}
    return "#/definitions/FieldCondition" in refs


def schema_diagnostics(kind: str, data: Any, prefix: PathKey,
                       loaded: LoadedAgreement) -> list[Diagnostic]:
    found: list[Diagnostic] = []
    for err in _validator(kind).iter_errors(data):
        found.extend(_translate(err, prefix, loaded))
    return found


def _model_diagnostics(exc: ModelError, data: Any, prefix: PathKey,
                       loaded: LoadedAgreement) -> list[Diagnostic]:
    found = []
    for item in exc.errors(include_url=False):
        path = prefix + _data_path(data, item["loc"])
        message = item["msg"].removeprefix("Value error, ")
        found.append(error("invalid-value", _plain(message), loaded.locate(path)))
    return found


def _data_path(data: Any, loc: tuple[Any, ...]) -> PathKey:
    """pydantic's error location with union tags and validator names dropped."""
    path: list[str | int] = []
    node = data
    for part in loc:
        in_dict = isinstance(node, dict) and part in node
        if in_dict or (isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)):
            node = node[part]
            path.append(part)
    return tuple(path)


def _build(model: type[BaseModel], data: Any, prefix: PathKey, loaded: LoadedAgreement,
           found: list[Diagnostic]) -> Any:
    try:
        return model.model_validate(data, strict=True)
    except ModelError as exc:
        found.extend(_model_diagnostics(exc, data, prefix, loaded))
        return None


def check_structure(loaded: LoadedAgreement) -> tuple[Structured | None, list[Diagnostic]]:
    """Validate every file's structure; return the models when all of it is sound."""
    data = loaded.data
    sections = {k: v for k, v in data.items() if k not in RECORD_FOLDERS.values()}
    found = schema_diagnostics("agreement", sections, (), loaded)
    reviews_data = data.get("reviews", [])
    tests_data = data.get("tests", [])
    meetings_data = data.get("meeting_records", [])
    for i, review in enumerate(reviews_data):
        found.extend(schema_diagnostics("review", review, ("reviews", i), loaded))
    for i, suite in enumerate(tests_data):
        found.extend(schema_diagnostics("test", suite, ("tests", i), loaded))
    for i, record in enumerate(meetings_data):
        found.extend(schema_diagnostics("meeting", record, ("meeting_records", i), loaded))
    if found:
        return None, found

    spec = _build(AgreementSpec, sections, (), loaded, found)
    reviews = [_build(Review, r, ("reviews", i), loaded, found) for i, r in enumerate(reviews_data)]
    tests = [_build(TestSuite, t, ("tests", i), loaded, found) for i, t in enumerate(tests_data)]
    meetings = [_build(MeetingRecord, m, ("meeting_records", i), loaded, found)
                for i, m in enumerate(meetings_data)]
    if found or spec is None:
        return None, found
    return Structured(spec, reviews, tests, meetings), found
