"""The operating cadence: the meetings both teams hold, and one record per meeting held."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import Field, PlainSerializer, PlainValidator, WithJsonSchema

from .common import Identifier, IsoDate, StrictModel, Text, parse_date

Cadence = Literal["week", "month", "quarter", "year"]


class Meeting(StrictModel):
    """A recurring meeting: who runs it, how often, and what it goes through."""

    title: Text
    every: Cadence
    owners: Annotated[list[Identifier], Field(min_length=1)]
    description: str | None = None
    agenda: list[Text] = []


def _done(value: Any) -> bool | date:
    # `true`, `false`, or the date it was done (which also means done).
    if isinstance(value, bool):
        return value
    try:
        return parse_date(value)
    except ValueError:
        raise ValueError("expected `true`, `false` or the date it was done, written as "
                         "YYYY-MM-DD") from None


# true, false or the date it was done
Done = Annotated[
    bool | date,
    PlainValidator(_done),
    PlainSerializer(lambda d: d if isinstance(d, bool) else d.isoformat(),
                    return_type=bool | str),
    WithJsonSchema({"anyOf": [{"type": "boolean"}, {"type": "string", "format": "date"}],
                    "description": "true, false, or the date it was done"}),
]


class MeetingAction(StrictModel):
    """Something a meeting decided one party will do, by when, and whether it is done."""

    owner: Identifier
    what: Text
    due: IsoDate | None = None
    done: Done = False


class MeetingRecord(StrictModel):
    """One meeting held: `agreement/meetings/<YYYY-MM-DD>-<meeting id>.yaml`."""

    meeting: Identifier
    date: IsoDate
    attendees: list[Text] = []
    # The feedback meeting's three questions (`converted`, `not_converted`, `next_30_days`)
    # and anything else worth keeping, each as text.
    notes: dict[Identifier, str] = {}
    actions: list[MeetingAction] = []
