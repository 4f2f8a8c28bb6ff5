"""Agreement tests: example leads with the outcome both teams expect (`slaengine test`)."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field

from .common import DurationText, Identifier, IsoDateTime, StrictModel, Text

ServiceLevelStatus = Literal[
    "not_applicable", "not_started", "running", "at_risk", "met", "breached"]


class ClockExpectation(StrictModel):
    """A service level's expected clock: its status, and optionally when it is due and how
    much business time has elapsed."""

    status: ServiceLevelStatus
    due_at: IsoDateTime | None = None
    elapsed: DurationText | None = None


class Expectation(StrictModel):
    """What evaluating the case's lead must give; only what is written is checked."""

    definitions: dict[Identifier, bool] = {}
    scores: dict[Identifier, int | float] = {}
    bands: dict[Identifier, Identifier | None] = {}
    stage: Identifier | None = None
    owner: Identifier | None = None
    violations: list[str] | None = None
    service_levels: dict[Identifier, ServiceLevelStatus | ClockExpectation] = {}
    recycle: Identifier | Literal[False] | None = None  # the stage it must return to, or false
    credit: bool | None = None         # whether the lead earns sales a guarantee credit


class TestCase(StrictModel):
    """One example lead and its expected outcome."""

    __test__: ClassVar[bool] = False  # a data model, not a pytest test class

    name: Text
    description: str | None = None
    now: IsoDateTime | None = None
    lead: dict[str, Any]
    expect: Expectation


class TestSuite(StrictModel):
    """One file of agreement tests; `now` is the default evaluation time of its cases."""

    __test__: ClassVar[bool] = False

    title: str | None = None
    now: IsoDateTime | None = None
    cases: Annotated[list[TestCase], Field(min_length=1)]
