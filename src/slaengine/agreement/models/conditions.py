"""The condition tree: field tests, score tests, definition references and all/any/not.

Each node is written as a small mapping whose keys say what it is, e.g.
`{field: employee_count, between: [50, 5000]}`, `{score: engagement, gte: 40}`,
`{definition: icp_fit}`, `{all: [...]}`, `{any: [...]}`, `{not: {...}}`.
The union is discriminated by which of those keys is present.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar

from pydantic import ConfigDict, Discriminator, Field, Tag, model_validator

from .common import DurationText, FieldName, Identifier, StrictModel

_T = TypeVar("_T")
Scalar = str | int | float | bool
# `[low, high]`: YAML has lists, not tuples, and strict mode would refuse a list as a tuple.
Pair = Annotated[list[_T], Field(min_length=2, max_length=2)]
Orderable = int | float | str
Number = int | float

FIELD_OPERATORS: tuple[str, ...] = (
    "eq", "ne", "gt", "gte", "lt", "lte", "in", "not_in", "between",
    "contains", "matches", "exists", "within", "older_than",
)
SCORE_OPERATORS: tuple[str, ...] = ("eq", "ne", "gt", "gte", "lt", "lte", "in", "not_in", "between")
ORDERING_OPERATORS = frozenset({"gt", "gte", "lt", "lte", "between"})
TIME_WINDOW_OPERATORS = frozenset({"within", "older_than"})

_ONE_OPERATOR: dict[str, Any] = {"minProperties": 2, "maxProperties": 2}


def _single_operator(model: Any, operators: tuple[str, ...], subject: str) -> Any:
    given = [op for op in operators if op in _python_names(model.model_fields_set)]
    if len(given) != 1:
        ops = ", ".join(operators)
        found = ", ".join(given) if given else "none"
        raise ValueError(f"a {subject} test takes exactly one operator ({ops}); found {found}")
    return model


def _python_names(names: set[str]) -> set[str]:
    return {n.rstrip("_") for n in names}


class FieldCondition(StrictModel):
    """`{field: F, OP: V}`: compare one lead field with a value."""

    model_config = ConfigDict(**StrictModel.model_config, json_schema_extra=_ONE_OPERATOR)

    field: FieldName
    eq: Scalar | None = None
    ne: Scalar | None = None
    gt: Orderable | None = None
    gte: Orderable | None = None
    lt: Orderable | None = None
    lte: Orderable | None = None
    in_: Annotated[list[Scalar], Field(min_length=1)] | None = Field(default=None, alias="in")
    not_in: Annotated[list[Scalar], Field(min_length=1)] | None = None
    between: Pair[Orderable] | None = None
    contains: Scalar | None = None
    matches: str | None = None
    exists: bool | None = None
    within: DurationText | None = None
    older_than: DurationText | None = None

    @model_validator(mode="after")
    def _one_operator(self) -> FieldCondition:
        return _single_operator(self, FIELD_OPERATORS, "field")  # type: ignore[no-any-return]

    @property
    def op(self) -> str:
        return _the_operator(self, FIELD_OPERATORS)

    @property
    def value(self) -> Any:
        return getattr(self, _attr(self.op))


class ScoreCondition(StrictModel):
    """`{score: S, OP: V}`: compare a score's value with a number."""

    model_config = ConfigDict(**StrictModel.model_config, json_schema_extra=_ONE_OPERATOR)

    score: Identifier
    eq: Number | None = None
    ne: Number | None = None
    gt: Number | None = None
    gte: Number | None = None
    lt: Number | None = None
    lte: Number | None = None
    in_: Annotated[list[Number], Field(min_length=1)] | None = Field(default=None, alias="in")
    not_in: Annotated[list[Number], Field(min_length=1)] | None = None
    between: Pair[Number] | None = None

    @model_validator(mode="after")
    def _one_operator(self) -> ScoreCondition:
        return _single_operator(self, SCORE_OPERATORS, "score")  # type: ignore[no-any-return]

    @property
    def op(self) -> str:
        return _the_operator(self, SCORE_OPERATORS)

    @property
    def value(self) -> Any:
        return getattr(self, _attr(self.op))


class DefinitionCondition(StrictModel):
    """`{definition: D}`: holds when definition D holds for the lead."""

    definition: Identifier


class AllCondition(StrictModel):
    """`{all: [...]}`: every condition holds."""

    all: Annotated[list[Condition], Field(min_length=1)]


class AnyCondition(StrictModel):
    """`{any: [...]}`: at least one condition holds."""

    any: Annotated[list[Condition], Field(min_length=1)]


class NotCondition(StrictModel):
    """`{not: {...}}`: the condition does not hold (two-valued: missing values make it true)."""

    not_: Condition = Field(alias="not")


ConditionKind = Literal["field", "score", "definition", "all", "any", "not"]
_KINDS: tuple[ConditionKind, ...] = ("field", "score", "definition", "all", "any", "not")
_KIND_OF_MODEL: dict[type, ConditionKind] = {
    FieldCondition: "field", ScoreCondition: "score", DefinitionCondition: "definition",
    AllCondition: "all", AnyCondition: "any", NotCondition: "not",
}


def condition_kind(value: Any) -> str | None:
    """Which kind of condition a raw mapping or a model is (the union's discriminator)."""
    if isinstance(value, dict):
        return next((k for k in _KINDS if k in value), None)
    return _KIND_OF_MODEL.get(type(value))


Condition = Annotated[
    Annotated[FieldCondition, Tag("field")]
    | Annotated[ScoreCondition, Tag("score")]
    | Annotated[DefinitionCondition, Tag("definition")]
    | Annotated[AllCondition, Tag("all")]
    | Annotated[AnyCondition, Tag("any")]
    | Annotated[NotCondition, Tag("not")],
    Discriminator(
        condition_kind,
        custom_error_type="condition_kind",
        custom_error_message="a condition needs one of the keys field, score, definition, "
                             "all, any or not",
    ),
]


def _attr(op: str) -> str:
    return "in_" if op == "in" else op


def _the_operator(model: Any, operators: tuple[str, ...]) -> str:
    names = _python_names(model.model_fields_set)
    return next(op for op in operators if op in names)


def children(condition: Condition) -> list[Condition]:
    """The direct sub-conditions of a combinator, or nothing for a leaf."""
    if isinstance(condition, AllCondition):
        return list(condition.all)
    if isinstance(condition, AnyCondition):
        return list(condition.any)
    if isinstance(condition, NotCondition):
        return [condition.not_]
    return []


def walk(condition: Condition, path: tuple[str | int, ...] = ()) -> list[
        tuple[Condition, tuple[str | int, ...]]]:
    """Every node of a condition tree with its path relative to the tree's root, parents first."""
    found: list[tuple[Condition, tuple[str | int, ...]]] = [(condition, path)]
    if isinstance(condition, AllCondition | AnyCondition):
        key = "all" if isinstance(condition, AllCondition) else "any"
        for i, child in enumerate(children(condition)):
            found.extend(walk(child, (*path, key, i)))
    elif isinstance(condition, NotCondition):
        found.extend(walk(condition.not_, (*path, "not")))
    return found


for _model in (AllCondition, AnyCondition, NotCondition):
    _model.model_rebuild()
