"""JSON Schema errors in a team lead's words: one message per problem, the key, and a fix.

jsonschema describes what failed in schema terms (`is not valid under any of the given
schemas`); this module says which key is wrong, what it expects in plain words, and gives a
`hint:` that, applied literally, fixes it. Nothing here prints a Python repr.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from jsonschema.exceptions import ValidationError as SchemaError

from . import wording
from .diagnostics import Diagnostic, did_you_mean, error
from .loader import LoadedAgreement, PathKey
from .models import REQUIRED_SECTIONS
from .models.common import DURATION_PATTERN, FIELD_PATTERN, IDENTIFIER_PATTERN, INTERVAL_PATTERN
from .models.conditions import FIELD_OPERATORS, SCORE_OPERATORS
from .models.keys import PUBLIC_KEY_PATTERN
from .models.review import DIGEST_PATTERN

_NOUNS = {
    "AgreementSpec": "agreement", "FieldCondition": "field test", "ScoreCondition": "score test",
    "DefinitionCondition": "definition reference", "AllCondition": "`all` condition",
    "AnyCondition": "`any` condition", "NotCondition": "`not` condition",
    "FieldSpec": "field", "PerValueRule": "score rule", "PointsRule": "score rule",
    "ServiceLevel": "service level", "Kpi": "KPI", "TestSuite": "test file",
    "TestCase": "test case", "Review": "review", "MeetingRecord": "meeting record",
    "MeetingAction": "action", "Meeting": "meeting",
}
_CONDITION_REFS = ("FieldCondition", "ScoreCondition", "DefinitionCondition", "AllCondition")
_LIMITS = {
    "minimum": "at least", "maximum": "at most", "exclusiveMinimum": "above",
    "exclusiveMaximum": "below", "minItems": "a list of at least", "maxItems":
    "a list of at most", "minLength": "at least this long:", "minProperties": "at least",
    "maxProperties": "at most",
}
_LIMIT_HINTS = {
    "warn_at": "write `warn_at: 0.75` to warn at three quarters of the allowance",
    "expected_conversion": "write the rate as a fraction: `expected_conversion: 0.08` for 8%",
    "every_months": "write `every_months: 6` for a review every six months",
}
_SECTION_HINTS = {
    "timezone": "add `timezone: Europe/Amsterdam` (the region/city of the teams) to "
                "agreement.yaml",
    "version": "add `version: 1.0.0` to agreement.yaml",
    "agreement": "add the agreement's name to agreement.yaml, e.g. "
                 "`agreement: Acme sales and marketing agreement`",
}
_COMMA_LIST_OPERATORS = ("in", "not_in", "between")


def noun(schema: dict[str, Any]) -> str:
    title = str(schema.get("title", ""))
    if title in _NOUNS:
        return _NOUNS[title]
    if title.startswith("slaengine "):
        return title.removeprefix("slaengine ")
    return re.sub(r"(?<!^)(?=[A-Z])", " ", title).lower() or "mapping"


def type_name(value: Any) -> str:
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
    return "empty" if value is None else "a value of another kind"


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "nothing"
    return str(value)


def _name(path: PathKey) -> str:
    for part in reversed(path):
        if isinstance(part, str):
            return part
    return "value"


def _at_path(data: Any, path: PathKey) -> Any:
    node = data
    for part in path:
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if (isinstance(node, dict) and part in node) or in_list:
            node = node[part]
        else:
            return None
    return node


def _comma_list(condition: Any) -> tuple[str, list[str]] | None:
    """`{field: industry, in: software, fintech}`: YAML reads `fintech` as a key with no value.

    Returns the operator and the values the author meant to list.
    """
    if not isinstance(condition, dict):
        return None
    stray = [k for k, v in condition.items() if v is None and k not in FIELD_OPERATORS]
    for op in _COMMA_LIST_OPERATORS:
        if stray and isinstance(condition.get(op), str | int | float):
            return op, [_scalar(condition[op]), *stray]
    return None


class Translator:
    """Turns the errors of one document into diagnostics located through the source map."""

    def __init__(self, prefix: PathKey, loaded: LoadedAgreement):
        self.prefix = prefix
        self.loaded = loaded

    def value(self, path: PathKey) -> Any:
        return _at_path(self.loaded.data, path)

    def translate(self, err: SchemaError) -> Iterator[Diagnostic]:
        path: PathKey = self.prefix + tuple(err.absolute_path)
        schema: dict[str, Any] = dict(err.schema) if isinstance(err.schema, dict) else {}
        handler = getattr(self, f"_{err.validator}", None)
        if err.validator in ("oneOf", "anyOf"):
            handler = self._alternatives
        elif err.validator in _LIMITS:
            handler = self._limit
        if (comma := _comma_list(self.value(path[:-1]))) and path[-1:] == (comma[0],):
            return  # reported once, on the condition, by `_additionalProperties`
        if handler is None:
            yield error("invalid-value", f"`{_name(path)}` has a value it cannot take",
                        self.loaded.locate(path))
            return
        yield from handler(err, path, schema)

    def _additionalProperties(self, err: SchemaError, path: PathKey,
                              schema: dict[str, Any]) -> Iterator[Diagnostic]:
        value = err.instance
        if not isinstance(value, dict):
            return
        if (comma := _comma_list(value)) is not None:
            op, items = comma
            yield error("invalid-value", f"the values of `{op}` must be a list",
                        self.loaded.locate((*path, op)),
                        f"write them in square brackets: `{op}: [{', '.join(items)}]`")
            return
        allowed = list(schema.get("properties", {}))
        is_test = schema.get("title") in ("FieldCondition", "ScoreCondition")
        unknown = [k for k in value if k not in allowed]
        missing = [k for k in schema.get("required", []) if k not in value]
        for key in value:
            if key in allowed:
                continue
            at = self.loaded.locate((*path, key), key=True)
            if path == ():
                yield error("unknown-key", f"unknown section `{key}`", at,
                            did_you_mean(key, allowed))
            elif is_test:
                ops = FIELD_OPERATORS if schema.get("title") == "FieldCondition" \
                    else SCORE_OPERATORS
                meant = wording.OPERATOR_WORDS.get(str(key).lower())
                hint = (f"write `{meant}`" if meant in ops else
                        did_you_mean(str(key), list(ops)))
                yield error("unknown-key", f"unknown operator `{key}`", at, hint)
            else:
                hint = did_you_mean(key, allowed)
                if len(unknown) == 1 and len(missing) == 1:
                    hint = f"a {noun(schema)} needs `{missing[0]}`: rename `{key}:` to " \
                           f"`{missing[0]}:`"
                elif missing:
                    hint = (hint + "; " if hint else "") + "missing: " + ", ".join(
                        f"`{m}`" for m in missing)
                yield error("unknown-key", f"unknown key `{key}` in {noun(schema)}", at, hint)

    def _required(self, err: SchemaError, path: PathKey,
                  schema: dict[str, Any]) -> Iterator[Diagnostic]:
        missing = re.findall(r"'([^']+)' is a required property", err.message)
        for key in missing:
            if path == () and key in REQUIRED_SECTIONS:
                yield error("missing-section", f"the agreement has no `{key}` section",
                            self.loaded.locate(()), _SECTION_HINTS.get(
                                key, f"add `{key}:` to agreement.yaml"))
                continue
            value = err.instance if isinstance(err.instance, dict) else {}
            if path != () and any(k not in schema.get("properties", {}) for k in value):
                continue  # a misspelt key: reported once, as unknown, with the rename
            what = noun(schema)
            owner = _name(path)
            named = f"{what} `{owner}`" if owner != "value" and owner not in (
                "bands", "stages", "rules") else what
            yield error("missing-key", f"{named} has no `{key}`", self.loaded.locate(path),
                        wording.missing_hint(key, schema))

    def _type(self, err: SchemaError, path: PathKey,
              schema: dict[str, Any]) -> Iterator[Diagnostic]:
        expected = schema.get("type")
        value, name = err.instance, _name(path)
        expected_text = " or ".join(map(_article, expected)) if isinstance(expected, list) \
            else _article(str(expected))
        if name == "target" and expected == "object":
            expected_text = "`gte` (at least) or `lte` (at most) with a number"
        yield error("wrong-type", f"`{name}` must be {expected_text}, not {type_name(value)}",
                    self.loaded.locate(path), wording.type_hint(name, expected, value))

    def _enum(self, err: SchemaError, path: PathKey,
              schema: dict[str, Any]) -> Iterator[Diagnostic]:
        options = [_scalar(o) for o in schema.get("enum", [schema.get("const")])]
        value = err.instance
        at = self.loaded.locate(path)
        if "propertyNames" in err.schema_path:
            at = self.loaded.locate((*path, _scalar(value)), key=True)
        yield error("invalid-value",
                    f"`{_scalar(value)}` is not one of " + ", ".join(f"`{o}`" for o in options),
                    at, wording.choice_hint(value, options) or did_you_mean(
                        _scalar(value), options, list_known=False)
                    or f"write one of {', '.join(f'`{o}`' for o in options)}")

    _const = _enum

    def _pattern(self, err: SchemaError, path: PathKey,
                 schema: dict[str, Any]) -> Iterator[Diagnostic]:
        value, pattern = str(err.instance), str(schema.get("pattern"))
        at = self.loaded.locate(path)
        if "propertyNames" in err.schema_path:  # a mapping key, not a value
            at = self.loaded.locate((*path, value), key=True)
        name = _name(path)
        if pattern == DURATION_PATTERN:
            calendar = isinstance(self.value(path[:-1]), dict) and bool(
                self.value((*path[:-1], "calendar")))
            yield error("invalid-value", f"`{value}` is not a duration", at,
                        wording.duration_hint(value, calendar=calendar))
        elif pattern == IDENTIFIER_PATTERN:
            yield error("invalid-value", f"`{value}` is not a valid id", at,
                        wording.identifier_hint(value))
        elif pattern == FIELD_PATTERN and "," in value:
            yield error("invalid-value", f"`{name}` lists several fields in one text", at,
                        wording.list_hint(name, value))
        elif pattern == FIELD_PATTERN:
            yield error("invalid-value", f"`{value}` is not a valid field name", at,
                        wording.identifier_hint(value).replace("ids are", "field names are"))
        elif pattern == INTERVAL_PATTERN:
            yield error("invalid-value", f"`{value}` is not a time interval", at,
                        wording.interval_hint(value))
        elif pattern == DIGEST_PATTERN:
            yield error("invalid-value", f"`{value}` is not a digest", at,
                        "copy the digest `slaengine review status` prints")
        elif pattern == PUBLIC_KEY_PATTERN:
            yield error("invalid-value", f"`{value}` is not an OpenSSH public key", at,
                        "copy the one line of the `.pub` file, e.g. `ssh-ed25519 AAAA... name`")
        else:
            yield error("invalid-value", f"`{value}` is not written the way `{name}` expects",
                        at)

    def _format(self, err: SchemaError, path: PathKey,
                schema: dict[str, Any]) -> Iterator[Diagnostic]:
        kind = {"date": "date", "date-time": "date and time"}.get(
            str(schema.get("format")), str(schema.get("format")))
        hint = wording.date_hint(str(err.instance)) if kind == "date" else (
            "write it as YYYY-MM-DDTHH:MM:SS with the offset, e.g. `2026-11-20T10:00:00+01:00`")
        yield error("invalid-value", f"`{err.instance}` is not a valid {kind}",
                    self.loaded.locate(path), hint)

    def _limit(self, err: SchemaError, path: PathKey,
               schema: dict[str, Any]) -> Iterator[Diagnostic]:
        kind, name, value = str(err.validator), _name(path), err.instance
        at = self.loaded.locate(path)
        if kind in ("minProperties", "maxProperties") and (
                "field" in schema.get("properties", {}) or "score" in schema.get("properties", {})):
            if _comma_list(value) is None:
                yield _one_operator(schema, value, at)
            return
        limit = schema.get(kind)
        if not isinstance(limit, int | float):
            return
        if kind in ("minItems", "minLength", "minProperties") and limit == 1:
            yield error("invalid-value", f"`{name}` must not be empty", at,
                        f"give `{name}` at least one value, or remove it")
            return
        if name == "between" and kind in ("minItems", "maxItems"):
            yield error("invalid-value", "`between` takes two values: the low end and the "
                        "high end", at, "write both ends in brackets, e.g. `between: [50, 5000]`")
            return
        hint = _LIMIT_HINTS.get(name)
        if name in wording.FRACTION_KEYS and isinstance(value, int | float):
            hint = wording.fraction_hint(name, value) or hint
        yield error("invalid-value", f"`{name}` must be {_LIMITS[kind]} {limit:g}", at, hint)

    def _alternatives(self, err: SchemaError, path: PathKey,
                      schema: dict[str, Any]) -> Iterator[Diagnostic]:
        """Report the branch the author clearly meant; else say what the key takes."""
        value, name = err.instance, _name(path)
        keys = _exclusive_keys(schema)
        if keys and isinstance(value, dict):
            found = [k for k in keys if k in value]
            yield error("invalid-value",
                        f"a {noun(schema)} takes exactly one of " + ", ".join(
                            f"`{k}`" for k in keys) + "; found " + (
                            ", ".join(f"`{k}`" for k in found) or "none"),
                        self.loaded.locate(path),
                        "keep one of them" if found else f"add one of them, e.g. `{keys[0]}:`")
            return
        branches: dict[Any, list[SchemaError]] = defaultdict(list)
        for sub in err.context or []:
            branches[sub.relative_schema_path[0]].append(sub)
        meant = [errs for errs in branches.values()
                 if not any(e.validator in ("required", "type", "const")
                            and not e.relative_path for e in errs)]
        if isinstance(value, dict) and len(meant) == 1:
            for sub in meant[0]:
                yield from self.translate(sub)
            return
        at = self.loaded.locate(path)
        alternatives = [a for a in schema.get(str(err.validator), []) if isinstance(a, dict)]
        if _takes_condition(alternatives):
            yield _not_a_condition(name, value, at, alternatives)
            return
        types = {t for a in alternatives for t in _types(a)}
        if types <= {"integer", "number"} and types:
            whole = types == {"integer"}
            yield error("wrong-type", f"`{name}` must be {'a whole' if whole else 'a'} number, "
                        f"not {type_name(value)}", at, wording.type_hint(name, "number", value))
            return
        if "array" in types and not isinstance(value, list):
            branch = next((a for a in alternatives if "array" in _types(a)), {})
            items = branch.get("items", {})
            if isinstance(items, dict) and items.get("pattern") == FIELD_PATTERN:
                yield from self._pattern(_retarget(err, items), path, items)
                return
        if "array" in types and isinstance(value, list):
            for sub in next((errs for errs in branches.values()
                             if any(e.relative_path for e in errs)), []):
                yield from self.translate(sub)
            return
        subs = [s for errs in branches.values() for s in errs if not s.relative_path
                and s.validator not in ("type", "required")]
        if len(subs) == 1:
            yield from self.translate(subs[0])
            return
        wanted = " or ".join(sorted({_article(t) for t in types})) or "another value"
        yield error("invalid-value", f"`{name}` must be {wanted}, not {type_name(value)}", at)


def _retarget(err: SchemaError, schema: dict[str, Any]) -> SchemaError:
    copy = SchemaError(err.message, validator="pattern", instance=err.instance, schema=schema,
                       path=err.relative_path, schema_path=["pattern"])
    return copy


def _types(schema: dict[str, Any]) -> list[str]:
    kind = schema.get("type")
    if isinstance(kind, list):
        return [str(k) for k in kind]
    if kind is not None:
        return [str(kind)]
    if "const" in schema:
        return ["boolean"] if isinstance(schema["const"], bool) else ["string"]
    return []


def _takes_condition(alternatives: list[dict[str, Any]]) -> bool:
    nested = [n for a in alternatives for n in a.get("oneOf", []) if isinstance(n, dict)]
    refs = [str(a.get("$ref", "")) for a in [*alternatives, *nested]]
    return any(r.endswith("/" + name) for r in refs for name in _CONDITION_REFS)


def _not_a_condition(name: str, value: Any, at: Any,
                     alternatives: list[dict[str, Any]]) -> Diagnostic:
    if name == "count" and not isinstance(value, dict):
        return error("invalid-value",
                     "`count` must be `true`, or the condition a lead must meet to be counted",
                     at, "write `count: true`")
    if isinstance(value, dict):
        keys = ", ".join(f"`{k}`" for k in value) or "nothing"
        close = next((h for k in value if (h := did_you_mean(
            str(k), ["field", "score", "definition", "all", "any", "not"], list_known=False))),
            None)
        return error("invalid-condition",
                     f"not a condition: it has {keys}; a condition needs one of `field`, "
                     "`score`, `definition`, `all`, `any` or `not`", at,
                     close or "e.g. `{field: industry, in: [software]}` or `{definition: icp_fit}`")
    if isinstance(value, list):
        hint = ("remove the square brackets: `not` takes one condition" if len(value) == 1
                else "to exclude leads meeting any of them, write `not: {any: [...]}` around "
                     "the list")
        return error("invalid-condition", f"`{name}` takes one condition, not a list", at, hint)
    if isinstance(value, str) and re.fullmatch(r"[a-z][a-z0-9_]*", value):
        return error("invalid-condition", f"`{name}` must be a condition, not text", at,
                     f"to use the definition `{value}`, write `{name}: {{definition: {value}}}`")
    return error("invalid-condition", f"`{name}` must be a condition, not {type_name(value)}",
                 at, "e.g. `{field: industry, in: [software]}` or `{definition: icp_fit}`")


def _one_operator(schema: dict[str, Any], value: Any, at: Any) -> Diagnostic:
    subject = "score" if "score" in schema.get("properties", {}) else "field"
    ops = FIELD_OPERATORS if subject == "field" else SCORE_OPERATORS
    found = [k for k in (value if isinstance(value, dict) else {}) if k in ops]
    if len(found) > 1:
        return error("invalid-condition",
                     f"a {subject} test takes one operator; this one has "
                     + ", ".join(f"`{k}`" for k in found),
                     at, "write one test per operator and put them under `all:`")
    example = ("`{field: accepted_at, exists: true}`" if subject == "field"
               else "`{score: engagement, gte: 40}`")
    return error("invalid-condition", f"a {subject} test takes exactly one operator", at,
                 f"add what to compare with, e.g. {example}")


def _exclusive_keys(schema: dict[str, Any]) -> list[str]:
    """`oneOf: [{required: [a]}, {required: [b]}]`: exactly one of these keys."""
    alternatives = schema.get("oneOf", [])
    if alternatives and all(isinstance(a, dict) and list(a) == ["required"]
                            and len(a["required"]) == 1 for a in alternatives):
        return [a["required"][0] for a in alternatives]
    return []


def _article(text: str) -> str:
    return {"integer": "a whole number", "array": "a list",
            "object": "a group of `key: value` entries",
            "string": "text", "number": "a number", "boolean": "true or false",
            "null": "empty"}.get(text, text)
