"""Review records: one file per six-monthly review or amendment, signed by both leads."""

from __future__ import annotations

import datetime
from typing import Annotated, Literal

from pydantic import ConfigDict, StringConstraints, model_validator

from .common import Identifier, IsoDate, StrictModel, Text

DIGEST_PATTERN = r"^sha256:[0-9a-f]{64}$"
Digest = Annotated[str, StringConstraints(pattern=DIGEST_PATTERN)]


class Approval(StrictModel):
    """A party's lead signing off the reviewed content, with an SSH signature over it.

    Approvals written before signing existed say `on:` instead of `date:` and carry no
    signature; they still load, and count as unsigned.
    """

    model_config = ConfigDict(**StrictModel.model_config, json_schema_extra={
        "oneOf": [{"required": ["date"]}, {"required": ["on"]}]})

    party: Identifier
    name: Text
    date: IsoDate | None = None
    on: IsoDate | None = None
    signature: str | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _one_date(self) -> Approval:
        if (self.date is None) == (self.on is None):
            raise ValueError("an approval takes exactly one of `date` and `on`")
        return self

    @property
    def day(self) -> datetime.date:
        """The approval's date, whichever key holds it."""
        day = self.date or self.on
        assert day is not None  # the validator above
        return day


class Action(StrictModel):
    """Something a review decided one party will do."""

    owner: Identifier
    what: Text
    due: IsoDate | None = None
    done: bool = False


class Review(StrictModel):
    """One scheduled review or amendment of the agreement."""

    date: IsoDate
    version: Text
    kind: Literal["scheduled", "amendment"] = "scheduled"
    approvals: list[Approval] = []
    digest: Digest | None = None
    summary: str | None = None
    changes: list[str] = []
    actions: list[Action] = []
    next_review: IsoDate | None = None

    def approved_by(self) -> set[str]:
        return {a.party for a in self.approvals}
