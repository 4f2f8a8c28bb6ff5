"""Wall times in the agreement's timezone turned into instants, as Python's zoneinfo does.

A naive timestamp is read with `fold=0` (PEP 495): the first of two equal wall times in
autumn, forward by the gap in spring. ICU (DuckDB's time zone library) picks the other
instant in autumn, so the offsets are taken from zoneinfo itself: for each local year
1800-2400, the UTC offset at the start of the year and each wall time at which it changes
(found by probing `utcoffset` day by day, then to the second). The table is set as a DuckDB
variable; a wall time is then converted with a list lookup and a CASE. Wall times outside
those years use ICU with the autumn correction (`coercion.fold_zero`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache
from typing import Any, Final
from zoneinfo import ZoneInfo

import sqlglot.expressions as exp

from .coercion import DAY_US, fold_zero, icu_instant, offset_at
from .dialects import anon, lit
from .isotime import case, text

FIRST_YEAR: Final = 1800
LAST_YEAR: Final = 2400
ZONE_VARIABLE: Final = "slaengine_zone"
_EPOCH: Final = datetime(1970, 1, 1)
_FAR: Final = 2**62

Expr = exp.Expr


def _wall_us(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(microseconds=1)


def _offset_us(zone: ZoneInfo, wall: datetime) -> int:
    found = zone.utcoffset(wall)
    assert found is not None
    return found // timedelta(microseconds=1)


@cache
def zone_years(timezone: str) -> tuple[int, list[tuple[int, list[tuple[int, int]]]]]:
    """(most changes in a year, per year: the offset at its start and [(wall, offset), ...])."""
    zone = ZoneInfo(timezone)
    years = []
    most = 0
    for year in range(FIRST_YEAR, LAST_YEAR + 1):
        start = datetime(year, 1, 1)
        current = _offset_us(zone, start)
        first = current
        changes: list[tuple[int, int]] = []
        day = start
        while day.year == year:
            following = day + timedelta(days=1)
            offset = _offset_us(zone, following) if following.year == year else current
            if offset != current:
                low, high = day, following  # f(low) == current, f(high) != current
                while high - low > timedelta(seconds=1):
                    middle = low + (high - low) / 2
                    middle = middle.replace(microsecond=0)
                    if middle <= low:
                        middle = low + timedelta(seconds=1)
                    if _offset_us(zone, middle) == current:
                        low = middle
                    else:
                        high = middle
                changes.append((_wall_us(high), offset))
                current = offset
            day = following
        most = max(most, len(changes))
        years.append((first, changes))
    return most, years


def zone_value(timezone: str) -> list[dict[str, int]]:
    """The list the DuckDB variable holds: one struct per year (`o0`, `t1`, `o1`, ...)."""
    most, years = zone_years(timezone)
    out = []
    for first, changes in years:
        entry = {"o0": first}
        for k in range(1, max(most, 1) + 1):
            wall, offset = changes[k - 1] if k <= len(changes) else (_FAR, first)
            entry[f"t{k}"], entry[f"o{k}"] = wall, offset
        out.append(entry)
    return out


def set_zone(connection: Any, timezone: str) -> None:
    """Set the zone table on a DuckDB connection (as a variable the coercion reads)."""
    connection.execute(f"SET VARIABLE {ZONE_VARIABLE} = ?", [zone_value(timezone)])


class LocalTime:
    """Wall time (epoch microseconds as if UTC) to an instant, in one timezone: `entry`
    looks the wall time's year up in the zone table, `inside` applies it; outside the
    table's years, `icu`, `earlier_offset` and `outside` apply ICU's reading, corrected."""

    def __init__(self, timezone: str):
        self.timezone = timezone
        self.changes = max(zone_years(timezone)[0], 1)

    def entry(self, wall: Expr) -> Expr:
        year = anon("YEAR", anon("MAKE_TIMESTAMP", wall))
        inside = exp.Between(this=year, low=lit(FIRST_YEAR), high=lit(LAST_YEAR))
        return case((inside, anon("LIST_EXTRACT", anon("GETVARIABLE", text(ZONE_VARIABLE)),
                                  exp.Sub(this=year, expression=lit(FIRST_YEAR - 1)))))

    def inside(self, wall: Expr, entry: Expr) -> Expr:
        def get(name: str) -> Expr:
            return anon("STRUCT_EXTRACT", entry, text(name))

        pairs = [exp.If(this=exp.LT(this=wall, expression=get(f"t{k}")),
                        true=get(f"o{k - 1}")) for k in range(1, self.changes + 1)]
        offset = exp.Case(ifs=pairs, default=get(f"o{self.changes}"))
        return exp.Sub(this=wall, expression=exp.Paren(this=offset))

    def icu(self, wall: Expr) -> Expr:
        year = anon("YEAR", anon("MAKE_TIMESTAMP", wall))
        outside = exp.Not(this=exp.Between(this=year, low=lit(FIRST_YEAR), high=lit(LAST_YEAR)))
        return case((outside, icu_instant(wall, self.timezone)))

    def earlier_offset(self, later: Expr) -> Expr:
        return offset_at(exp.Sub(this=later, expression=lit(DAY_US)), self.timezone)

    def outside(self, wall: Expr, later: Expr, earlier: Expr) -> Expr:
        return fold_zero(wall, later, earlier, self.timezone)
