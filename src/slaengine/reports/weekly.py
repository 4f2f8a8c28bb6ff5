"""The `check` report: what both team leads act on each week, built in one pass over decisions.

`build_check(engine, decisions, now, limit=None)` reads `Decision`s (from
`engine.evaluate_many`) once and keeps only the leads it reports: breached and at-risk
clocks, stage violations, leads due to recycle, guarantee credits and record errors. With a
`limit`, each list keeps its first `limit` entries in report order (and the total), so memory
is bounded by the report, not by the file; without one every entry is kept. Pure: no I/O.

`CheckReport.to_json()` is the `check --format json` document. Its keys are stable:

```
{"agreement": {"name", "version", "digest", "timezone"},
 "now": ISO 8601 in UTC,
 "leads": records read, "errors": records with errors, "unreadable": how many of those,
 "service_levels": {name: {                 # agreement order
     "title", "owner",
     "within",                               # in words: "24 hours", "2 business days"
     "counts": {status: n},                  # all six statuses; unreadable records not counted
     "attainment": float | null,             # met / (met + breached); null when both are 0
     "breached": [{"id", "due_at", "late_s", "stopped", "stopped_at", "escalate_to"}],
     "at_risk": [{"id", "due_at", "remaining_s"}]}},
 "violations": {code: [{"id", "stage", "message"}]},
 "recycle": [{"id", "stage", "to", "reason", "source", "message"}],
 "credits": [{"id", "reason", "source", "message"}],
 "record_errors": [{"row", "id", "message"}]}  # "row" only when known
```

`breached` is oldest due first, `at_risk` soonest due first (input order breaks ties);
violation codes come most frequent first, their leads in input order, as do `recycle`,
`credits` and `record_errors`. Times are ISO 8601 in UTC (`2026-11-20T09:00:00Z`);
`late_s` and `remaining_s` are business seconds on the service level's calendar. `breached`
includes clocks still running past their due time (`stopped: false`).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final, Literal

from ..agreement.describe import allowance_text
from ..evaluate.clocks import STATUSES, aware_utc, iso_utc, remaining_and_late
from ..evaluate.coerce import error_text, jsonable
from ..evaluate.decision import Decision
from ..evaluate.evaluator import Engine
from .quality import ColumnQuality

__all__ = ["FAIL_ON", "AtRisk", "Breach", "CheckBuilder", "CheckReport", "CreditItem", "ErrorItem",
           "FailOn", "LevelReport", "OwnerGroup", "RecycleItem", "ViolationGroup", "ViolationItem",
           "build_check", "business_time_text"]

FailOn = Literal["breached", "at-risk", "never"]
FAIL_ON: Final = ("breached", "at-risk", "never")


def business_time_text(seconds: float) -> str:
    """Business time in hours and minutes, to the nearest minute: `27 h 30 min`, `45 min`,
    `3 h`; `under 1 min` for a few seconds and `0 min` for none."""
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    minutes = int(seconds / 60 + 0.5)
    if minutes == 0:
        return "0 min" if seconds == 0 else f"{sign}under 1 min"
    hours, minutes = divmod(minutes, 60)
    if hours == 0:
        return f"{sign}{minutes} min"
    return f"{sign}{hours:,} h" + (f" {minutes} min" if minutes else "")


# ---------------------------------------------------------------- report entries

@dataclass(frozen=True, slots=True)
class Breach:
    """A breached clock: due `due_at`, `late_s` business seconds past it, stopped or open."""

    id: Any
    due_at: datetime
    late_s: int | float
    stopped_at: datetime | None
    escalate_to: str | None

    @property
    def stopped(self) -> bool:
        return self.stopped_at is not None

    def to_json(self) -> dict[str, Any]:
        return {"id": jsonable(self.id), "due_at": iso_utc(self.due_at.timestamp()),
                "late_s": self.late_s, "stopped": self.stopped,
                "stopped_at": (iso_utc(self.stopped_at.timestamp())
                               if self.stopped_at is not None else None),
                "escalate_to": self.escalate_to}


@dataclass(frozen=True, slots=True)
class AtRisk:
    """A running clock past its warning point: `remaining_s` business seconds left."""

    id: Any
    due_at: datetime
    remaining_s: int | float

    def to_json(self) -> dict[str, Any]:
        return {"id": jsonable(self.id), "due_at": iso_utc(self.due_at.timestamp()),
                "remaining_s": self.remaining_s}


@dataclass(frozen=True, slots=True)
class ViolationItem:
    id: Any
    stage: str | None
    message: str

    def to_json(self) -> dict[str, Any]:
        return {"id": jsonable(self.id), "stage": self.stage, "message": self.message}


@dataclass(frozen=True, slots=True)
class ViolationGroup:
    """Every lead with one violation code: `count` in all, `leads` (the first ones, or all)."""

    code: str
    count: int
    leads: tuple[ViolationItem, ...]

    @property
    def more(self) -> int:
        return self.count - len(self.leads)


@dataclass(frozen=True, slots=True)
class RecycleItem:
    id: Any
    stage: str | None
    to: str
    reason: str
    source: str
    message: str

    def to_json(self) -> dict[str, Any]:
        return {"id": jsonable(self.id), "stage": self.stage, "to": self.to,
                "reason": self.reason, "source": self.source, "message": self.message}


@dataclass(frozen=True, slots=True)
class CreditItem:
    id: Any
    reason: str
    source: str
    message: str

    def to_json(self) -> dict[str, Any]:
        return {"id": jsonable(self.id), "reason": self.reason, "source": self.source,
                "message": self.message}


@dataclass(frozen=True, slots=True)
class ErrorItem:
    """One error of one record: the row (line of a JSON Lines file, data row of a CSV) if known."""

    row: int | None
    id: Any
    message: str

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"row": self.row} if self.row is not None else {}
        doc.update(id=jsonable(self.id), message=self.message)
        return doc


@dataclass(frozen=True, slots=True)
class LevelReport:
    """One service level: its counts, attainment, and breached and at-risk leads."""

    name: str
    title: str
    owner: str
    within: str
    escalate_to: str | None
    counts: dict[str, int]
    breached: tuple[Breach, ...]   # oldest due first
    at_risk: tuple[AtRisk, ...]    # soonest due first
    worst_breach: Breach | None    # the most business time late
    worst_at_risk: AtRisk | None   # the least business time left

    @property
    def breached_total(self) -> int:
        return self.counts["breached"]

    @property
    def at_risk_total(self) -> int:
        return self.counts["at_risk"]

    @property
    def attainment(self) -> float | None:
        """met / (met + breached); None when neither happened (no value, not zero)."""
        met, breached = self.counts["met"], self.counts["breached"]
        return met / (met + breached) if met + breached else None

    def to_json(self) -> dict[str, Any]:
        return {"title": self.title, "owner": self.owner, "within": self.within,
                "counts": dict(self.counts), "attainment": self.attainment,
                "breached": [b.to_json() for b in self.breached],
                "at_risk": [a.to_json() for a in self.at_risk]}


@dataclass(frozen=True, slots=True)
class OwnerGroup:
    """The service levels one party owns, in the agreement's order."""

    party: str
    title: str
    lead: str | None
    levels: tuple[LevelReport, ...]


@dataclass(frozen=True)
class CheckReport:
    """Everything `slaengine check` reports; `to_json()` is its JSON form (see the module)."""

    name: str
    version: str
    digest: str
    timezone: str
    now: datetime                      # aware, UTC
    leads: int
    with_errors: int
    unreadable: int
    service_levels: dict[str, LevelReport]   # agreement order
    owners: tuple[OwnerGroup, ...]           # party order, then agreement order
    violations: tuple[ViolationGroup, ...]   # most frequent first
    recycle: tuple[RecycleItem, ...]
    recycle_total: int
    credits: tuple[CreditItem, ...]
    credits_total: int
    record_errors: tuple[ErrorItem, ...]
    record_errors_total: int
    limit: int | None
    quality: tuple[ColumnQuality, ...] = ()  # the data-quality section, per column

    @property
    def breached(self) -> int:
        return sum(level.breached_total for level in self.service_levels.values())

    @property
    def at_risk(self) -> int:
        return sum(level.at_risk_total for level in self.service_levels.values())

    def failed(self, fail_on: FailOn) -> bool:
        """Whether `check --fail-on` exits 1."""
        if fail_on == "never":
            return False
        if fail_on == "at-risk":
            return self.breached + self.at_risk > 0
        return self.breached > 0

    def to_json(self) -> dict[str, Any]:
        return {
            "agreement": {"name": self.name, "version": self.version, "digest": self.digest,
                          "timezone": self.timezone},
            "now": iso_utc(self.now.timestamp()),
            "leads": self.leads,
            "errors": self.with_errors,
            "unreadable": self.unreadable,
            "service_levels": {name: level.to_json()
                               for name, level in self.service_levels.items()},
            "violations": {group.code: [item.to_json() for item in group.leads]
                           for group in self.violations},
            "recycle": [item.to_json() for item in self.recycle],
            "credits": [item.to_json() for item in self.credits],
            "record_errors": [item.to_json() for item in self.record_errors],
            "data_quality": [column.to_json() for column in self.quality],
        }


# ---------------------------------------------------------------- building

class _Ranked:
    """The entries with the smallest keys, in key order; all of them when `limit` is None.

    A bounded max-heap keeps the `limit` best seen so far: one comparison per entry.
    """

    def __init__(self, limit: int | None):
        self.limit = limit
        self.items: list[tuple[float, int, Any]] = []  # unbounded: (key, seq, item)
        self.heap: list[tuple[float, int, Any]] = []   # bounded: (-key, -seq, item)

    def add(self, key: float, seq: int, item: Any) -> None:
        if self.limit is None:
            self.items.append((key, seq, item))
        elif len(self.heap) < self.limit:
            heapq.heappush(self.heap, (-key, -seq, item))
        elif self.heap and (-key, -seq) > self.heap[0][:2]:
            heapq.heapreplace(self.heap, (-key, -seq, item))

    def sorted(self) -> list[Any]:
        if self.limit is None:
            return [item for _, _, item in sorted(self.items, key=lambda e: (e[0], e[1]))]
        return [item for _, _, item in sorted(self.heap, key=lambda e: (-e[0], -e[1]))]


class _First:
    """The first `limit` entries (all when None) and how many there were."""

    def __init__(self, limit: int | None):
        self.limit = limit
        self.items: list[Any] = []
        self.total = 0

    def add(self, item: Any) -> None:
        self.total += 1
        if self.limit is None or len(self.items) < self.limit:
            self.items.append(item)


@dataclass
class _Level:
    counts: dict[str, int]
    breached: _Ranked
    at_risk: _Ranked
    worst_breach: tuple[float, Any] | None = None  # (late, raw entry)
    worst_at_risk: tuple[float, Any] | None = None  # (remaining, raw entry)


@dataclass
class CheckBuilder:
    """Builds a `CheckReport` one decision at a time (what `build_check` does for a stream)."""

    engine: Engine
    now: datetime
    limit: int | None = None
    leads: int = 0
    with_errors: int = 0
    unreadable: int = 0
    _levels: dict[str, _Level] = field(init=False)
    _violations: dict[str, _First] = field(init=False)
    _recycle: _First = field(init=False)
    _credits: _First = field(init=False)
    _errors: _First = field(init=False)

    def __post_init__(self) -> None:
        if self.limit is not None and self.limit < 0:
            raise ValueError("limit must be 0 or more")
        self._names = self.engine.clocks.names
        self._levels = {name: _Level(dict.fromkeys(STATUSES, 0), _Ranked(self.limit),
                                     _Ranked(self.limit)) for name in self._names}
        self._level_list = [self._levels[name] for name in self._names]
        self._violations = {}
        self._recycle, self._credits, self._errors = (
            _First(self.limit), _First(self.limit), _First(self.limit))

    def add(self, decision: Decision, row: int | None = None) -> None:
        """Count one decision and keep what the report shows of it."""
        seq = self.leads
        self.leads += 1
        lead_id = decision.id
        if decision.errors:
            self.with_errors += 1
            if not decision.evaluated:
                self.unreadable += 1
            for error in decision.errors:
                self._errors.add(ErrorItem(row, lead_id, error_text(error.to_json())))
        for level, reading in zip(self._level_list, decision.readings, strict=False):
            status = reading.status
            level.counts[status] += 1
            if status == "breached":
                late = remaining_and_late(reading)[1] or 0
                due = reading.due if reading.due is not None else 0.0
                entry = (lead_id, due, late, reading.stop)
                level.breached.add(due, seq, entry)
                if level.worst_breach is None or late > level.worst_breach[0]:
                    level.worst_breach = (late, entry)
            elif status == "at_risk":
                left = remaining_and_late(reading)[0] or 0
                due = reading.due if reading.due is not None else 0.0
                warning = (lead_id, due, left)
                level.at_risk.add(due, seq, warning)
                if level.worst_at_risk is None or left < level.worst_at_risk[0]:
                    level.worst_at_risk = (left, warning)
        for violation in decision.violations:
            group = self._violations.get(violation.code)
            if group is None:
                group = self._violations[violation.code] = _First(self.limit)
            group.add(ViolationItem(lead_id, violation.stage, violation.message))
        recycle = decision.recycle
        if recycle is not None:
            self._recycle.add(RecycleItem(lead_id, decision.stage, recycle.to, recycle.reason,
                                          recycle.source, recycle.message))
        credit = decision.credit
        if credit is not None:
            self._credits.add(CreditItem(lead_id, credit.reason, credit.source, credit.message))

    def report(self) -> CheckReport:
        spec = self.engine.spec
        levels: dict[str, LevelReport] = {}
        for name in self._names:
            level, model = self._levels[name], spec.service_levels[name]
            escalate_to = model.on_breach.escalate_to if model.on_breach else None

            def breach(entry: Any, escalate_to: str | None = escalate_to) -> Breach:
                lead_id, due, late, stop = entry
                return Breach(lead_id, datetime.fromtimestamp(due, UTC), late, aware_utc(stop),
                              escalate_to)

            def at_risk(entry: Any) -> AtRisk:
                lead_id, due, left = entry
                return AtRisk(lead_id, datetime.fromtimestamp(due, UTC), left)

            levels[name] = LevelReport(
                name, model.title, model.owner,
                allowance_text(model.within, model.calendar is not None).removeprefix("within "),
                escalate_to,
                dict(level.counts),
                tuple(map(breach, level.breached.sorted())),
                tuple(map(at_risk, level.at_risk.sorted())),
                breach(level.worst_breach[1]) if level.worst_breach else None,
                at_risk(level.worst_at_risk[1]) if level.worst_at_risk else None)
        groups = sorted(self._violations.items(), key=lambda kv: (-kv[1].total, kv[0]))
        return CheckReport(
            name=spec.agreement, version=self.engine.version, digest=self.engine.digest,
            timezone=spec.timezone, now=self.engine.instant(self.now),
            leads=self.leads, with_errors=self.with_errors, unreadable=self.unreadable,
            service_levels=levels, owners=tuple(_owner_groups(self.engine, levels)),
            violations=tuple(ViolationGroup(code, group.total, tuple(group.items))
                             for code, group in groups),
            recycle=tuple(self._recycle.items), recycle_total=self._recycle.total,
            credits=tuple(self._credits.items), credits_total=self._credits.total,
            record_errors=tuple(self._errors.items), record_errors_total=self._errors.total,
            limit=self.limit)


def _owner_groups(engine: Engine, levels: dict[str, LevelReport]) -> Iterator[OwnerGroup]:
    """Service levels by owner: the agreement's parties in order, then any other owner."""
    parties = engine.spec.parties
    owners = list(parties)
    owners += [lv.owner for lv in levels.values() if lv.owner not in owners]
    for owner in dict.fromkeys(owners):
        own = tuple(lv for lv in levels.values() if lv.owner == owner)
        if not own:
            continue
        party = parties.get(owner)
        title = (party.title if party and party.title else owner.replace("_", " ").capitalize())
        yield OwnerGroup(owner, title, party.lead.name if party else None, own)


def build_check(engine: Engine, decisions: Iterable[Decision | tuple[int | None, Decision]],
                now: datetime, limit: int | None = None) -> CheckReport:
    """The check report over a stream of decisions (or `(row, decision)` pairs), read once.

    `limit` caps every list of leads at its first `limit` entries in report order (counts
    stay complete); None keeps them all.
    """
    builder = CheckBuilder(engine, now, limit)
    add = builder.add
    for item in decisions:
        if isinstance(item, tuple) and not isinstance(item, Decision):
            add(item[1], item[0])
        else:
            add(item)
    return builder.report()

