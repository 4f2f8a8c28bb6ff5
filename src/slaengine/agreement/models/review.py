"""Review records: one file per six-monthly review or amendment, signed by both leads."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import StringConstraints

from .common import Identifier, IsoDate, StrictModel, Text

DIGEST_PATTERN = r"^sha256:[0-9a-f]{64}$"
Digest = Annotated[str, StringConstraints(pattern=DIGEST_PATTERN)]


class Approval(StrictModel):
    """A party's lead signing off the reviewed content."""

    party: Identifier
    name: Text
    on: IsoDate
    note: str | None = None


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
