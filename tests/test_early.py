"""The verdicts-only path (`evaluate/early.py`) against the full path, lead by lead.

`Agreement.evaluate` answers from the early function when a lead's values already have their
fields' types, and works the rest out from a copy of the lead when first read. Every answer
must be the one the full path (coerce every field, run the whole agreement) gives.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from slaengine.agreement.models.sections import FieldSpec
from slaengine.evaluate.coerce import Coercer
from slaengine.evaluate.evaluator import Engine, _Habit
from slaengine.evaluate.literals import compile_pattern, plain_text_test
from strategies import agreements
from test_properties import engine_for, instants, leads_for

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import peer  # type: ignore[import-not-found]

SETTINGS = settings(max_examples=80, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
AMSTERDAM = dt.timezone(dt.timedelta(hours=1))


def typed(kind: str, value: Any, draw: Any) -> Any:
    """`value` (as `leads_for` draws it, mostly text) as a typed reader (Parquet, a
    DataFrame, a caller's own dict) hands it over, when it can be read as `kind`."""
    coerced, problems = _COERCERS[kind]({"x": value})
    if problems or "x" not in coerced or coerced["x"] is None:
        return value
    typed_value = coerced["x"]
    if kind == "string":
        return draw(st.sampled_from([typed_value, f" {typed_value} ", f"{typed_value}\n"]))
    if kind == "datetime":
        return draw(st.sampled_from([typed_value, typed_value.astimezone(AMSTERDAM),
                                     typed_value.isoformat()]))
    if kind == "boolean":
        return draw(st.sampled_from([typed_value, "yes" if typed_value else "no"]))
    return typed_value


_COERCERS = {kind: Coercer({"x": FieldSpec(type=kind)}, dt.UTC)
             for kind in ("string", "integer", "number", "boolean", "date", "datetime", "list")}

odd_values = st.sampled_from([
    True, False, 0, 1, 2**53, -(2**53), 2**63, 3.0, 2.5, float("nan"), float("inf"), -0.0,
    "", "  ", " x ", "yes", "12", "1,200", [], ["a"], ("a",), {"a": 1},
    dt.date(2026, 11, 2), dt.datetime(2026, 11, 2, 10, 0),
    dt.datetime(2026, 11, 2, 10, 0, tzinfo=dt.UTC),
    dt.datetime(2026, 11, 2, 10, 0, tzinfo=AMSTERDAM), "2026-11-02T10:00:00Z",
    "2026-11-02 10:00", "2026-11-02",
])


def full_path(engine: Engine, lead: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
    values, errors = engine.coerce(lead)
    allowed = engine.allowed.check(values, lead) if engine.allowed else ()
    return engine.decide(values, tuple(errors), engine.instant(now), None, allowed).to_json()


def assert_same_as_full_path(engine: Engine, lead: dict[str, Any], now: dt.datetime) -> None:
    before = dict(lead)
    engine._habit = _Habit()  # reading each decision whole would switch the engine to whole
    decision = engine.evaluate(lead, now)
    verdicts = dict(decision.verdicts)
    lead.clear()  # a caller reusing its dict changes nothing in the decision made from it
    lead.update(dict.fromkeys(before))
    want = full_path(engine, before, now)
    assert verdicts == want["definitions"]
    assert decision.to_json() == want
    assert {name: v.matched for name, v in decision.definitions.items()} == want["definitions"]


@SETTINGS
@given(st.data())
def test_early_verdicts_are_the_full_paths(data: st.DataObject) -> None:
    agreement = data.draw(agreements())
    engine = engine_for(agreement)
    now = data.draw(instants)
    for _ in range(6):
        lead = data.draw(leads_for(agreement, now))
        kinds = {name: spec["type"] for name, spec in agreement["fields"].items()}
        lead = {key: typed(kinds[key], value, data.draw) for key, value in lead.items()}
        for key in data.draw(st.lists(st.sampled_from(sorted(lead) or ["x"]), max_size=2)):
            lead[key] = data.draw(odd_values)
        assert_same_as_full_path(engine, lead, now)


def test_typed_leads_take_the_early_path() -> None:
    """Not a vacuous comparison: the peer benchmark's typed leads are answered early."""
    engine = engine_for(peer.AGREEMENT)
    instant = engine.instant(peer.NOW)
    assert engine.compiled.bind_early is not None
    early = engine.compiled.bind_early(instant)
    leads = list(peer.generate(300, seed=3))
    assert all(early(lead) is not None for lead in leads)
    assert sum(early(lead)["mql"] for lead in leads) == sum(  # type: ignore[index]
        peer.hand_written_mql(lead, peer.NOW) for lead in leads) > 0
    for lead in leads[:60]:
        assert_same_as_full_path(engine, dict(lead), peer.NOW)
        # Text with spaces around it, and booleans written as words, read as coercion reads them.
        assert_same_as_full_path(engine, {**lead, "country": f" {lead['country']} "}, peer.NOW)
        assert_same_as_full_path(engine, {**lead, "marketing_consent": "yes"}, peer.NOW)
    # A value that is not yet its type (text for a number) takes the full path.
    assert early({**leads[0], "employee_count": "120"}) is None


def test_a_score_that_can_leave_the_float_range_is_worked_out_first() -> None:
    """No verdicts for a record whose score is not a number, even when the definition that
    would read the score fails before reaching it."""
    agreement = {
        "agreement": "Overflow", "version": "1.0.0", "timezone": "Europe/Amsterdam",
        "parties": {"marketing": {"lead": {"name": "Dana"}}, "sales": {"lead": {"name": "Raj"}}},
        "fields": {"id": {"type": "string", "key": True}, "visits": {"type": "number"},
                   "country": {"type": "string"}},
        "scores": {"heat": {"rules": [{"field": "visits", "points_each": 1e300}]}},
        "definitions": {"hot": {"when": {"all": [{"field": "country", "eq": "NL"},
                                                 {"score": "heat", "gte": 10}]}}},
    }
    engine = engine_for(agreement)
    now = dt.datetime(2026, 11, 20, tzinfo=dt.UTC)
    decision = engine.evaluate({"id": "a", "visits": 1e10, "country": "BE"}, now)
    assert not decision.verdicts
    assert [e.code for e in decision.errors] == ["score-not-a-number"]
    assert engine.evaluate({"id": "b", "visits": 3, "country": "NL"}, now).verdicts == {
        "hot": True}


texts = st.text(alphabet="ab.\n $^", max_size=6)


@given(st.text(alphabet="ab.", max_size=3), st.sampled_from(["", "^", "\\A"]),
       st.sampled_from(["", "$", "\\Z"]), texts)
@example("a", "", "$", "xa\n")
@example("a", "^", "$", "a\n")
@example("", "^", "$", "\n")
def test_a_plain_text_pattern_is_the_same_test_as_the_regex(
        body: str, start: str, end: str, text: str) -> None:
    pattern = start + re.escape(body) + end
    plain = plain_text_test(pattern)
    assert plain is not None
    test, found = plain
    answer = {"equals": text in found, "startswith": text.startswith(found),
              "endswith": text.endswith(found), "contains": found[0] in text}[test]
    assert answer == (re.search(pattern, text) is not None)
    assert answer == bool(compile_pattern(pattern).search(text))


def test_patterns_that_are_not_plain_text_keep_the_regex() -> None:
    for pattern in ["(?i)abc", "a.c", "(?m)^a", "a+", "[ab]", "a|b", "\\bword", "(?s)a$b"]:
        assert plain_text_test(pattern) is None, pattern


def test_a_caller_reading_whole_decisions_gets_them_made_whole() -> None:
    """Only speed depends on it: when nearly every decision is read in full, making the
    verdicts first is work done twice, so the engine makes the next ones whole at once."""
    engine = engine_for(peer.AGREEMENT)
    leads = list(peer.generate(400, seed=5))
    made_whole = []
    for lead in leads[:200]:
        decision = engine.evaluate(lead, peer.NOW)
        made_whole.append(decision._parts is not None)
        decision.stage  # noqa: B018 - reads the decision whole
    assert not any(made_whole[:_Habit.LOOK_EVERY]) and all(made_whole[_Habit.LOOK_EVERY:])
    engine = engine_for(peer.AGREEMENT)
    verdicts_only = [engine.evaluate(lead, peer.NOW) for lead in leads]
    assert all(d._parts is None for d in verdicts_only)
    streamed = engine_for(peer.AGREEMENT).evaluate_many(leads, peer.NOW)
    whole = []
    for decision in streamed:
        whole.append(decision._parts is not None)
        decision.to_json()
    assert sum(whole) == len(leads) - _Habit.LOOK_EVERY


def test_threads_sharing_an_engine_get_the_answers_of_one_thread() -> None:
    """The engine's shared state (the bound `now`, the read-whole habit) only speeds things
    up: decisions made on four threads at once, some read whole and some not, at two
    different `now`s, are the decisions of one thread."""
    engine = engine_for(peer.AGREEMENT)
    leads = list(peer.generate(600, seed=9))
    nows = [peer.NOW, peer.NOW + dt.timedelta(days=20)]
    want = [[full_path(engine, lead, now) for lead in leads] for now in nows]

    def work(worker: int) -> list[list[dict[str, Any]]]:
        got = []
        for round_ in range(2):
            now = nows[(worker + round_) % 2]
            decisions = [engine.evaluate(lead, now) for lead in leads]
            if worker % 2:  # read whole as they come, or only the verdicts first
                got.append([d.to_json() for d in decisions])
            else:
                verdicts = [dict(d.verdicts) for d in decisions]
                records = [d.to_json() for d in decisions]
                assert [r["definitions"] for r in records] == verdicts
                got.append(records)
        return got

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(work, range(4)))
    for worker, got in enumerate(results):
        for round_, records in enumerate(got):
            assert records == want[(worker + round_) % 2]
