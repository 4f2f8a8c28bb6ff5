"""What the KPI query needs of an agreement: the columns it reads from the decisions result.

`KpiPlan.extra_columns` is handed to `compile_decisions(extra_columns=...)`: each KPI's
`where`, numerator and denominator and each calibration's `converted` (compiled there by the
decisions' own condition compiler, so the missing-value rule is the one everything else
follows), the fields the KPIs place in time, group by or measure, and, for the embedded
engine, whether a number was read as a fraction. Service-level statuses and bands are
decision columns already (`inputs`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..agreement.models import AgreementSpec
from ..agreement.models.conditions import Condition
from ..agreement.models.sections import DurationMeasure, Kpi
from ..evaluate.compiler import KPI_EXTRAS
from .calendar import CalendarTable
from .decisions import CompiledSql
from .kpitables import DATES, INSTANTS

__all__ = ["KpiPlan", "Lookups", "duration_of", "value_field"]


def duration_of(kpi: Kpi) -> DurationMeasure | None:
    return kpi.median_duration or (kpi.percentile.duration if kpi.percentile else None)


def value_field(kpi: Kpi) -> str | None:
    """The numeric field a sum, average, median or percentile measures."""
    if kpi.percentile is not None:
        return kpi.percentile.field
    return kpi.sum or kpi.average or kpi.median


class KpiPlan:
    """What the KPI query needs of an agreement: its input columns, by what they hold."""

    def __init__(self, spec: AgreementSpec):
        self.spec = spec
        self.conditions: dict[tuple[str, str], str] = {}  # (KPI_EXTRAS section, name) -> column
        for section, (kind, _) in KPI_EXTRAS.items():
            for name in getattr(spec, kind):
                if self.find(section, name) is not None:
                    self.conditions[(section, name)] = f"_kpi_c{len(self.conditions)}"
        fields: list[str] = []
        self.times: list[str] = []  # fields placed in time: cohorts, durations' ends
        self.floats: list[str] = []  # number fields whose fraction-ness the embedded engine reads
        for kpi in spec.kpis.values():
            duration = duration_of(kpi)
            ends = [duration.from_, duration.to] if duration else []
            self.times += [f for f in (kpi.cohort, *ends) if f]
            measured = value_field(kpi)
            fields += [f for f in (kpi.group_by, measured) if f]
            self.floats += [f for f in (kpi.group_by, measured)
                            if f and spec.fields[f].type == "number"]
        self.times += [s.calibration.cohort for s in spec.scores.values()
                       if s.calibration is not None and s.calibration.cohort]
        self.times = list(dict.fromkeys(self.times))
        self.floats = list(dict.fromkeys(self.floats))
        self.fields = {f: f"_kpi_f{i}" for i, f in enumerate(dict.fromkeys(self.times + fields))}
        self.float_cols = {f: f"_kpi_x{i}" for i, f in enumerate(self.floats)}

    @property
    def empty(self) -> bool:
        return not self.spec.kpis and not any(s.calibration for s in self.spec.scores.values())

    def find(self, section: str, name: str) -> Condition | None:
        """A KPI's or score's condition, as the Python compiler's `KPI_EXTRAS` locates it."""
        kind, path = KPI_EXTRAS[section]
        node: Any = getattr(self.spec, kind)[name]
        for attribute in path:
            node = getattr(node, attribute, None) if node is not None else None
        return node  # type: ignore[no-any-return]

    def condition(self, section: str, name: str) -> Condition:
        found = self.find(section, name)
        assert found is not None
        return found

    def extra_columns(self, floats: Mapping[str, str] | None = None
                      ) -> dict[str, Condition | str]:
        """`compile_decisions(extra_columns=...)`; `floats` maps number fields to the
        relation's columns saying whether the value was read as a fraction (embedded)."""
        out: dict[str, Condition | str] = {
            column: self.condition(*key) for key, column in self.conditions.items()}
        out.update({column: field for field, column in self.fields.items()})
        if floats is not None:
            out.update({self.float_cols[f]: floats[f] for f in self.floats})
        return out

    def inputs(self, compiled: CompiledSql) -> list[str]:
        """The decision columns the KPI query reads."""
        levels = {k.attainment for k in self.spec.kpis.values() if k.attainment}
        scores = {n for n, s in self.spec.scores.items() if s.calibration is not None}
        wanted = [c.name for c in compiled.columns
                  if (c.kind == "sl_status" and c.subject in levels)
                  or (c.kind == "band" and c.subject in scores)]
        extras = [c.name for c in compiled.columns if c.kind == "extra"]
        return [*extras, *wanted]

    def period_kinds(self) -> set[str]:
        return {k.period for k in self.spec.kpis.values() if k.period and k.cohort}

    def date_fields(self) -> list[str]:
        return [f for f in self.times if self.spec.fields[f].type == "date"]

    def instant_cohorts(self) -> list[str]:
        """Datetime fields whose period keys some KPI reads."""
        return list(dict.fromkeys(k.cohort for k in self.spec.kpis.values()
                                  if k.period and k.cohort
                                  and self.spec.fields[k.cohort].type == "datetime"))

    def calendar_durations(self) -> list[DurationMeasure]:
        found = [duration_of(k) for k in self.spec.kpis.values()]
        return [d for d in found if d is not None and d.calendar is not None]

    def calendar_names(self) -> list[str]:
        return list(dict.fromkeys(str(d.calendar) for d in self.calendar_durations()))

    def needs_lookups(self) -> bool:
        """Whether the query joins the `kpitables` tables (periods or date fields)."""
        return bool(self.period_kinds() or self.date_fields())


@dataclass(frozen=True)
class Lookups:
    """The lookup tables the query joins: period keys and, per calendar, its `_days` table."""

    instants: str
    dates: str
    calendars: Mapping[str, tuple[str, CalendarTable]]

    @classmethod
    def named(cls, prefix: str, calendars: Mapping[str, tuple[str, CalendarTable]]) -> Lookups:
        return cls(f"{prefix}{INSTANTS}", f"{prefix}{DATES}", calendars)
