"""Service-level clocks in decisions: each status agrees with the times it reports, the
explainer agrees on `applies_when`, and the JSON record agrees with the typed object."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import slaengine
from slaengine.evaluate.clocks import STATUSES
from slaengine.evaluate.decision import Decision
from slaengine.evaluate.leads import read_leads

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime.fromisoformat("2026-11-20T10:00:00+01:00")
AGREEMENT = slaengine.load_agreement(ROOT / "agreement")
ENGINE = AGREEMENT.engine
DECISIONS = list(AGREEMENT.evaluate_many(read_leads(ROOT / "examples" / "leads.jsonl"), NOW))


def test_every_lead_gets_every_clock_and_the_example_exercises_every_status() -> None:
    seen: Counter[str] = Counter()
    for decision in DECISIONS:
        if not decision.evaluated:
            continue
        assert list(decision.service_levels) == list(ENGINE.spec.service_levels)
        seen.update(level.status for level in decision.service_levels.values())
    assert set(seen) == set(STATUSES), seen


def assert_consistent(decision: Decision, name: str, now: datetime) -> None:
    """The clock's status follows from its own times, recomputed on the same calendar."""
    level_spec = ENGINE.spec.service_levels[name]
    calendar = ENGINE.clocks.by_name[name].calendar
    clock = decision.service_levels[name]
    values = decision.values
    applies = (level_spec.applies_when is None
               or ENGINE.interpreter.run(values, now).holds(level_spec.applies_when))
    if not applies:
        assert clock.status == "not_applicable"
        return
    if values.get(level_spec.start) is None:
        assert clock.status == "not_started"
        return
    assert clock.started_at == values[level_spec.start]
    assert clock.due_at is not None and clock.due_at >= clock.started_at
    stops = [values[f] for f in level_spec.stop
             if values.get(f) is not None and values[f] >= clock.started_at]
    assert clock.stopped_at == (min(stops) if stops else None)
    end = clock.stopped_at or now
    elapsed = calendar.elapsed_between(clock.started_at, end)
    assert clock.elapsed == timedelta(seconds=elapsed)
    allowance = calendar.elapsed_between(clock.started_at, clock.due_at)
    if clock.status == "met":
        assert clock.stopped_at is not None and elapsed <= allowance
    elif clock.status == "breached":
        assert elapsed > allowance and clock.late == timedelta(seconds=elapsed - allowance)
        assert clock.escalate_to == (level_spec.on_breach.escalate_to
                                     if level_spec.on_breach else None)
    else:
        assert clock.status in ("running", "at_risk") and clock.stopped_at is None
        assert elapsed <= allowance
        assert clock.remaining == timedelta(seconds=allowance - elapsed)
        risky = level_spec.warn_at is not None and elapsed >= level_spec.warn_at * allowance
        assert (clock.status == "at_risk") == risky
        assert clock.escalate_to is None


@pytest.mark.parametrize("name", list(ENGINE.spec.service_levels))
def test_each_status_agrees_with_the_times_it_reports(name: str) -> None:
    for decision in DECISIONS:
        if decision.evaluated:
            assert_consistent(decision, name, NOW)


WEEKS = timedelta(days=21)
START = datetime.fromisoformat("2026-10-19T00:00:00+02:00")  # the end of summer time inside
moments = st.integers(0, int(WEEKS.total_seconds()) // 60).map(
    lambda minutes: START + timedelta(minutes=minutes))


@settings(max_examples=300, deadline=None)
@given(start=moments, touch=st.none() | moments, accepted=st.none() | moments,
       rejected=st.none() | moments, now=moments)
def test_clocks_on_random_times_agree_with_their_calendar(
        start: datetime, touch: datetime | None, accepted: datetime | None,
        rejected: datetime | None, now: datetime) -> None:
    lead = {"lead_id": "X", "employee_count": 300, "email_domain": "acme.example",
            "demo_requested": True, "stage": "mql", "mql_at": start.isoformat(),
            **{name: moment.isoformat() for name, moment in
               (("first_touch_at", touch), ("accepted_at", accepted), ("rejected_at", rejected))
               if moment is not None}}
    decision = AGREEMENT.evaluate(lead, now)
    for name in ("mql_first_touch", "mql_accept_or_reject"):
        assert_consistent(decision, name, now)
    ignored = {f for f, moment in (("first_touch_at", touch), ("accepted_at", accepted),
                                    ("rejected_at", rejected)) if moment and moment < start}
    flagged = {v.message.split("`")[1] for v in decision.violations
               if v.code == "clock-stop-before-start"}
    assert flagged == ignored


def test_the_record_says_what_the_typed_decision_says() -> None:
    records = list(ENGINE.records(read_leads(ROOT / "examples" / "leads.jsonl"), NOW))
    assert len(records) == len(DECISIONS)
    for decision, record in zip(DECISIONS, records, strict=True):
        assert orjson.loads(orjson.dumps(decision.to_json())) == orjson.loads(orjson.dumps(record))
        for name, clock in decision.service_levels.items():
            entry = record["service_levels"][name]
            assert entry["status"] == clock.status
            assert entry["elapsed_s"] == clock.elapsed_s
            if clock.due_at is not None:
                assert datetime.fromisoformat(entry["due_at"].replace("Z", "+00:00")) == clock.due_at
            else:
                assert entry["due_at"] is None
            late = clock.late
            assert entry["late_s"] == (None if late is None else late.total_seconds())


def test_a_stop_before_the_start_is_a_violation_and_the_clock_keeps_running() -> None:
    lead = {"lead_id": "X", "employee_count": 300, "email_domain": "acme.example",
            "demo_requested": True, "stage": "mql",
            "mql_at": "2026-11-19T10:00:00+01:00", "first_touch_at": "2026-11-18T10:00:00+01:00"}
    decision = AGREEMENT.evaluate(lead, NOW)
    clock = decision.service_levels["mql_first_touch"]
    assert clock.status in ("running", "at_risk") and clock.ignored_stops == ("first_touch_at",)
    assert [v.code for v in decision.violations] == ["clock-stop-before-start"]
    # A stop at or after the start stops it.
    fixed = AGREEMENT.evaluate({**lead, "first_touch_at": "2026-11-19T10:00:00+01:00"}, NOW)
    assert fixed.service_levels["mql_first_touch"].status == "met"
    assert fixed.service_levels["mql_first_touch"].elapsed_s == 0
    assert not fixed.violations


def test_a_clock_the_calendar_cannot_run_is_flagged_not_a_crash() -> None:
    lead = {"lead_id": "X", "employee_count": 300, "email_domain": "acme.example",
            "demo_requested": True, "stage": "mql", "mql_at": "1850-01-01T10:00:00+01:00"}
    decision = AGREEMENT.evaluate(lead, NOW)
    assert decision.service_levels["mql_first_touch"].status == "not_started"
    assert "clock-out-of-range" in [v.code for v in decision.violations]
