"""What each page of the agreement shows: one function per page, returning its template's data.

Every sentence about a condition, duration, band, rule or target is
`slaengine.agreement.describe`'s; this module only picks what goes on which page and links
the pages together.
"""

from __future__ import annotations

import re
from itertools import pairwise
from typing import Any

from ..agreement.describe import (
    band_range_text,
    calendar_label,
    definition_label,
    describe_inline,
    describe_person,
    describe_rule,
    hours_text,
    kpi_formula,
    mid_sentence,
    party_label,
    percent_text,
    stage_label,
    target_text,
    with_article,
)
from ..agreement.digest import short_digest
from ..agreement.models import AgreementSpec, Approval, Calibration, Definition, ServiceLevel
from ..agreement.models.sections import WEEKDAYS
from ..agreement.phrases import leads_where
from ..agreement.public_holidays import closed_days
from .context import SignatureState, Site, criteria, field_ref, or_dash, references, relative
from .markdown import Md, anchor, code, escape, ident, join, link, text_with_code
from .meetings import action_counts, action_summary
from .mermaid import lifecycle_flowchart
from .status import review_status

Page = dict[str, Any]

WEEKDAY_NAMES = dict(zip(WEEKDAYS, ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
                                    "Saturday", "Sunday"), strict=True))
_ICP = re.compile(r"\bICP\b|ideal customer profile", re.IGNORECASE)


def owner_text(site: Site, party: str | None) -> str:
    return party_label(site.spec, party) if party else "no owner"


def home(site: Site) -> Page:
    spec, status = site.spec, review_status(site)
    approvals = {a.party: a for a in status.latest.approvals} if status.latest else {}
    leads = [{"party": party_label(spec, pid), "lead": describe_person(party.lead),
              "approved": approvals[pid].day.isoformat() if pid in approvals
              else "not yet approved"} for pid, party in spec.parties.items()]
    approved = status.approved
    counts = [
        ("Ideal customer profile", "icp.md", "who both teams want to reach"),
        ("Definitions", "definitions/index.md", _count(len(spec.definitions), "definition")),
        ("Scoring", "scoring.md", _count(len(spec.scores), "score")),
        ("Lifecycle", "lifecycle.md", _count(len(spec.stages), "stage") + " and their owners"),
        ("Service levels", "service-levels.md",
         _count(len(spec.service_levels), "commitment") + " and how fast"),
        ("Calendars", "calendars.md", "the business hours the clocks run on"),
        ("KPIs", "kpis.md", _count(len(spec.kpis), "shared KPI")),
        ("Dispositions", "dispositions.md",
         "why leads return to marketing, recycling and the lead guarantee"),
        ("Reviews", "reviews.md", _count(len(site.reviews), "review") + ", newest first"),
        ("Meetings and actions", "meetings.md", action_summary(site)),
        ("Glossary", "glossary.md", "every term, with a link to where it is defined"),
    ]
    return {
        "in_force": escape(in_force_text(site, status)),
        "name": spec.agreement, "description": spec.description, "version": spec.version,
        "effective": "not set" if spec.effective is None else spec.effective.isoformat() + (
            " (not yet in force)" if spec.effective > site.today else ""),
        "approved": (f"{max(a.day for a in approved.approvals).isoformat()} "
                     f"(version {approved.version}, {approved.kind} review of "
                     f"{approved.date.isoformat()})") if approved and approved.approvals
        else "never",
        "next_review": status.next_review.isoformat() if status.next_review else "not scheduled",
        "timezone": spec.timezone, "digest": code(short_digest(site.agreement.digest)),
        "today": site.today.isoformat(), "leads": leads, "actions": action_counts(site),
        "banners": [{"kind": b.kind, "title": b.title, "text": text_with_code(b.text)}
                    for b in status.banners],
        "contents": [{"link": link(title, href), "summary": summary}
                     for title, href, summary in counts],
    }


def in_force_text(site: Site, status: Any) -> str:
    """The agreement in force in three sentences: version and date, who approved it, next review."""
    spec = site.spec
    approvals = {a.party: a for a in status.latest.approvals} if status.latest else {}
    effective = ("no effective date is set" if spec.effective is None
                 else f"effective {spec.effective.isoformat()}" + (
                     " (not yet in force)" if spec.effective > site.today else ""))
    signed = [f"{approvals[pid].name} for {party_label(spec, pid)} on "
              f"{approvals[pid].day.isoformat()}" if pid in approvals
              else f"not yet by {party_label(spec, pid)} ({party.lead.name})"
              for pid, party in spec.parties.items()]
    approved = ("Approved by " + (", ".join(signed[:-1]) + " and " if len(signed) > 1 else "")
                + signed[-1] + ".") if signed else "No party has approved it."
    review = (f"Next review by {status.next_review.isoformat()}." if status.next_review
              else "No review is scheduled.")
    return f"version {spec.version}, {effective}. {approved} {review}"


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def is_icp(name: str, definition: Definition) -> bool:
    """A definition is the ideal customer profile when its id or its title says so."""
    return "icp" in name.split("_") or bool(_ICP.search(definition.title or ""))


def icp(site: Site) -> Page:
    spec = site.spec
    profiles = []
    for name, definition in spec.definitions.items():
        if not is_icp(name, definition):
            continue
        refs = references(definition.when)
        related = [{"title": definition_label(spec, d),
                    "link": link(definition_label(spec, d), f"definitions/{d}.md"),
                    "description": spec.definitions[d].description,
                    "criteria": criteria(spec.definitions[d].when, spec)}
                   for d in refs.definitions if d in spec.definitions]
        guarantee = spec.lead_guarantee
        profiles.append({
            "id": ident(name), "title": definition_label(spec, name),
            "description": definition.description,
            "link": link("Definition page", f"definitions/{name}.md"),
            "criteria": criteria(definition.when, spec),
            "fields": [field_ref(spec, f) for f in refs.fields],
            "exclusions": [r for r, d in zip(related, refs.definitions, strict=False)
                           if d in refs.negated],
            "requires": [r for r, d in zip(related, refs.definitions, strict=False)
                         if d not in refs.negated],
            "guarantee": link(guarantee.title, "dispositions.md#lead-guarantee")
            if guarantee is not None and guarantee.requires == name else None,
        })
    return {"profiles": profiles}


def definitions_index(site: Site) -> Page:
    spec = site.spec
    return {"definitions": [
        {"link": link(definition_label(spec, n), f"{n}.md"), "id": code(n),
         "description": or_dash(d.description)} for n, d in spec.definitions.items()]}


def definition(site: Site, name: str) -> Page:
    spec = site.spec
    found = spec.definitions[name]
    refs = references(found.when)
    uses = [link(definition_label(spec, d), f"{d}.md") for d in refs.definitions
            if d in spec.definitions]
    uses += [link(spec.scores[s].title or s, relative(f"scoring.md#{s}", 1))
             for s in refs.scores if s in spec.scores]
    return {
        "title": definition_label(spec, name), "id": code(name),
        "a_title": with_article(definition_label(spec, name)), "description": found.description,
        "criteria": criteria(found.when, spec, depth=1),
        "fields": [{"field": field_ref(spec, f), "type": type_ref(spec.fields[f].type)
                    if f in spec.fields else "unknown"} for f in refs.fields],
        "uses": uses,
        "used_by": [link(label, relative(href, 1)) for label, href in site.used_by[name]],
        "home": link("the agreement", "../index.md"),
    }


# A field's type in words, for a reader who has never seen YAML.
_TYPE_WORDS = {"string": "text", "integer": "whole number", "number": "number",
               "boolean": "yes or no", "date": "date", "datetime": "date and time",
               "list": "list of values"}


def type_ref(field_type: str) -> Md:
    """`yes or no (boolean)`: the type in words, then as `fields.yaml` writes it."""
    return Md(f"{escape(_TYPE_WORDS.get(field_type, field_type))} ({code(field_type)})")


def _either(items: list[Md]) -> Md:
    """`A`, `A or B`, `A, B or C`: the way a sentence lists alternatives."""
    if len(items) < 3:
        return join(items, " or ")
    return Md(f"{join(items[:-1])} or {items[-1]}")


def _calibration(calibration: Calibration, spec: AgreementSpec) -> Md:
    maturity = calibration.maturity
    counted = "" if maturity is None else (
        f", each counted once {maturity.words()} {'has' if maturity.amount == 1 else 'have'} "
        "passed")
    return text_with_code(
        "Calibration: a band is flagged when the share of its leads where "
        f"{mid_sentence(describe_inline(calibration.converted, spec))} differs from its expected "
        f"conversion by more than {calibration.tolerance * 100:g} percentage points (bands of at "
        f"least {calibration.min_leads:,} leads{counted}).")


def scoring(site: Site) -> Page:
    spec = site.spec
    scores = []
    for name, score in spec.scores.items():
        scores.append({
            "id": ident(name), "title": score.title or name, "description": score.description,
            "rules": [{"label": or_dash(rule.label),
                       "rule": text_with_code(describe_rule(rule, spec))} for rule in score.rules],
            "bands": [{"anchor": anchor(f"band-{name}-{band.label}"), "label": band.label,
                       "range": band_range_text(band),
                       "conversion": percent_text(band.expected_conversion)
                       if band.expected_conversion is not None else "—",
                       "description": or_dash(band.description)} for band in score.bands],
            "calibration": _calibration(score.calibration, spec) if score.calibration else None,
        })
    return {"scores": scores}


def lifecycle(site: Site) -> Page:
    spec = site.spec
    rows = []
    for stage in spec.stages:
        requires: list[object] = []
        if stage.requires:
            requires.append(link(definition_label(spec, stage.requires),
                                 f"definitions/{stage.requires}.md"))
        if stage.requires_disposition:
            requires.append(link("a disposition code", "dispositions.md"))
        levels = [link(level.title, f"service-levels.md#{level_id}")
                  for level_id, level in spec.service_levels.items()
                  if stage.entered_at and level.start == stage.entered_at]
        rows.append({
            "anchor": anchor(f"stage-{stage.id}"), "id": stage.id,
            "title": stage_label(spec, stage.id), "owner": owner_text(site, stage.owner),
            "enters": field_ref(spec, stage.entered_at) if stage.entered_at else "—",
            "requires": join(requires, " and ") if requires else "—",
            "levels": join(levels) if levels else "—",
            "description": stage.description, "terminal": stage.terminal,
        })
    return {"diagram": lifecycle_flowchart(spec) if spec.stages else None, "stages": rows,
            "stage_field": field_ref(spec, spec.stage_field)}


def _allowance(site: Site, level: ServiceLevel) -> Md:
    words = level.within.words()
    if level.calendar is None:
        return escape(f"{words}, wall-clock time")
    where = link(calendar_label(site.spec, level.calendar), f"calendars.md#{level.calendar}")
    if level.within.is_business_days:
        return Md(f"{escape(words)} on the {where} calendar")
    return Md(f"{escape(words)} of business time on the {where} calendar")


def service_levels(site: Site) -> Page:
    spec = site.spec
    levels = []
    for level_id, level in spec.service_levels.items():
        breach = level.on_breach
        levels.append({
            "id": ident(level_id), "link": link(level.title, f"#{level_id}"),
            "title": level.title, "description": level.description,
            "owner": party_label(spec, level.owner), "within": _allowance(site, level),
            "start": field_ref(spec, level.start),
            "stop": _either([field_ref(spec, f) for f in level.stop]),
            "several_stops": len(level.stop) > 1,
            "warn_at": percent_text(level.warn_at) if level.warn_at is not None else None,
            "applies": text_with_code(leads_where(level.applies_when, spec))
            if level.applies_when is not None else None,
            "escalate_to": breach.escalate_to if breach else None,
            "notify": join(list(breach.notify)) if breach and breach.notify else None,
        })
    return {"levels": levels}


def calendars(site: Site) -> Page:
    spec = site.spec
    pages = []
    for cal_id, calendar in spec.calendars.items():
        days = []
        for day in WEEKDAYS:
            intervals = sorted(calendar.hours.get(day, []))
            minutes = sum(i.minutes for i in intervals)
            breaks = [f"{a.end // 60:02d}:{a.end % 60:02d}-{b.start // 60:02d}:{b.start % 60:02d}"
                      for a, b in pairwise(intervals)]
            days.append({"day": WEEKDAY_NAMES[day], "hours": hours_text(intervals),
                         "total": f"{minutes / 60:g} hours" if minutes else "—",
                         "breaks": " and ".join(breaks) if breaks else "—"})
        # Each year the site's readers plan around (this one and the next) and every year
        # the hand-written list names, with the public holidays of that year among them.
        years = sorted({site.today.year, site.today.year + 1,
                        *(h.date.year for h in calendar.holidays)})
        holidays = [{"year": year, "days": [
            {"date": day.isoformat(), "weekday": f"{day:%A}", "name": or_dash(name),
             "hours": (f"short day, open {hours_text(entry.open)}" if entry and entry.open
                       else "closed"),
             "source": "listed" if entry else "public holiday"}
            for day, name, entry in closed_days(calendar, year)]} for year in years]
        holidays = [y for y in holidays if y["days"]]
        public = calendar.public_holidays
        used_by = [link(level.title, f"service-levels.md#{level_id}")
                   for level_id, level in spec.service_levels.items() if level.calendar == cal_id]
        pages.append({"id": ident(cal_id), "title": calendar_label(spec, cal_id),
                      "timezone": calendar.timezone or spec.timezone, "days": days,
                      "holidays": holidays, "used_by": used_by,
                      "public": None if public is None else
                      public.country + (f" ({public.subdivision})" if public.subdivision else "")})
    return {"calendars": pages, "timezone": spec.timezone}


def kpis(site: Site) -> Page:
    spec = site.spec
    rows = []
    for kpi_id, kpi in spec.kpis.items():
        rows.append({
            "id": ident(kpi_id), "link": link(kpi.title, f"#{kpi_id}"),
            "title": kpi.title, "description": kpi.description,
            "formula": text_with_code(kpi_formula(spec, kpi)),
            "owners": ", ".join(party_label(spec, p) for p in kpi.owners) or "—",
            "target": target_text(kpi.target, kpi.unit),
            "cohort": field_ref(spec, kpi.cohort) if kpi.cohort else "—",
            "period": kpi.period or "—",
            "maturity": kpi.maturity.words() if kpi.maturity else "—",
            "group_by": field_ref(spec, kpi.group_by) if kpi.group_by else None,
            "unit": kpi.unit,
        })
    return {"kpis": rows}


def dispositions(site: Site) -> Page:
    spec = site.spec

    def stage_link(stage_id: str) -> Md:
        return link(stage_label(spec, stage_id), f"lifecycle.md#stage-{stage_id}")

    codes = [{"anchor": anchor(f"disposition-{code_id}"), "code": code(code_id),
              "title": d.title, "description": or_dash(d.description),
              "returns_to": stage_link(d.returns_to) if spec.stage(d.returns_to) else d.returns_to,
              "guarantee": "yes" if d.lead_guarantee else "—"}
             for code_id, d in spec.dispositions.items()]
    recycle = [{"id": ident(rule_id), "title": rule.title, "description": rule.description,
                "criteria": criteria(rule.when, spec),
                "returns_to": stage_link(rule.returns_to) if spec.stage(rule.returns_to)
                else escape(rule.returns_to)} for rule_id, rule in spec.recycle.items()]
    guarantee = spec.lead_guarantee
    return {
        "codes": codes, "recycle": recycle, "field": field_ref(spec, spec.disposition_field),
        "guarantee": None if guarantee is None else {
            "title": guarantee.title, "description": guarantee.description,
            "handoff": field_ref(spec, guarantee.handoff),
            "requires": link(definition_label(spec, guarantee.requires),
                             f"definitions/{guarantee.requires}.md")
            if guarantee.requires and guarantee.requires in spec.definitions else None,
            "covered": [d.title for d in spec.dispositions.values() if d.lead_guarantee],
        },
    }


def _signature(approval: Approval, state: SignatureState | None) -> Md:
    """How an approval is signed, in words: the key's fingerprint, and whether it verifies."""
    if approval.signature is None:
        return Md("not signed")
    if state is None:
        return Md("signed (not verified here)")
    key = f" with key {code(state.fingerprint)}" if state.fingerprint else ""
    if state.verified:
        return Md(f"signed{key}, signature verified")
    return Md(f"signed{key}, **does not verify**: {escape(state.problem or 'unknown reason')}")


def reviews(site: Site) -> Page:
    spec, digest = site.spec, site.agreement.digest
    ordered = sorted(enumerate(site.reviews), key=lambda pair: (pair[1].date, pair[0]),
                     reverse=True)
    entries = []
    for _, review in ordered:
        signed = {a.party for a in review.approvals}
        states = site.signatures.get(review.date.isoformat(), [])
        actions = []
        for action in review.actions:
            late = action.due is not None and action.due < site.today
            state = "done" if action.done else ("open, overdue" if late else "open")
            actions.append({"what": action.what, "owner": party_label(spec, action.owner),
                            "due": action.due.isoformat() if action.due else "—",
                            "state": state})
        entries.append({
            "anchor": ident(f"review-{review.date.isoformat()}"), "date": review.date.isoformat(),
            "kind": review.kind, "version": review.version, "summary": review.summary,
            "approvals": [{"party": party_label(spec, a.party), "name": a.name,
                           "on": a.day.isoformat(), "note": a.note,
                           "signature": _signature(a, states[j] if j < len(states) else None)}
                          for j, a in enumerate(review.approvals)],
            "missing": [party_label(spec, p) for p in spec.parties if p not in signed],
            "changes": review.changes, "actions": actions,
            "computed": site.review_changes.get(review.date.isoformat()),
            "next_review": review.next_review.isoformat() if review.next_review else None,
            "digest": code(short_digest(review.digest)) if review.digest else None,
            "current": review.digest == digest,
        })
    return {"reviews": entries}


__all__ = ["calendars", "definition", "definitions_index", "dispositions", "home", "icp",
           "is_icp", "kpis", "lifecycle", "reviews", "scoring", "service_levels"]
