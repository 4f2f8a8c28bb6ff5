"""Hints for hand-written values suggest something that is itself valid."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from slaengine.agreement import wording
from slaengine.agreement.models.common import Duration, Interval


def _suggested(hint: str) -> str:
    match = re.search(r"`([^`]+)`", hint)
    assert match, hint
    return match.group(1).split(": ")[-1].strip('"')


@pytest.mark.parametrize(("words", "number"), [
    ("forty", 40), ("six", 6), ("twenty-five", 25), ("one hundred", 100),
    ("two thousand five hundred", 2500), ("Thirty", 30)])
def test_numbers_in_words(words: str, number: int) -> None:
    assert wording.number_in_words(words) == number


@pytest.mark.parametrize("text", ["forty two apples", "", "hundred", "1,000"])
def test_not_numbers_in_words(text: str) -> None:
    assert wording.number_in_words(text) is None


@given(st.integers(min_value=1, max_value=999),
       st.sampled_from(["h", "hours", " hours", "hour", "d", " days", "w", "weeks", "m",
                        " minutes", ""]))
def test_duration_hints_suggest_a_valid_duration(amount: int, unit: str) -> None:
    hint = wording.duration_hint(f"{amount}{unit}")
    assert Duration.parse(_suggested(hint)).amount > 0


@given(st.integers(min_value=1, max_value=9), st.sampled_from([0.5, 0.25]),
       st.sampled_from(["h", "d", "w"]))
def test_fractional_durations_become_whole(amount: int, fraction: float, unit: str) -> None:
    hint = wording.duration_hint(f"{amount + fraction}{unit}")
    parsed = Duration.parse(_suggested(hint))
    assert parsed.seconds == (amount + fraction) * {"h": 3600, "d": 86400, "w": 604800}[unit]


@pytest.mark.parametrize(("text", "fixed"), [
    ("9.00-17.30", "09:00-17:30"), ("9am-5:30pm", "09:00-17:30"), ("17:30-09:00", "09:00-17:30"),
    ("9 - 17", "09:00-17:00")])
def test_interval_hints(text: str, fixed: str) -> None:
    suggested = _suggested(wording.interval_hint(text))
    assert suggested == fixed and str(Interval.parse(suggested)) == fixed


@pytest.mark.parametrize(("text", "fixed"), [
    ("18-05-2026", "2026-05-18"), ("May 18, 2026", "2026-05-18"), ("18 May 2026", "2026-05-18")])
def test_date_hints(text: str, fixed: str) -> None:
    assert _suggested(wording.date_hint(text)) == fixed


def test_percent_and_words_for_numbers() -> None:
    assert _suggested(wording.number_hint("warn_at", "75%")) == "0.75"
    assert _suggested(wording.number_hint("points", "30%")) == "30"
    assert _suggested(wording.number_hint("gte", "forty")) == "40"
    assert _suggested(wording.boolean_hint("exists", "yes")) == "true"
    assert _suggested(wording.boolean_hint("terminal", "No")) == "false"
    assert wording.list_hint("in", "software, fintech") == (
        "write the values in square brackets: `in: [software, fintech]`")
