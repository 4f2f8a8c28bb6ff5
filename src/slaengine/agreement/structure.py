"""Structure validation: JSON Schema first (readable, located errors), then strict pydantic.

Both produce the same `Diagnostic`s, located through the loader's source map.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any

import jsonschema
from pydantic import BaseModel
from pydantic import ValidationError as ModelError

from .diagnostics import Diagnostic, error
from .loader import RECORD_FOLDERS, LoadedAgreement, PathKey
from .models import AgreementSpec, MeetingRecord, Review, TestSuite
from .schema import agreement_schema, meeting_schema, review_schema, test_schema
from .translate import Translator


@dataclass
class Structured:
    """The agreement as models, when its structure is valid."""

    spec: AgreementSpec
    reviews: list[Review]
    tests: list[TestSuite]
    meetings: list[MeetingRecord] = field(default_factory=list)  # in file-name order


@cache
def _validator(kind: str) -> jsonschema.Draft202012Validator:
    schema = {"agreement": agreement_schema, "review": review_schema, "test": test_schema,
              "meeting": meeting_schema}[kind]()
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


# `all`, `any` and `not` nested deeper than this are refused before any reader recurses into
# them: schema, models, compilers and explanations each recurse once per level.
MAX_CONDITION_DEPTH = 32
_COMBINATORS = ("all", "any", "not")


def _condition_depth(value: Any, path: PathKey) -> tuple[int, PathKey]:
    """How deep `all`/`any`/`not` nest below `value`, and the path of the deepest one."""
    best: tuple[int, PathKey] = (0, path)
    children: list[tuple[Any, PathKey]] = []
    if isinstance(value, dict):
        children = [(v, (*path, k)) for k, v in value.items()]
    elif isinstance(value, list):
        children = [(v, (*path, i)) for i, v in enumerate(value)]
    is_combinator = isinstance(value, dict) and any(k in value for k in _COMBINATORS)
    for child, child_path in children:
        depth, deepest = _condition_depth(child, child_path)
        if depth > best[0]:
            best = (depth, deepest)
        if best[0] > MAX_CONDITION_DEPTH:
            break
    return (best[0] + 1, best[1] if best[0] else path) if is_combinator else best


def depth_diagnostics(data: Any, prefix: PathKey, loaded: LoadedAgreement) -> list[Diagnostic]:
    """Conditions nested past `MAX_CONDITION_DEPTH`, each reported at its deepest point."""
    found = []
    items = data.items() if isinstance(data, dict) else enumerate(data)
    for key, value in items:
        depth, deepest = _condition_depth(value, (*prefix, key))
        if depth > MAX_CONDITION_DEPTH:
            found.append(error(
                "condition-too-deep", f"conditions are nested more than {MAX_CONDITION_DEPTH} "
                "levels deep (`all`, `any` and `not` inside each other)", loaded.locate(deepest),
                "give the inner conditions a name under `definitions:` and refer to it with "
                f"`{{definition: name}}`; the limit is {MAX_CONDITION_DEPTH} levels"))
    return found


def check_structure(loaded: LoadedAgreement) -> tuple[Structured | None, list[Diagnostic]]:
    """Validate every file's structure; return the models when all of it is sound."""
    data = loaded.data
    too_deep = depth_diagnostics(data, (), loaded)
    if too_deep:
        return None, too_deep
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
