"""Service-level clocks: for each lead and each service level, where its clock stands.

A clock starts at the `start` timestamp and stops at the earliest `stop` timestamp present
that is not before the start (one before the start is bad data: it is reported, not counted).
Time is counted on the service level's calendar (`calendars.BusinessCalendar`), so elapsed
time and the due time always agree, holidays and DST changes included.

`Clocks.read` is the hot path: it returns one plain tuple per service level (a `Reading`),
from which both the JSON record and the public `ClockReading` object are made.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any, Final, NamedTuple

from ..agreement.models import AgreementSpec
from .calendars import BusinessCalendar
from .violations import Violation

STATUSES: Final = ("not_applicable", "not_started", "running", "at_risk", "met", "breached")
IDLE: Final = STATUSES[:2]  # the statuses of a clock that is not running: no due time


class Reading(NamedTuple):
    """Where one clock stands, in epoch seconds; the compact form the hot path returns."""

    status: str
    start: float | None = None
    stop: float | None = None
    due: float | None = None
    elapsed: float | None = None
    allowance: float | None = None
    ignored_stops: tuple[str, ...] = ()
    out_of_range: bool = False  # the calendar cannot count that far back or ahead


NOT_APPLICABLE: Final = Reading("not_applicable")
NOT_STARTED: Final = Reading("not_started")
OUT_OF_RANGE: Final = Reading("not_started", out_of_range=True)


def seconds_value(seconds: float) -> int | float:
    """Seconds to the microsecond, the resolution of the timestamps they are measured
    between (summing floats leaves noise past it); whole seconds as an integer, as JSON
    readers expect. The SQL engine counts exact microseconds and gives the same value."""
    rounded = round(seconds, 6)
    whole = int(rounded)
    return whole if whole == rounded else rounded


def epoch_seconds(value: Any, tz: tzinfo) -> float | None:
    """A coerced timestamp as epoch seconds; a date is midnight in `tz`; anything else None."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, date):
        return datetime.combine(value, time(0), tz).timestamp()
    return None


def iso_utc(epoch: float) -> str:
    """`2026-11-20T09:00:00Z`."""
    return datetime.fromtimestamp(epoch, UTC).isoformat().replace("+00:00", "Z")


def remaining_and_late(reading: Reading) -> tuple[int | float | None, int | float | None]:
    """Business seconds left before the due time, and how late a breach is."""
    if reading.elapsed is None or reading.allowance is None:
        return None, None
    left = reading.allowance - reading.elapsed
    return (seconds_value(left), None) if left >= 0 else (0, seconds_value(-left))


_EMPTY_JSON: Final = {
    status: {"status": status, "due_at": None, "elapsed_s": None, "remaining_s": None,
             "late_s": None}
    for status in IDLE}


def reading_json(reading: Reading) -> dict[str, Any]:
    """The `service_levels` entry of an `evaluate` record (DESIGN.md's public contract,
    extended with the time left and how late a breach is)."""
    if reading.due is None or reading.elapsed is None:
        return dict(_EMPTY_JSON[reading.status])
    remaining, late = remaining_and_late(reading)
    return {"status": reading.status, "due_at": iso_utc(reading.due),
            "elapsed_s": seconds_value(reading.elapsed), "remaining_s": remaining,
            "late_s": late}


def aware_utc(epoch: float | None) -> datetime | None:
    """Epoch seconds as an aware UTC datetime; None stays None."""
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC)


@dataclass(frozen=True, slots=True)
class ClockReading:
    """One service level's clock for one lead: `decision.service_levels[name]`."""

    service_level: str
    reading: Reading
    owner: str
    escalation: str | None  # who hears of a breach

    @property
    def status(self) -> str:
        """not_applicable, not_started, running, at_risk, met or breached."""
        return self.reading.status

    @property
    def started_at(self) -> datetime | None:
        return aware_utc(self.reading.start)

    @property
    def stopped_at(self) -> datetime | None:
        return aware_utc(self.reading.stop)

    @property
    def due_at(self) -> datetime | None:
        """The instant the allowance runs out."""
        return aware_utc(self.reading.due)

    @property
    def elapsed_s(self) -> int | float | None:
        return None if self.reading.elapsed is None else seconds_value(self.reading.elapsed)

    @property
    def elapsed(self) -> timedelta | None:
        """Business time from start to stop, or to `now` while the clock runs."""
        return None if self.reading.elapsed is None else timedelta(seconds=self.reading.elapsed)

    @property
    def remaining(self) -> timedelta | None:
        left = remaining_and_late(self.reading)[0]
        return None if left is None else timedelta(seconds=left)

    @property
    def late(self) -> timedelta | None:
        """How much business time past the allowance a breach is."""
        late = remaining_and_late(self.reading)[1]
        return None if late is None else timedelta(seconds=late)

    @property
    def escalate_to(self) -> str | None:
        return self.escalation if self.reading.status == "breached" else None

    @property
    def ignored_stops(self) -> tuple[str, ...]:
        """Stop fields set before the start: bad data, reported as a violation."""
        return self.reading.ignored_stops

    def to_json(self) -> dict[str, Any]:
        return reading_json(self.reading)


@dataclass(frozen=True, slots=True)
class _Clock:
    """One service level, worked out once per agreement."""

    name: str
    applies: int | None        # index into the compiled extra conditions; None: always applies
    start: str
    stops: tuple[str, ...]
    calendar: BusinessCalendar
    seconds: float | None      # the allowance in business seconds, or
    business_days: int | None  # in business days (due at the close of the last one)
    warn_at: float | None
    owner: str
    escalate_to: str | None


class Clocks:
    """Every service level of an agreement, ready to read lead after lead."""

    def __init__(self, spec: AgreementSpec, extra_paths: Sequence[tuple[str, str]],
                 tz: tzinfo):
        self.tz = tz
        applies = {name: i for i, (section, name) in enumerate(extra_paths)
                   if section == "service_levels"}
        calendars: dict[str | None, BusinessCalendar] = {None: BusinessCalendar.always_open()}
        for name, calendar in spec.calendars.items():
            calendars[name] = BusinessCalendar.from_model(calendar, spec.timezone)
        self.clocks = tuple(
            _Clock(name, applies.get(name), level.start, tuple(level.stop),
                   calendars[level.calendar],
                   None if level.within.is_business_days else float(level.within.seconds),
                   level.within.amount if level.within.is_business_days else None,
                   level.warn_at, level.owner,
                   level.on_breach.escalate_to if level.on_breach else None)
            for name, level in spec.service_levels.items())
        self.names = tuple(clock.name for clock in self.clocks)
        self.by_name = {clock.name: clock for clock in self.clocks}

    def instant(self, value: Any) -> float | None:
        """A coerced timestamp as epoch seconds; a date is midnight in the agreement's zone."""
        return epoch_seconds(value, self.tz)

    def read(self, values: Mapping[str, Any], extras: tuple[bool, ...],
             now: float) -> tuple[Reading, ...]:
        """Every clock of one coerced lead as of `now` (epoch seconds)."""
        return self.read_flagged(values, extras, now)[0]

    def read_flagged(self, values: Mapping[str, Any], extras: tuple[bool, ...],
                     now: float) -> tuple[tuple[Reading, ...], bool]:
        """`read`, and whether any clock has bad data to report (see `stop_violations`):
        the hot path then skips looking for it in the common case of none."""
        readings = []
        flagged = False
        get = values.get
        for clock in self.clocks:
            if clock.applies is not None and not extras[clock.applies]:
                readings.append(NOT_APPLICABLE)
                continue
            raw = get(clock.start)
            if raw is None:
                readings.append(NOT_STARTED)
                continue
            start = raw.timestamp() if raw.__class__ is datetime else self.instant(raw)
            if start is None:
                readings.append(NOT_STARTED)
                continue
            try:
                reading = self._run(clock, values, start, now)
            except ValueError:  # a start or due time before 1900 or after 2200
                reading = OUT_OF_RANGE
            flagged = flagged or reading.out_of_range or bool(reading.ignored_stops)
            readings.append(reading)
        return tuple(readings), flagged

    def _run(self, clock: _Clock, values: Mapping[str, Any], start: float,
             now: float) -> Reading:
        calendar = clock.calendar
        if clock.seconds is not None:
            allowance = clock.seconds
            due = calendar.add_seconds(start, allowance)
        else:
            assert clock.business_days is not None
            due = calendar.add_business_days(start, clock.business_days)
            allowance = calendar.elapsed(start, due)
        stop: float | None = None
        ignored: list[str] = []
        for field in clock.stops:
            at = self.instant(values.get(field))
            if at is None:
                continue
            if at < start:
                ignored.append(field)
            elif stop is None or at < stop:
                stop = at
        if stop is not None:
            elapsed = calendar.elapsed(start, stop)
            status = "met" if elapsed <= allowance else "breached"
        else:
            elapsed = calendar.elapsed(start, now)
            if elapsed > allowance:
                status = "breached"
            elif clock.warn_at is not None and elapsed >= clock.warn_at * allowance:
                status = "at_risk"
            else:
                status = "running"
        return Reading(status, start, stop, due, elapsed, allowance, tuple(ignored))

    def stop_violations(self, name: str, reading: Reading,
                        stage: str | None) -> Iterator[Violation]:
        """Stop timestamps earlier than the start: flagged, never counted; and clocks the
        calendar cannot run."""
        clock = self.by_name[name]
        if reading.out_of_range:
            yield Violation("clock-out-of-range",
                            f"the `{name}` clock cannot run: `{clock.start}` or its due time "
                            "falls outside the years 1900-2200 the calendar covers", stage)
        for field in reading.ignored_stops:
            yield Violation("clock-stop-before-start",
                            f"`{field}` is before `{clock.start}`, so it does not stop the "
                            f"`{name}` clock", stage)

    def reading(self, name: str, reading: Reading) -> ClockReading:
        """The public object of one clock's reading."""
        clock = self.by_name[name]
        return ClockReading(name, reading, clock.owner, clock.escalate_to)
