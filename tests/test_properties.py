"""Properties of evaluation that hold for every agreement and every lead.

The generated fast path and the explainer are two implementations of the same
semantics; on random valid agreements (`strategies.agreements()`) and random leads
they must agree on every definition, score and band.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slaengine.agreement.models import AgreementSpec
from slaengine.evaluate.evaluator import Engine
from strategies import (
    Data,
    Env,
    agreements,
    date_texts,
    datetime_texts,
    field_test,
    numbers,
    small_ints,
    texts,
)
from strategies import conditions as condition_strategy

DIGEST = "sha256:" + "0" * 64
SETTINGS = settings(max_examples=80, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


_DURATION = re.compile(r"^([0-9]+)(s|m|h|d|w)$")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def literals_by_field(node: Any, found: dict[str, list[Any]] | None = None) -> dict[str, list[Any]]:
    """Every value the agreement's conditions compare each field with: the boundaries."""
    found = {} if found is None else found
    if isinstance(node, dict):
        if "field" in node and isinstance(node["field"], str):
            for op, value in node.items():
                if op == "field":
                    continue
                values = value if isinstance(value, list) else [value]
                found.setdefault(node["field"], []).extend(
                    v for v in values if isinstance(v, str | int | float))
        for value in node.values():
            literals_by_field(value, found)
    elif isinstance(node, list):
        for value in node:
            literals_by_field(value, found)
    return found


def _near(kind: str, literal: Any, now: dt.datetime) -> list[Any]:
    """A literal and its neighbours, in the forms a lead file may hold them."""
    if kind in ("integer", "number") and isinstance(literal, int | float) and not isinstance(
            literal, bool):
        step = 1 if kind == "integer" else 0.5
        return [literal, literal - step, literal + step]
    if kind == "datetime" and isinstance(literal, str):
        match = _DURATION.match(literal)
        if match:  # a window: its exact start, and a second either side
            start = now - dt.timedelta(seconds=int(match[1]) * _SECONDS[match[2]])
            return [(start + dt.timedelta(seconds=s)).isoformat() for s in (-1, 0, 1)]
        return [literal]
    return [literal]


def _value(kind: str, enum: list[Any] | None, literals: list[Any],
           now: dt.datetime) -> st.SearchStrategy[Any]:
    near = [v for lit in literals for v in _near(kind, lit, now)]
    if kind == "integer":
        near = [int(v) for v in near if isinstance(v, int | float) and float(v).is_integer()]
    boundary = [st.sampled_from(near)] * 3 if near else []
    if enum is not None:
        return st.one_of(*boundary, st.sampled_from(enum), texts(max_size=6))
    return st.one_of(*boundary, {
        "string": texts(),
        "integer": st.one_of(small_ints, small_ints.map(lambda n: f"{n * 1000:,}")),
        "number": st.one_of(numbers, st.sampled_from(["1,200.5", "n/a"])),
        "boolean": st.one_of(st.booleans(), st.sampled_from(["yes", "no", "maybe"])),
        "date": date_texts,
        "datetime": st.one_of(datetime_texts(), date_texts),
        "list": st.lists(st.one_of(texts(max_size=6), small_ints, *boundary), max_size=3),
    }[kind])


def leads_for(agreement: Data, now: dt.datetime) -> st.SearchStrategy[dict[str, Any]]:
    """Leads with each declared field missing, null, on or next to a boundary the agreement
    uses, or any value its type may take."""
    literals = literals_by_field(agreement)
    missing = object()
    values = {name: st.one_of(st.just(missing), st.none(),
                              *[_value(spec["type"], spec.get("enum"), literals.get(name, []),
                                       now)] * 6)
              for name, spec in agreement["fields"].items()}
    # Most fields set (a sparse lead decides little), some absent, some null.
    return st.fixed_dictionaries(values).map(
        lambda lead: {k: v for k, v in lead.items() if v is not missing})


instants = st.datetimes(min_value=dt.datetime(2025, 6, 1), max_value=dt.datetime(2027, 6, 1),
                        timezones=st.just(dt.UTC))


def engine_for(data: Data) -> Engine:
    return Engine(AgreementSpec.model_validate(data, strict=True), DIGEST)


def assert_paths_agree(engine: Engine, lead: dict[str, Any], now: dt.datetime) -> None:
    decision = engine.evaluate(lead, now)
    run = engine.interpreter.run(decision.values, decision.now)
    for name, verdict in decision.verdicts.items():
        assert verdict == run.definition(name), name
        assert verdict == decision.explanation(name).matched, name
    for name, value in decision.score_values.items():
        assert value == run.score(name), name
        assert decision.band_values[name] == run.band(name), name


@SETTINGS
@given(st.data())
def test_fast_path_and_explainer_agree(data: st.DataObject) -> None:
    agreement = data.draw(agreements())
    engine = engine_for(agreement)
    now = data.draw(instants)
    for _ in range(8):
        assert_paths_agree(engine, data.draw(leads_for(agreement, now)), now)


def _score_not_a_number(decision: Any) -> bool:
    """A score overflowed (absurd drawn points): the record is an error with no verdicts."""
    return any(e.code == "score-not-a-number" for e in decision.errors)


def _with_probes(agreement: Data, probes: dict[str, Any]) -> Data:
    return {**agreement, "definitions": {**agreement.get("definitions", {}), **probes}}


def _env(agreement: Data) -> Env:
    fields = {n: (s["type"], s.get("enum")) for n, s in agreement["fields"].items()}
    return Env(fields, list(agreement.get("definitions", {})), list(agreement.get("scores", {})))


@SETTINGS
@given(st.data())
def test_double_negation_and_singleton_groups_change_nothing(data: st.DataObject) -> None:
    agreement = data.draw(agreements())
    now = data.draw(instants)
    c = data.draw(condition_strategy(_env(agreement)))
    probes = {"p_c": {"when": c}, "p_notnot": {"when": {"not": {"not": c}}},
              "p_all": {"when": {"all": [c]}}, "p_any": {"when": {"any": [c]}},
              "p_not": {"when": {"not": c}}}
    engine = engine_for(_with_probes(agreement, probes))
    for _ in range(8):
        decision = engine.evaluate(data.draw(leads_for(agreement, now)), now)
        if _score_not_a_number(decision):
            continue
        v = decision.verdicts
        assert v["p_notnot"] == v["p_all"] == v["p_any"] == v["p_c"]
        assert v["p_not"] is (not v["p_c"])
        assert decision.explanation("p_notnot").matched == v["p_c"]


@SETTINGS
@given(st.data())
def test_a_missing_value_fails_every_test_but_exists_false(data: st.DataObject) -> None:
    agreement = data.draw(agreements())
    env = _env(agreement)
    test = data.draw(st.composite(lambda draw: field_test(draw, env))())
    probes = {"p_test": {"when": test}, "p_not": {"when": {"not": test}}}
    engine = engine_for(_with_probes(agreement, probes))
    now = data.draw(instants)
    lead = data.draw(leads_for(agreement, now))
    lead[test["field"]] = data.draw(st.sampled_from([None, "", "   "]))
    decision = engine.evaluate(lead, now)
    if _score_not_a_number(decision):
        return
    expected = test.get("exists") is False
    assert decision.verdicts["p_test"] is expected
    assert decision.verdicts["p_not"] is (not expected)
    result = decision.explanation("p_test")
    assert result.matched is expected
    assert result.missing is ("exists" not in test)


@SETTINGS
@given(st.data())
def test_evaluation_is_deterministic_and_never_raises(data: st.DataObject) -> None:
    agreement = data.draw(agreements())
    engine = engine_for(agreement)
    now = data.draw(instants)
    leads = data.draw(st.lists(leads_for(agreement, now), max_size=6))
    # Compared as the bytes `evaluate` writes: a score may overflow to NaN on absurd inputs,
    # and NaN is unequal to itself while its JSON (null) is not.
    first = [orjson.dumps(d.to_json()) for d in engine.evaluate_many(leads, now)]
    second = [orjson.dumps(engine.evaluate(lead, now).to_json()) for lead in leads]
    assert first == second
    assert len(first) == len(leads)
