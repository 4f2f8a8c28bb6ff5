"""Each section of the agreement compared, keyed, in the words of `describe`."""

from __future__ import annotations

import json
from collections.abc import Callable
from difflib import SequenceMatcher
from typing import Any

from ..agreement.describe import (
    allowance_text,
    band_range_text,
    calendar_label,
    definition_short_label,
    describe_band,
    describe_disposition,
    describe_holiday,
    describe_inline,
    describe_person,
    describe_rule,
    describe_service_level,
    describe_stage,
    field_label,
    fields_text,
    hours_text,
    kpi_formula,
    list_text,
    mid_sentence,
    party_label,
    percent_text,
    points_text,
    score_label,
    stage_label,
    target_text,
    value_text,
    with_article,
)
from ..agreement.models import AgreementSpec
from ..agreement.models.common import Duration, Interval
from ..agreement.models.keys import key_id
from ..agreement.models.sections import WEEKDAYS, PerValueRule, PointsRule
from .changes import (
    EDITORIAL,
    TOP_LEVEL,
    WEEKDAY_NAMES,
    Differ,
    Effect,
    Kind,
    Severity,
    Tree,
    commitment_severity,
    direct_severity,
    flip,
    ordered,
    plain,
    same,
    seconds_of,
    text_of,
)


def _quoted(value: str | None) -> str:
    return f"“{value}”" if value else "none"


def _yes(spec: AgreementSpec, value: bool) -> str:
    return "yes" if value else "no"


def _field_word(spec: AgreementSpec, name: str | None) -> str:
    return f"“{field_label(spec, name)}”" if name else "none"


def _definition_word(spec: AgreementSpec, name: str | None) -> str:
    return definition_short_label(spec, name) if name else "nothing"


def combine(effects: list[Effect]) -> Effect:
    return effects[0] if len(set(effects)) == 1 else "mixed"


def _top(d: Differ, name: str) -> None:
    old, new = getattr(d.b, name), getattr(d.a, name)
    severity: Severity = "neutral"
    if name == "review":
        before, after = f"every {old.every_months} months", f"every {new.every_months} months"
    elif name in ("agreement", "description"):
        before, after = _quoted(old), _quoted(new)
    else:
        before, after = text_of(old, d.b), text_of(new, d.a)
        severity = "tightens" if name == "timezone" else "neutral"
    d.add("changed", "agreement", name, name, "Agreement", TOP_LEVEL[name], before, after, severity,
          editorial=name in EDITORIAL)


def _parties(d: Differ, name: str) -> None:
    def compare(key: str, label: str, old: Any, new: Any) -> None:
        def lead(ov: Any, nv: Any, where: str) -> None:
            subject = f"{label} lead"

            def keys(before: list[str], after: list[str], at: str) -> None:
                was, now = set(map(key_id, before)), set(map(key_id, after))
                pairs: list[tuple[Kind, set[str]]] = [("added", now - was), ("removed", was - now)]
                for kind, ids in pairs:
                    for text in sorted(ids):
                        d.add(kind, "parties", key, at, subject, "signing key", None, None,
                              text=f"{subject}: signing key {kind} ({text})")
            d.attributes("parties", key, where, subject, ov, nv,
                         {"name": d.said("parties", key, subject, ""), "keys": keys})
        d.attributes("parties", key, f"parties.{key}", label, old, new, {"lead": lead})

    d.keyed("parties", d.b.parties, d.a.parties, party_label,
            lambda s, p: f"led by {describe_person(p.lead)}", compare)


def _minutes(intervals: list[Interval] | None) -> int:
    return sum(i.minutes for i in intervals or [])


def _more_time(old: int, new: int) -> Severity:
    """Open hours: more of them run a business clock faster, which tightens its levels."""
    return "tightens" if new > old else "loosens" if new < old else "tightens"


def _calendars(d: Differ, name: str) -> None:
    def compare(key: str, label: str, old: Any, new: Any) -> None:
        def hours(ov: Any, nv: Any, where: str) -> None:
            for day in WEEKDAYS:
                o, n = ov.get(day), nv.get(day)
                if not same(o, n):
                    d.add("changed", "calendars", key, f"{where}.{day}", label,
                          WEEKDAY_NAMES[day], hours_text(o), hours_text(n),
                          _more_time(_minutes(o), _minutes(n)))

        def holidays(ov: Any, nv: Any, where: str) -> None:
            olds, news = {h.date: h for h in ov}, {h.date: h for h in nv}
            for day in [*olds, *(k for k in news if k not in olds)]:
                o, n = olds.get(day), news.get(day)
                path = f"{where}.{day.isoformat()}"
                if n is None:
                    d.add("removed", "calendars", key, path, label, "holiday",
                          describe_holiday(o), None, "tightens")  # type: ignore[arg-type]
                elif o is None:
                    d.add("added", "calendars", key, path, label, "holiday", None,
                          describe_holiday(n), "loosens")
                elif not same(o, n):
                    d.add("changed", "calendars", key, path, label, "holiday",
                          describe_holiday(o), describe_holiday(n),
                          _more_time(_minutes(o.open), _minutes(n.open))
                          if o.open and n.open else "tightens" if not o.open else "loosens")
            d.order("calendars", key, where, label, "holiday order",
                    [h.date.isoformat() for h in ov], [h.date.isoformat() for h in nv])

        d.attributes("calendars", key, f"calendars.{key}", label, old, new, {
            "hours": hours, "holidays": holidays,
            "timezone": d.said("calendars", key, label, "timezone",
                               lambda s, v: v or "the agreement's", "tightens")})

    def summary(spec: AgreementSpec, calendar: Any) -> str:
        days = [f"{WEEKDAY_NAMES[day][:3]} {hours_text(calendar.hours.get(day))}"
                for day in WEEKDAYS if calendar.hours.get(day)]
        return "; ".join(days) + f"; {len(calendar.holidays)} holidays"

    d.keyed("calendars", d.b.calendars, d.a.calendars, calendar_label, summary, compare)


def _fields(d: Differ, name: str) -> None:
    def compare(key: str, label: str, old: Any, new: Any) -> None:
        subject = f"Field {key}"

        def enum(o: Any, n: Any, where: str) -> None:
            text = None
            if o is not None and n is not None:
                gained = [v for v in n if v not in o]
                dropped = [v for v in o if v not in n]
                marks: list[Effect] = []
                if gained:
                    marks.append("widens")
                if dropped:
                    marks.append("narrows")
                effect = combine(marks or ["mixed"])
                edits = ([f"added {list_text(gained, 'and')}"] if gained else []) + (
                    [f"removed {list_text(dropped, 'and')}"] if dropped else [])
                text = f"{subject}: allowed values: " + ("; ".join(edits) or "reordered")
            else:
                effect = "narrows" if o is None else "widens"
            d.add("changed", "fields", key, where, subject, "allowed values",
                  "any value" if o is None else list_text(o, "and"),
                  "any value" if n is None else list_text(n, "and"), direct_severity(effect),
                  text=text)

        d.attributes("fields", key, f"fields.{key}", subject, old, new, {
            "type": d.said("fields", key, subject, "type", severity="narrows"),
            "source": d.said("fields", key, subject, "read from column", lambda s, v: v or key),
            "enum": enum})

    def summary(spec: AgreementSpec, spec_field: Any) -> str:
        parts = [spec_field.type] + ([f"“{spec_field.title}”"] if spec_field.title else [])
        if spec_field.source:
            parts.append(f"read from column {spec_field.source}")
        if spec_field.enum:
            parts.append(f"one of {list_text(spec_field.enum)}")
        return ", ".join(parts)

    d.keyed("fields", d.b.fields, d.a.fields, lambda s, k: k, summary, compare)


def _definitions(d: Differ, name: str) -> None:
    def compare(key: str, label: str, old: Any, new: Any) -> None:
        tree = Tree("definitions", key, f"definitions.{key}.when", label, "", direct_severity)
        d.attributes("definitions", key, f"definitions.{key}", label, old, new,
                     {"when": lambda o, n, w: d.tree(tree, o, n)})

    d.keyed("definitions", d.b.definitions, d.a.definitions, definition_short_label,
            lambda s, x: describe_inline(x.when, s), compare, removed="narrows")


def _rule_name(rule: Any, index: int) -> str:
    return f"rule “{rule.label}”" if rule.label else f"rule {index + 1}"


def _adds_points(rule: Any) -> Effect:
    points = rule.points if isinstance(rule, PointsRule) else rule.points_each
    return "widens" if points > 0 else "narrows" if points < 0 else "mixed"


def _per_value_effect(o: PerValueRule, n: PerValueRule) -> Effect:
    effects: list[Effect] = []
    if o.field != n.field:
        effects.append("mixed")
    if not same(o.points_each, n.points_each):
        effects.append(ordered(o.points_each, n.points_each, "widens"))
    for bound, cap in (("max", True), ("min", False)):
        ov, nv = getattr(o, bound), getattr(n, bound)
        if same(ov, nv):
            continue
        if ov is None or nv is None:
            effects.append("narrows" if (ov is None) == cap else "widens")
        else:
            effects.append(ordered(ov, nv, "widens"))
    return combine(effects)


def _rules(d: Differ, key: str, label: str, olds: list[Any], news: list[Any],
           where: str) -> None:
    matcher = SequenceMatcher(a=[json.dumps(plain(r), sort_keys=True) for r in olds],
                              b=[json.dumps(plain(r), sort_keys=True) for r in news],
                              autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        pairs = min(i2 - i1, j2 - j1) if tag == "replace" else 0
        for k in range(pairs):
            _rule(d, key, label, olds[i1 + k], news[j1 + k], f"{where}.{j1 + k}", j1 + k)
        for k in range(i1 + pairs, i2):
            d.add("removed", "scores", key, f"{where}.{k}", label, _rule_name(olds[k], k),
                  describe_rule(olds[k], d.b), None,
                  direct_severity(flip(_adds_points(olds[k]), -1)))
        for k in range(j1 + pairs, j2):
            d.add("added", "scores", key, f"{where}.{k}", label, _rule_name(news[k], k), None,
                  describe_rule(news[k], d.a), direct_severity(_adds_points(news[k])))


def _rule(d: Differ, key: str, label: str, o: Any, n: Any, where: str, index: int) -> None:
    subject = f"{label}, {_rule_name(n, index)}"
    if type(o) is not type(n):
        d.add("changed", "scores", key, where, subject, "", describe_rule(o, d.b),
              describe_rule(n, d.a), "narrows")
        return
    skip: Callable[[Any, Any, str], None] = lambda o_, n_, w_: None  # noqa: E731
    words: dict[str, Callable[[Any, Any, str], None]] = {"label": lambda ov, nv, w: d.add(
        "changed", "scores", key, w, f"{label}, {_rule_name(o, index)}", "label", _quoted(ov),
        _quoted(nv), editorial=True)}
    if isinstance(o, PointsRule):
        sign = 1 if n.points >= 0 else -1
        tree = Tree("scores", key, f"{where}.when", subject, "when ",
                     lambda e: direct_severity(flip(e, sign)))
        words["points"] = lambda ov, nv, w: d.add(
            "changed", "scores", key, w, subject, "", points_text(ov), points_text(nv),
            direct_severity(ordered(ov, nv, "widens")))
        words["when"] = lambda ov, nv, w: d.tree(tree, ov, nv)
    else:
        core = ("field", "points_each", "max", "min")
        if any(not same(getattr(o, a), getattr(n, a)) for a in core):
            d.add("changed", "scores", key, where, subject, "", describe_rule(o, d.b),
                  describe_rule(n, d.a), direct_severity(_per_value_effect(o, n)))
        words.update(dict.fromkeys(core, skip))
    d.attributes("scores", key, where, subject, o, n, words)


def _bands(d: Differ, key: str, label: str, olds: list[Any], news: list[Any],
           where: str) -> None:
    old_labels, new_labels = [b.label for b in olds], [b.label for b in news]
    explained: set[tuple[str, str]] = set()
    if old_labels == new_labels:
        for i in range(len(olds) - 1):
            ob, nb = olds[i].below, news[i].below
            if (ob is not None and nb is not None and same(ob, olds[i + 1].from_)
                    and same(nb, news[i + 1].from_) and not same(ob, nb)):
                d.add("changed", "scores", key, f"{where}.{i}.below", label,
                      f"{old_labels[i]} ends and {old_labels[i + 1]} starts at",
                      value_text(ob), value_text(nb))
                explained |= {(old_labels[i], "below"), (old_labels[i + 1], "from_")}
    d.order("scores", key, where, label, "band order", old_labels, new_labels)
    by_old, by_new = {b.label: b for b in olds}, {b.label: b for b in news}
    skip: Callable[[Any, Any, str], None] = lambda o_, n_, w_: None  # noqa: E731
    for band in [*old_labels, *(b for b in new_labels if b not in by_old)]:
        o, n = by_old.get(band), by_new.get(band)
        path = f"{where}.{band}"
        if n is None or o is None:
            d.add("removed" if n is None else "added", "scores", key, path, label, "band",
                  describe_band(o) if o else None, describe_band(n) if n else None)
            continue
        if any(not same(getattr(o, a), getattr(n, a)) and (band, a) not in explained
               for a in ("from_", "below")):
            d.add("changed", "scores", key, path, label, f"band {band}", band_range_text(o),
                  band_range_text(n))
        conversion = lambda ov, nv, w, band=band: d.add(  # noqa: E731
            "changed", "scores", key, w, label, f"band {band}: expected conversion",
            percent_text(ov) if ov is not None else "none",
            percent_text(nv) if nv is not None else "none")
        d.attributes("scores", key, path, f"{label}, band {band}", o, n,
                     {"from_": skip, "below": skip, "expected_conversion": conversion})


def _scores(d: Differ, name: str) -> None:
    def compare(key: str, label: str, old: Any, new: Any) -> None:
        d.attributes("scores", key, f"scores.{key}", label, old, new, {
            "rules": lambda o, n, w: _rules(d, key, label, o, n, w),
            "bands": lambda o, n, w: _bands(d, key, label, o, n, w)})

    d.keyed("scores", d.b.scores, d.a.scores, score_label,
            lambda s, x: "; ".join(describe_rule(r, s) for r in x.rules), compare)


def _stages(d: Differ, name: str) -> None:
    olds, news = {s.id: s for s in d.b.stages}, {s.id: s for s in d.a.stages}
    d.order("stages", "", "stages", "Lifecycle", "stage order", list(olds), list(news))

    def compare(key: str, label: str, old: Any, new: Any) -> None:
        subject = f"Stage {label}"

        def said(aspect: str, word: Callable[[AgreementSpec, Any], str]
                 ) -> Callable[[Any, Any, str], None]:
            return d.said("stages", key, subject, aspect, word)

        d.attributes("stages", key, f"stages.{key}", subject, old, new, {
            "owner": said("owner", lambda s, v: party_label(s, v) if v else "no owner"),
            "entered_at": said("entered at", _field_word),
            "requires": said("requires", _definition_word),
            "terminal": said("terminal", _yes),
            "requires_disposition": said("requires a disposition code", _yes)})

    d.keyed("stages", olds, news, stage_label, lambda s, x: describe_stage(x, s), compare)


def _service_levels(d: Differ, name: str) -> None:
    def compare(key: str, label: str, old: Any, new: Any) -> None:
        def within(o: Duration, n: Duration, w: str) -> None:
            a, b = seconds_of(o), seconds_of(n)
            if a is None or b is None:
                a, b = (o.amount, n.amount) if o.unit == n.unit else (None, None)
            effect = "mixed" if a is None else ordered(a, b, "widens")
            d.add("changed", "service_levels", key, w, label, "",
                  allowance_text(o, old.calendar is not None),
                  allowance_text(n, new.calendar is not None),
                  commitment_severity(flip(effect, -1)))

        def stops(o: list[str], n: list[str], w: str) -> None:
            effect: Effect = ("widens" if set(o) < set(n) else "narrows" if set(n) < set(o)
                              else "mixed")
            severity = "neutral" if set(o) == set(n) else commitment_severity(flip(effect, -1))
            d.add("changed", "service_levels", key, w, label, "clock stops at",
                  fields_text(d.b, o), fields_text(d.a, n), severity)

        def breach(o: Any, n: Any, w: str) -> None:
            if o is None or n is None:
                d.said("service_levels", key, label, "on breach", lambda s, v: (
                    f"escalates to {v.escalate_to}" if v else "no escalation"))(o, n, w)
                return
            d.attributes("service_levels", key, w, label, o, n, {
                "escalate_to": d.said("service_levels", key, label, "escalates to"),
                "notify": d.said("service_levels", key, label, "notifies",
                                 lambda s, v: list_text(v, "and") or "nobody")})

        def said(aspect: str, word: Callable[[AgreementSpec, Any], str],
                 severity: Severity = "neutral") -> Callable[[Any, Any, str], None]:
            return d.said("service_levels", key, label, aspect, word, severity)

        tree = Tree("service_levels", key, f"service_levels.{key}.applies_when", label,
                     "applies when ", commitment_severity)
        d.attributes("service_levels", key, f"service_levels.{key}", label, old, new, {
            "within": within, "stop": stops, "on_breach": breach,
            "calendar": d.said("service_levels", key, label, "calendar", calendar_label,
                               lambda o, n: "loosens" if o is None else "tightens"),
            "start": said("clock starts at", _field_word, "tightens"),
            "owner": said("owner", party_label),
            "warn_at": said("at risk from", lambda s, v: f"{percent_text(v)} of the allowance"
                            if v is not None else "never"),
            "applies_when": lambda o, n, w: d.optional_tree(tree, o, n, "loosens", "tightens")})

    d.keyed("service_levels", d.b.service_levels, d.a.service_levels,
            lambda s, k: s.service_levels[k].title,
            lambda s, x: describe_service_level(x, s), compare, removed="loosens")


def _target_effect(o: Any, n: Any) -> Severity:
    if o is None or n is None:
        return "tightens" if o is None else "loosens"
    bounds: tuple[tuple[str, Effect], ...] = (("gte", "narrows"), ("lte", "widens"))
    effects = [ordered(getattr(o, b), getattr(n, b), e) for b, e in bounds
               if not same(getattr(o, b), getattr(n, b))
               and getattr(o, b) is not None and getattr(n, b) is not None]
    effect = combine(effects or ["mixed"])
    return "loosens" if effect == "widens" else "tightens"


def _kpis(d: Differ, name: str) -> None:
    def compare(key: str, label: str, old: Any, new: Any) -> None:
        own = {"title", "description", "owners", "target", "unit"}
        formula = [a for a in type(new).model_fields if a not in own]
        words: dict[str, Callable[[Any, Any, str], None]] = {
            "target": lambda o, n, w: d.add("changed", "kpis", key, w, label, "target",
                                            target_text(o, old.unit), target_text(n, new.unit),
                                            _target_effect(o, n)),
            "owners": d.said("kpis", key, label, "owners", lambda s, v: list_text(
                [party_label(s, p) for p in v], "and") or "nobody")}
        before, after = kpi_formula(d.b, old).split("; "), kpi_formula(d.a, new).split("; ")
        if before != after:
            while len(before) > 1 and len(after) > 1 and before[-1] == after[-1]:
                before, after = before[:-1], after[:-1]  # the clauses that differ, in full
            while len(before) > 1 and len(after) > 1 and before[0] == after[0]:
                before, after = before[1:], after[1:]
            d.add("changed", "kpis", key, f"kpis.{key}", label, "formula",
                  "; ".join(before), "; ".join(after))
            words.update({a: lambda o, n, w: None for a in formula})
        d.attributes("kpis", key, f"kpis.{key}", label, old, new, words)

    d.keyed("kpis", d.b.kpis, d.a.kpis, lambda s, k: s.kpis[k].title,
            lambda s, x: kpi_formula(s, x) + (f"; target {target_text(x.target, x.unit)}"
                                              if x.target else ""), compare)


def _dispositions(d: Differ, name: str) -> None:
    def compare(key: str, label: str, old: Any, new: Any) -> None:
        d.attributes("dispositions", key, f"dispositions.{key}", label, old, new, {
            "returns_to": d.said("dispositions", key, label, "returns to", stage_label),
            "lead_guarantee": d.said("dispositions", key, label, "covered by the lead guarantee",
                                     _yes, lambda o, n: "tightens" if n else "loosens")})

    d.keyed("dispositions", d.b.dispositions, d.a.dispositions,
            lambda s, k: s.dispositions[k].title, lambda s, x: describe_disposition(x, s),
            compare)


def _recycle(d: Differ, name: str) -> None:
    def compare(key: str, label: str, old: Any, new: Any) -> None:
        tree = Tree("recycle", key, f"recycle.{key}.when", label, "when ", commitment_severity)
        d.attributes("recycle", key, f"recycle.{key}", label, old, new, {
            "when": lambda o, n, w: d.tree(tree, o, n),
            "returns_to": d.said("recycle", key, label, "returns to", stage_label)})

    d.keyed("recycle", d.b.recycle, d.a.recycle, lambda s, k: s.recycle[k].title,
            lambda s, x: f"returns to {stage_label(s, x.returns_to)} when "
                         f"{mid_sentence(describe_inline(x.when, s))}", compare, removed="loosens")


def _guarantee_text(spec: AgreementSpec, guarantee: Any) -> str:
    text = f"leads handed over at “{field_label(spec, guarantee.handoff)}”"
    if guarantee.requires:
        text += f" must be {with_article(definition_short_label(spec, guarantee.requires))}"
    return text


def _lead_guarantee(d: Differ, name: str) -> None:
    old, new = d.b.lead_guarantee, d.a.lead_guarantee
    if old is None or new is None:
        d.add("added" if old is None else "removed", "lead_guarantee", "", "lead_guarantee",
              "", "", _guarantee_text(d.b, old) if old else None,
              _guarantee_text(d.a, new) if new else None, "neutral" if old is None else "loosens")
        return
    d.attributes("lead_guarantee", "", "lead_guarantee", new.title, old, new, {
        "handoff": d.said("lead_guarantee", "", new.title, "handed over at", _field_word,
                          "tightens"),
        "requires": d.said("lead_guarantee", "", new.title, "requires", _definition_word,
                           "tightens")})


SECTION_DIFFS: dict[str, Callable[[Differ, str], None]] = {
    **dict.fromkeys(TOP_LEVEL, _top), "parties": _parties, "calendars": _calendars,
    "fields": _fields, "definitions": _definitions, "scores": _scores, "stages": _stages,
    "service_levels": _service_levels, "kpis": _kpis, "dispositions": _dispositions,
    "recycle": _recycle, "lead_guarantee": _lead_guarantee,
}


