"""The monthly report's planning section: what `slaengine plan` computes, in the report's words.

The measured stage-to-stage conversion (over mature cohorts, with the leads behind each rate
and its 95% Wilson interval) always; the leads needed at each stage when the report is given
`--customers N`; and the MQL volume KPI's target either compared with the MQLs needed, or,
without a customer target, read forward into the customers it would yield. Returned as plain
parts (a sentence, or a table as headers and rows) that the report's section builder lays out.
"""

from __future__ import annotations

from ..kpis.planning import Plan, yield_of
from .plan import HEADERS, rows

Part = str | tuple[list[str], list[list[str]]]


def _volume(result: Plan, customers: int | None) -> str | None:
    v = result.volume
    if v is None:
        return None
    ids = [s.stage for s in result.stages]
    stage = result.stages[ids.index(v.stage)].title
    gaps = [s.title for s in result.stages[ids.index(v.stage):-1] if not s.cohort_leads]
    per = f" a {v.period}" if v.period else ""
    commits = f"{v.title}: at least {v.target:,.0f} leads entering {stage}{per}"
    unknown = (f"the conversion from {gaps[0] if gaps else stage} could not be measured (no "
               f"lead entered it at least {result.maturity.words()} ago)")
    if customers is not None:
        if v.needed is None:
            return (f"{commits}; the number needed for {customers:,} customers{per} is "
                    f"unknown: {unknown}.")
        gap = v.needed - v.target
        verdict = "enough" if gap <= 0 else f"short by {gap:,.0f}"
        return f"{commits}; {customers:,} customers{per} need {v.needed:,}: {verdict}."
    made = yield_of(result, v.stage, v.target)
    if made is None:
        return f"{commits}; the customers they would yield are unknown: {unknown}."
    return (f"{commits}; at the measured rates they would yield about {made:,.1f} customers{per}. "
            f"Give the report `--customers N` to see the leads needed at each stage for a "
            f"target.")


def planning_parts(result: Plan, customers: int | None, now_text: str) -> list[Part]:
    """The section's parts for `result` (computed for `customers`, or for 1 when None)."""
    intro = (f"conversion between consecutive stages, measured over the leads that entered a "
             f"stage at least {result.maturity.words()} before {now_text} (younger leads have "
             f"not had the time to convert); the interval is 95% (Wilson), wider the fewer "
             f"leads behind the rate. The same numbers as `slaengine plan`.")
    if customers is not None:
        parts: list[Part] = [f"The leads needed at each stage to win {customers:,} customers, "
                             f"from the {intro}", (HEADERS, rows(result))]
    else:
        parts = [f"The {intro}", ([h for h in HEADERS if h != "Needed"],
                         [r[:1] + r[2:] for r in rows(result)])]
    line = _volume(result, customers)
    if line is not None:
        parts.append(line)
    return parts
