"""Tests of one field side by side under `all` that no value passes together."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from slaengine.agreement.checks.contradictions import _Possible

_BOUND = st.integers(-4, 4)
tests = st.one_of(
    st.tuples(st.sampled_from(["eq", "ne", "gt", "gte", "lt", "lte"]), _BOUND),
    st.tuples(st.sampled_from(["in", "not_in"]), st.lists(_BOUND, min_size=1, max_size=3)),
    st.tuples(st.just("between"), st.tuples(_BOUND, _BOUND).map(sorted)),
)


def passes(op: str, value: Any, x: Fraction) -> bool:
    if op == "between":
        return bool(value[0] <= x <= value[1])
    if op in ("in", "not_in"):
        return (x in value) == (op == "in")
    compare = {"eq": x == value, "ne": x != value, "gt": x > value, "gte": x >= value,
               "lt": x < value, "lte": x <= value}
    return bool(compare[op])


# Between two integer bounds there is always a half: these candidates find a value that
# passes every test whenever the real numbers hold one.
CANDIDATES = [Fraction(n, 2) for n in range(-12, 13)]


@settings(max_examples=400)
@given(st.lists(tests, min_size=1, max_size=4))
@example([("gte", 50), ("lt", 40)])
@example([("gt", 1), ("lt", 2)])  # only non-integers pass: not a contradiction for numbers
@example([("gte", 2), ("lte", 2), ("ne", 2)])
@example([("in", [1, 2]), ("not_in", [1]), ("gt", 1)])
def test_empty_exactly_when_no_number_passes(found: list[tuple[str, Any]]) -> None:
    possible = _Possible()
    for op, value in found:
        possible.narrow(op, value)
    somewhere = any(all(passes(op, value, x) for op, value in found) for x in CANDIDATES)
    assert possible.empty == (not somewhere)


def test_text_values() -> None:
    possible = _Possible()
    possible.narrow("in", ["NL", "BE"])
    possible.narrow("ne", "NL")
    assert not possible.empty
    possible.narrow("eq", "DE")
    assert possible.empty


def test_true_and_false() -> None:
    possible = _Possible()
    possible.narrow("eq", True)
    possible.narrow("eq", False)
    assert possible.empty
