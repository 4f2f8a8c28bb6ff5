"""Structure validation: JSON Schema first (readable, located errors), then strict pydantic.

Both produce the same `Diagnostic`s, located through the loader's source map.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import jsonschema
from pydantic import BaseModel
from pydantic import ValidationError as ModelError

from .diagnostics import Diagnostic, error
from .loader import LoadedAgreement, PathKey
from .models import AgreementSpec, Review, TestSuite
from .schema import agreement_schema, review_schema, test_schema
from .translate import Translator


@dataclass
class Structured:
    """The agreement as models, when its structure is valid."""

    spec: AgreementSpec
    reviews: list[Review]
    tests: list[TestSuite]


@cache
def _validator(kind: str) -> jsonschema.Draft202012Validator:
    schema = {"agreement": agreement_schema, "review": review_schema, "test": test_schema}[kind]()
    checker = jsonschema.Draft202012Validator.FORMAT_CHECKER
    return jsonschema.Draft202012Validator(schema, format_checker=checker)


def _plain(message: str) -> str:
    return message[0].lower() + message[1:] if message else message


def schema_diagnostics(kind: str, data: Any, prefix: PathKey,
                       loaded: LoadedAgreement) -> list[Diagnostic]:
    found: list[Diagnostic] = []
    translator = Translator(prefix, loaded)
    for err in _validator(kind).iter_errors(data):
        found.extend(translator.translate(err))
    return found


def _model_diagnostics(exc: ModelError, data: Any, prefix: PathKey,
                       loaded: LoadedAgreement) -> list[Diagnostic]:
    found = []
    for item in exc.errors(include_url=False):
        path = prefix + _data_path(data, item["loc"])
        message = item["msg"].removeprefix("Value error, ")
        message, _, hint = message.partition("\nhint: ")
        found.append(error("invalid-value", _plain(message), loaded.locate(path),
                           hint or None))
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
    sections = {k: v for k, v in data.items() if k not in ("reviews", "tests")}
    found = schema_diagnostics("agreement", sections, (), loaded)
    reviews_data = data.get("reviews", [])
    tests_data = data.get("tests", [])
    for i, review in enumerate(reviews_data):
        found.extend(schema_diagnostics("review", review, ("reviews", i), loaded))
    for i, suite in enumerate(tests_data):
        found.extend(schema_diagnostics("test", suite, ("tests", i), loaded))
    if found:
        return None, found

    spec = _build(AgreementSpec, sections, (), loaded, found)
    reviews = [_build(Review, r, ("reviews", i), loaded, found) for i, r in enumerate(reviews_data)]
    tests = [_build(TestSuite, t, ("tests", i), loaded, found) for i, t in enumerate(tests_data)]
    if found or spec is None:
        return None, found
    return Structured(spec, reviews, tests), found
