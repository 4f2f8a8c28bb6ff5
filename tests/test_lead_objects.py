"""Leads handed over as Python objects: what `Agreement.evaluate` makes of them.

A caller's dict may hold enum members, lists it reuses, objects that refuse to be compared,
binary values; `now` may be the second of two equal wall-clock times. Each case here once
gave an answer that differed between the verdicts-first path and the full one, or from the
data, or raised.
"""

from __future__ import annotations

import datetime as dt
import enum
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

import slaengine
from slaengine.api import Agreement

NOW = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)
AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def agreement(tmp_path: Path, **sections: Any) -> Agreement:
    document = {"agreement": "Lead objects", "version": "1.0.0", "timezone": "Europe/Amsterdam",
                "parties": {"marketing": {"lead": {"name": "Dana Whitfield"}},
                            "sales": {"lead": {"name": "Raj Patel"}}},
                **sections}
    (tmp_path / "agreement.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    return slaengine.load_agreement(tmp_path)


def in_full(found: Agreement, lead: dict[str, Any], now: dt.datetime) -> Any:
    return next(found.engine.evaluate_many([lead], now, in_full=True))


def test_now_of_the_second_pass_through_a_dst_change(tmp_path: Path) -> None:
    """02:30 on 25 October happens twice in Amsterdam; equal as datetimes, an hour apart."""
    found = agreement(tmp_path, fields={"id": {"type": "string", "key": True},
                                        "last_activity_at": {"type": "datetime"}},
                      definitions={"active": {"when": {"field": "last_activity_at",
                                                       "within": "30d"}}})
    lead = {"id": "a", "last_activity_at": dt.datetime(2026, 10, 25, 1, 0, tzinfo=dt.UTC)}
    first = dt.datetime(2026, 10, 25, 2, 30, tzinfo=AMSTERDAM)  # 00:30 UTC
    second = first.replace(fold=1)  # 01:30 UTC
    assert first == second
    assert found.evaluate(lead, first).verdicts == {"active": False}
    decision = found.evaluate(lead, second)
    assert decision.now == dt.datetime(2026, 10, 25, 1, 30, tzinfo=dt.UTC)
    assert decision.verdicts == {"active": True} == in_full(found, lead, second).verdicts
    naive = dt.datetime(2026, 10, 25, 2, 30)  # read in the agreement's zone
    assert found.evaluate(lead, naive).verdicts == {"active": False}
    assert found.evaluate(lead, naive.replace(fold=1)).verdicts == {"active": True}
    run = found.engine.compiled.run  # the compiled agreement's own slot, the same way
    values = {"last_activity_at": lead["last_activity_at"]}
    assert run(values, first)[0] == {"active": False}
    assert run(values, second)[0] == {"active": True}


def tagged(tmp_path: Path) -> Agreement:
    return agreement(
        tmp_path,
        fields={"id": {"type": "string", "key": True}, "stage": {"type": "string"},
                "country": {"type": "string"}, "tags": {"type": "list"}},
        stage_field="stage",
        stages=[{"id": "lead", "owner": "marketing"},
                {"id": "mql", "owner": "marketing", "requires": "hot"}],
        definitions={"hot": {"when": {"field": "tags", "contains": "hot"}},
                     "nl": {"when": {"field": "country", "eq": "NL"}}},
        scores={"heat": {"rules": [{"when": {"field": "tags", "contains": "hot"},
                                    "points": 50}]}})


def test_a_list_changed_after_the_call_changes_nothing(tmp_path: Path) -> None:
    found = tagged(tmp_path)
    tags = ["hot"]
    lead = {"id": "a", "stage": "mql", "country": "NL", "tags": tags}
    want = in_full(found, dict(lead, tags=["hot"]), NOW).to_json()
    decision = found.evaluate(lead, NOW)
    tags.clear()  # the caller reuses its list before reading the decision
    assert decision.to_json() == want
    assert want["scores"] == {"heat": 50} and want["violations"] == []
    assert decision.values["tags"] == ["hot"]
    more = ["hot"]
    whole = in_full(found, {"id": "b", "tags": more}, NOW)
    more.append("cold")
    assert whole.values["tags"] == ["hot"]


class Country(str, enum.Enum):  # noqa: UP042 - the older idiom is the case
    NL = "NL"


class Tag(str, enum.Enum):  # noqa: UP042
    HOT = "hot"


def test_an_enum_member_reads_as_the_text_it_holds(tmp_path: Path) -> None:
    found = tagged(tmp_path)
    lead = {"id": "a", "country": Country.NL, "tags": [Tag.HOT]}
    for decision in (found.evaluate(lead, NOW), in_full(found, lead, NOW)):
        assert decision.verdicts == {"hot": True, "nl": True}
        assert decision.values["country"] == "NL" and type(decision.values["country"]) is str
        assert decision.errors == ()


class Ambiguous:
    """Like pandas' NA or a numpy array: comparing it gives a value with no truth."""

    def __eq__(self, other: object) -> Any:
        return self

    def __bool__(self) -> bool:
        raise TypeError("the truth value is ambiguous")

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return "<NA>"


@pytest.mark.parametrize("tags", [[Ambiguous(), "hot"], Ambiguous(), {"hot"}, [["hot"]]])
def test_list_items_that_cannot_be_compared_are_an_error(tmp_path: Path, tags: Any) -> None:
    found = tagged(tmp_path)
    lead = {"id": "a", "country": "NL", "tags": tags}
    early, whole = found.evaluate(lead, NOW), in_full(found, lead, NOW)
    for decision in (early, whole):
        assert decision.verdicts == {"hot": False, "nl": True}
        assert [(e.code, e.field) for e in decision.errors] == [("invalid-value", "tags")]
        assert decision.to_json()["scores"] == {"heat": 0}
    assert early.to_json() == whole.to_json()


def test_binary_text_is_shown_as_text(tmp_path: Path) -> None:
    found = tagged(tmp_path)
    decision = found.evaluate({"id": "a", "country": b"Acme"}, NOW)
    (error,) = decision.errors
    assert error.message == "`Acme` is binary data, not text (store the column as text)"
    (error,) = found.evaluate({"id": "a", "country": b"\xff\xfe"}, NOW).errors
    assert error.message.startswith("`2 bytes of binary data` is binary data")


def test_a_now_that_is_not_a_datetime_is_refused_on_every_call(tmp_path: Path) -> None:
    """Also as the first call (the slot of the last `now` starts empty, not as None) and
    after a datetime equal to it (numpy's time compares equal and has no `fold`)."""
    np = pytest.importorskip("numpy")  # a dev dependency (through pandas)
    found = tagged(tmp_path)
    lead = {"id": "a", "country": "NL"}
    with pytest.raises(TypeError, match="`now` must be a date and time"):
        found.evaluate(lead, None)  # type: ignore[arg-type]
    naive = dt.datetime(2026, 11, 20, 10, 0)
    assert found.evaluate(lead, naive).verdicts["nl"] is True
    stamp = np.datetime64("2026-11-20T10:00")
    assert stamp == naive
    with pytest.raises(TypeError, match="`now` must be a date and time"):
        found.evaluate(lead, stamp)
