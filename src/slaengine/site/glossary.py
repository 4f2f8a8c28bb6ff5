"""The glossary: every name the agreement defines, and the trade's fixed terms, alphabetically."""

from __future__ import annotations

from dataclasses import dataclass

from ..agreement.describe import definition_label, party_label, score_label, stage_label
from .context import Site


@dataclass(frozen=True)
class Term:
    term: str
    kind: str
    meaning: str
    href: str  # relative to agreement/


def _first_sentence(text: str | None) -> str:
    if not text:
        return ""
    sentence = " ".join(text.split())
    end = sentence.find(". ")
    return sentence[: end + 1] if end >= 0 else sentence


def _fixed_terms(site: Site) -> list[Term]:
    spec = site.spec

    def definition_or(name: str, fallback: str) -> str:
        return f"definitions/{name}.md" if name in spec.definitions else fallback

    return [
        Term("MQL", "term", "Marketing-qualified lead: fits the ideal customer profile and has "
             "shown buying intent; marketing hands it to sales.",
             definition_or("mql", "lifecycle.md")),
        Term("SAL", "term", "Sales-accepted lead: sales accepted the handoff and will work it.",
             definition_or("sal", "lifecycle.md")),
        Term("SQL", "term", "Sales-qualified lead: sales confirmed need, budget, authority "
             "and timeline.", definition_or("sql", "lifecycle.md")),
        Term("ICP", "term", "Ideal customer profile: the companies and contacts both teams "
             "want to reach.", "icp.md"),
        Term("SLA", "term", "Service-level agreement: what each team commits to do for a "
             "lead, and how fast.", "service-levels.md"),
        Term("Business hours", "term", "The open hours of a calendar, minus holidays; "
             "service-level clocks run only then.", "calendars.md"),
        Term("Lead guarantee", "term", "Marketing's promise about the leads it hands to "
             "sales; a lead that breaks it is credited back to sales.",
             "dispositions.md#lead-guarantee"),
        Term("Recycle", "term", "Return a lead to marketing (nurture), with a reason, when "
             "sales will not work it now.", "dispositions.md#recycling"),
    ]


def glossary(site: Site) -> list[Term]:
    spec = site.spec
    terms = _fixed_terms(site)
    for name, definition in spec.definitions.items():
        terms.append(Term(definition_label(spec, name), "definition",
                          _first_sentence(definition.description), f"definitions/{name}.md"))
    for stage in spec.stages:
        owner = f"owned by {party_label(spec, stage.owner)}" if stage.owner else "no owner"
        terms.append(Term(stage_label(spec, stage.id), "lifecycle stage",
                          _first_sentence(stage.description) or owner.capitalize() + ".",
                          f"lifecycle.md#stage-{stage.id}"))
    for name, score in spec.scores.items():
        terms.append(Term(score_label(spec, name), "score", _first_sentence(score.description),
                          f"scoring.md#{name}"))
        for band in score.bands:
            terms.append(Term(band.label, f"{score_label(spec, name)} band",
                              _first_sentence(band.description),
                              f"scoring.md#band-{name}-{band.label}"))
    for name, level in spec.service_levels.items():
        terms.append(Term(level.title, "service level", _first_sentence(level.description),
                          f"service-levels.md#{name}"))
    for name, kpi in spec.kpis.items():
        terms.append(Term(kpi.title, "KPI", _first_sentence(kpi.description), f"kpis.md#{name}"))
    for name, disposition in spec.dispositions.items():
        terms.append(Term(disposition.title, f"disposition code {name}",
                          _first_sentence(disposition.description),
                          f"dispositions.md#disposition-{name}"))
    for name, party in spec.parties.items():
        terms.append(Term(party_label(spec, name), "party",
                          f"Led by {party.lead.name}" + (f", {party.lead.title}."
                                                         if party.lead.title else "."),
                          "index.md"))
    for name, rule in spec.recycle.items():
        terms.append(Term(rule.title, "recycle rule", _first_sentence(rule.description),
                          f"dispositions.md#recycle-{name}"))
    for name, calendar in spec.calendars.items():
        terms.append(Term(calendar.title or name, "calendar", "", f"calendars.md#{name}"))
    return sorted(terms, key=lambda t: (t.term.casefold(), t.kind, t.href))


__all__ = ["Term", "glossary"]
