"""What changed in meaning between two versions of an agreement, in plain language.

Pure: two validated `AgreementSpec`s in, a list of `Change`s out. Sections are compared keyed
(definitions, levels, fields by id; stages by id and order; bands by label; holidays by date)
on the models the digest is taken over, so formatting never shows and every change of meaning
does. A condition tree is compared node by node: a changed threshold is reported as that one
test (`MQL: engagement score at least 40 → at least 50`), added and removed sub-conditions by
position. What no section words specially is still reported, generically, so the diff is
empty exactly when the digests are equal.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from difflib import SequenceMatcher
from typing import Any, Literal

from pydantic import BaseModel

from .checks.reviews import semver_key
from .describe import (
    allowance_text,
    band_range_text,
    calendar_label,
    condition_parts,
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
    humanize,
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
from .models import AgreementSpec
from .models.common import Duration, Interval
from .models.conditions import (
    AllCondition,
    AnyCondition,
    Condition,
    DefinitionCondition,
    FieldCondition,
    NotCondition,
    ScoreCondition,
    children,
)
from .models.sections import WEEKDAYS, PerValueRule, PointsRule

Kind = Literal["added", "removed", "changed"]
Severity = Literal["narrows", "widens", "tightens", "loosens", "neutral"]
Bump = Literal["major", "minor", "patch", "none"]
Effect = Literal["narrows", "widens", "mixed"]

SECTIONS: dict[str, str] = {  # section -> heading, in the order reports list them
    "agreement": "Agreement", "parties": "Parties", "calendars": "Calendars",
    "fields": "Fields", "definitions": "Definitions", "scores": "Scores",
    "stages": "Lifecycle stages", "service_levels": "Service levels", "kpis": "KPIs",
    "dispositions": "Dispositions", "recycle": "Recycling", "lead_guarantee": "Lead guarantee",
}
_NOUNS = {"parties": "party", "calendars": "calendar", "fields": "field",
          "definitions": "definition", "scores": "score", "stages": "stage",
          "service_levels": "service level", "kpis": "KPI", "dispositions": "disposition",
          "recycle": "recycle rule", "lead_guarantee": "lead guarantee"}
_TOP = {"agreement": "name", "version": "version", "effective": "effective date",
        "description": "description", "timezone": "timezone", "review": "review cadence",
        "stage_field": "stage field", "disposition_field": "disposition field"}
_EDITORIAL = frozenset({"title", "description", "label", "agreement", "version", "handle",
                        "email", "name"})
# Where a narrowing or tightening breaks what people rely on: a major version.
MAJOR_SECTIONS = frozenset({"definitions", "scores", "service_levels", "calendars"})
_WEEKDAY_NAMES = dict(zip(WEEKDAYS, ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
                                     "Saturday", "Sunday"), strict=True))


@dataclass(frozen=True)
class Change:
    """One change of meaning: where, what kind, before and after in words, and its effect."""

    section: str
    key: str               # the entry within the section (`mql`), "" for single values
    path: str              # what changed, as a dotted path into the canonical content
    kind: Kind
    subject: str           # the entry as people name it: `MQL`, `Sales contacts every MQL`
    aspect: str            # what of it changed: `engagement score`, `calendar`, ""
    before: str | None
    after: str | None
    severity: Severity
    text: str              # the whole change on one line
    editorial: bool = False  # wording only (titles, descriptions, labels, contact details)

    def to_json(self) -> dict[str, Any]:
        return {"section": self.section, "key": self.key, "path": self.path, "kind": self.kind,
                "subject": self.subject, "aspect": self.aspect, "before": self.before,
                "after": self.after, "severity": self.severity, "editorial": self.editorial,
                "text": self.text}


def plain(value: Any) -> Any:
    """Canonical plain data of a model or value, as the digest sees it (defaults left out)."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, Duration | Interval):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def same(a: Any, b: Any) -> bool:
    """Equal as the digest compares (`40` and `40.0` differ, like their JSON)."""
    return json.dumps(plain(a), sort_keys=True) == json.dumps(plain(b), sort_keys=True)


def _text(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, BaseModel | dict):
        return json.dumps(plain(value), ensure_ascii=False, sort_keys=True)
    return value_text(value)


def _line(kind: Kind, section: str, subject: str, aspect: str, before: str | None,
          after: str | None) -> str:
    if kind == "changed":
        return f"{subject}: {aspect + ' ' if aspect else ''}{before} → {after}"
    verb, words = ("Added", after) if kind == "added" else ("Removed", before)
    if not aspect:
        noun = _NOUNS.get(section, humanize(section).lower())
        label = f"{verb} {noun}" + (f": {subject}" if subject else "")
        return label + (f" ({words})" if words else "")
    return f"{subject}: {verb.lower()} {aspect}" + (f": {words}" if words else "")


_CONDITIONS = (FieldCondition, ScoreCondition, DefinitionCondition, AllCondition, AnyCondition,
               NotCondition)


@dataclass
class _Tree:
    """How one condition tree's changes are reported: its owner, and what narrowing means."""

    section: str
    key: str
    path: str
    subject: str
    prefix: str  # `applies when `, `when `, ""
    severity: Callable[[Effect], Severity]


def _flip(effect: Effect, polarity: int) -> Effect:
    if polarity > 0 or effect == "mixed":
        return effect
    return "widens" if effect == "narrows" else "narrows"


def _ordered(old: Any, new: Any, higher: Effect) -> Effect:
    """The effect of a bound moving up (`higher`) or down; mixed when not comparable."""
    try:
        if new > old:
            return higher
        if new < old:
            return "widens" if higher == "narrows" else "narrows"
    except TypeError:
        pass
    return "mixed"


def _seconds(value: Duration) -> float | None:
    return None if value.is_business_days else float(value.seconds)


def leaf_effect(old: FieldCondition | ScoreCondition, new: FieldCondition | ScoreCondition
                ) -> Effect:
    """Whether a changed test holds for fewer leads (narrows), more (widens), or either."""
    op, ov, nv = new.op, old.value, new.value
    old_op = old.op
    if {old_op, op} in ({"eq", "in"}, {"ne", "not_in"}):  # `is x` is `is one of [x]`
        ov, nv = ([v] if o in ("eq", "ne") else v for o, v in ((old_op, ov), (op, nv)))
        old_op = op = "in" if "in" in (old_op, op) else "not_in"
    if old_op != op:
        strict = {("gte", "gt"): "narrows", ("gt", "gte"): "widens", ("lte", "lt"): "narrows",
                  ("lt", "lte"): "widens"}
        found = strict.get((old_op, op))
        return found if found is not None and same(ov, nv) else "mixed"  # type: ignore[return-value]
    if op in ("gt", "gte"):
        return _ordered(ov, nv, "narrows")
    if op in ("lt", "lte"):
        return _ordered(ov, nv, "widens")
    if op == "between":
        lower, upper = _ordered(ov[0], nv[0], "narrows"), _ordered(ov[1], nv[1], "widens")
        moved = {e for e, a, b in ((lower, ov[0], nv[0]), (upper, ov[1], nv[1])) if a != b}
        return moved.pop() if len(moved) == 1 else "mixed"
    if op in ("in", "not_in"):
        olds, news = {json.dumps(v) for v in ov}, {json.dumps(v) for v in nv}
        grows: Effect = "widens" if op == "in" else "narrows"
        if olds < news:
            return grows
        if news < olds:
            return "narrows" if grows == "widens" else "widens"
        return "mixed"
    if op in ("within", "older_than"):
        a, b = _seconds(ov), _seconds(nv)
        if a is None or b is None:
            a, b = (ov.amount, nv.amount) if ov.unit == nv.unit else (None, None)
        return "mixed" if a is None else _ordered(a, b, "widens" if op == "within" else "narrows")
    return "mixed"


class _Differ:
    def __init__(self, before: AgreementSpec, after: AgreementSpec):
        self.b, self.a = before, after
        self.changes: list[Change] = []

    # ---- recording

    def add(self, kind: Kind, section: str, key: str, path: str, subject: str, aspect: str,
            before: str | None, after: str | None, severity: Severity = "neutral",
            editorial: bool = False, text: str | None = None) -> None:
        if kind == "changed" and before == after:
            after = f"{after} (the same, written in another order or form)"
        line = text or _line(kind, section, subject, aspect, before, after)
        self.changes.append(Change(section, key, path, kind, subject, aspect, before, after,
                                   severity, line, editorial))

    def generic(self, section: str, key: str, path: str, subject: str, old: Any,
                new: Any) -> None:
        """Any value no section words specially, compared down to the leaves that differ."""
        old, new = plain(old), plain(new)
        if isinstance(old, dict) and isinstance(new, dict):
            for name in [*old, *(k for k in new if k not in old)]:
                if not same(old.get(name), new.get(name)):
                    self.generic(section, key, f"{path}.{name}", subject, old.get(name),
                                 new.get(name))
            return
        inside = path.removeprefix(f"{section}.{key}.") if key else path.rsplit(".", 1)[-1]
        aspect = " ".join(humanize(part).lower() for part in inside.split(".")
                          if not part.isdigit())
        kind: Kind = "added" if old is None else "removed" if new is None else "changed"
        self.add(kind, section, key, path, subject, aspect, None if old is None else _text(old),
                 None if new is None else _text(new),
                 editorial=path.rsplit(".", 1)[-1] in _EDITORIAL)

    def attributes(self, section: str, key: str, path: str, subject: str, old: BaseModel,
                   new: BaseModel, words: dict[str, Callable[[Any, Any, str], None]]) -> None:
        """Each attribute that differs: worded by `words[name]`, else generically."""
        for name, info in type(new).model_fields.items():
            ov, nv = getattr(old, name), getattr(new, name)
            if same(ov, nv):
                continue
            where = f"{path}.{info.alias or name}"
            if name in words:
                words[name](ov, nv, where)
            elif name in ("title", "description", "label"):
                self.add("changed", section, key, where, subject, name,
                         f"“{ov}”" if ov else "none", f"“{nv}”" if nv else "none",
                         editorial=True)
            elif isinstance(ov, _CONDITIONS) and isinstance(nv, _CONDITIONS):
                inside = where.removeprefix(f"{section}.{key}.") if key else name
                self.tree(_Tree(section, key, where, subject,
                                " ".join(humanize(w).lower() for w in inside.split(".")) + ": ",
                                lambda effect: "neutral"), ov, nv)
            elif isinstance(ov, BaseModel) and type(ov) is type(nv):
                self.attributes(section, key, where, subject, ov, nv, {})
            else:
                self.generic(section, key, where, subject, ov, nv)

    def keyed(self, section: str, old: dict[str, Any], new: dict[str, Any],
              label: Callable[[AgreementSpec, str], str],
              summary: Callable[[AgreementSpec, Any], str],
              compare: Callable[[str, str, Any, Any], None],
              removed: Severity = "neutral") -> None:
        for key in [*old, *(k for k in new if k not in old)]:
            if key not in new:
                self.add("removed", section, key, f"{section}.{key}", label(self.b, key), "",
                         summary(self.b, old[key]), None, removed)
            elif key not in old:
                self.add("added", section, key, f"{section}.{key}", label(self.a, key), "",
                         None, summary(self.a, new[key]))
            elif not same(old[key], new[key]):
                compare(key, label(self.a, key), old[key], new[key])

    def said(self, section: str, key: str, subject: str, aspect: str,
             word: Callable[[AgreementSpec, Any], str] = lambda spec, value: _text(value),
             severity: Severity | Callable[[Any, Any], Severity] = "neutral",
             ) -> Callable[[Any, Any, str], None]:
        """How one attribute's change reads: `subject: aspect <before> → <after>`."""
        def record(old: Any, new: Any, where: str) -> None:
            self.add("changed", section, key, where, subject, aspect, word(self.b, old),
                     word(self.a, new), severity(old, new) if callable(severity) else severity)
        return record

    def order(self, section: str, key: str, path: str, subject: str, aspect: str,
              old: list[str], new: list[str]) -> None:
        common = [x for x in new if x in old]
        if [x for x in old if x in new] != common:
            self.add("changed", section, key, path, subject, aspect, list_text(old, "and"),
                     list_text(new, "and"))

    # ---- condition trees

    def tree(self, t: _Tree, old: Condition, new: Condition, rel: tuple[str | int, ...] = (),
             polarity: int = 1) -> None:
        if same(old, new):
            return
        path = ".".join([t.path, *map(str, rel)])
        if (isinstance(old, FieldCondition) and isinstance(new, FieldCondition)
                and old.field == new.field) or (
                isinstance(old, ScoreCondition) and isinstance(new, ScoreCondition)
                and old.score == new.score):
            subject, before = condition_parts(old, self.b)
            after = condition_parts(new, self.a)[1]
            effect = _flip(leaf_effect(old, new), polarity)
            # A test right under `not` says so: `not industry is retail → one of ...`.
            aspect = t.prefix + ("not " if rel[-1:] == ("not",) else "") + mid_sentence(subject)
            text = None
            if old.op == new.op and old.op in ("in", "not_in"):
                gained = [v for v in new.value if v not in old.value]
                dropped = [v for v in old.value if v not in new.value]
                edits = ([f"added {list_text(gained, 'and')}"] if gained else []) + (
                    [f"removed {list_text(dropped, 'and')}"] if dropped else [])
                text = (f"{t.subject}: {aspect} {'one' if old.op == 'in' else 'none'} of the "
                        "list: " + ("; ".join(edits) or "reordered"))
            self.add("changed", t.section, t.key, path, t.subject, aspect, before, after,
                     t.severity(effect), text=text)
            return
        if isinstance(old, AllCondition | AnyCondition) and type(old) is type(new):
            self.group(t, old, new, rel, polarity)
            return
        if (isinstance(old, NotCondition) and isinstance(new, NotCondition)
                and _comparable(old.not_, new.not_)):
            self.tree(t, old.not_, new.not_, (*rel, "not"), -polarity)
            return
        where = [p for p in rel if isinstance(p, int)]
        aspect = (t.prefix + (f"condition {_position(tuple(where[:-1]), where[-1])}" if where
                              else "")).strip().rstrip(":")
        before, after = describe_inline(old, self.b), describe_inline(new, self.a)
        self.add("changed", t.section, t.key, path, t.subject, aspect, before, after,
                 t.severity("mixed"),
                 text=f"{t.subject}: {aspect + ': ' if aspect else ''}{before} → {after}")

    def group(self, t: _Tree, old: AllCondition | AnyCondition,
              new: AllCondition | AnyCondition, rel: tuple[str | int, ...],
              polarity: int) -> None:
        """An `all`/`any` list: parts moved, changed in place, added and removed."""
        word = "all" if isinstance(old, AllCondition) else "any"
        olds, news = children(old), children(new)
        old_keys = [json.dumps(plain(c), sort_keys=True) for c in olds]
        new_keys = [json.dumps(plain(c), sort_keys=True) for c in news]
        blocks = [(list(range(i1, i2)), list(range(j1, j2))) for tag, i1, i2, j1, j2 in
                  SequenceMatcher(a=old_keys, b=new_keys, autojunk=False).get_opcodes()
                  if tag != "equal"]
        gone = [i for removed, _ in blocks for i in removed]
        moved: dict[int, int] = {}  # old position -> new position, for a part only moved
        for _, added in blocks:
            for j in added:
                i = next((i for i in gone if old_keys[i] == new_keys[j] and i not in moved),
                         None)
                if i is not None:
                    moved[i] = j
        here = (*rel, word)
        adds: Effect = _flip("narrows" if word == "all" else "widens", polarity)
        drops: Effect = "widens" if adds == "narrows" else "narrows"
        for i, j in moved.items():
            before, after = f"condition {_position(rel, i)}", f"condition {_position(rel, j)}"
            self.add("changed", t.section, t.key, ".".join([t.path, *map(str, here), str(j)]),
                     t.subject, f"{t.prefix}order", before, after, editorial=True,
                     text=f"{t.subject}: {t.prefix}{before} moved to {_position(rel, j)}")
        # Pairs compared part by part: the same test or group kind, wherever it moved; then
        # what stands in the same place; the rest was added or removed.
        pairs: dict[int, int] = {}
        left = [j for _, added in blocks for j in added if j not in moved.values()]
        for i in (i for i in gone if i not in moved):
            match = next((j for j in left if _comparable(olds[i], news[j])), None)
            if match is not None:
                pairs[i] = match
                left.remove(match)
        for block_removed, block_added in blocks:
            removed = [i for i in block_removed if i not in moved and i not in pairs]
            added = [j for j in block_added if j in left]
            pairs.update(zip(removed, added, strict=False))
        for i, j in sorted(pairs.items(), key=lambda pair: pair[1]):
            self.tree(t, olds[i], news[j], (*here, j), polarity)
        for i in (i for i in gone if i not in moved and i not in pairs):
            self.add("removed", t.section, t.key, ".".join([t.path, *map(str, here), str(i)]),
                     t.subject, f"{t.prefix}condition {_position(rel, i)}",
                     describe_inline(olds[i], self.b), None, t.severity(drops))
        for j in (j for _, added in blocks for j in added
                  if j not in moved.values() and j not in pairs.values()):
            self.add("added", t.section, t.key, ".".join([t.path, *map(str, here), str(j)]),
                     t.subject, f"{t.prefix}condition {_position(rel, j)}", None,
                     describe_inline(news[j], self.a), t.severity(adds))

    def optional_tree(self, t: _Tree, old: Condition | None, new: Condition | None,
                      added: Severity, removed: Severity) -> None:
        if old is None or new is None:
            kind: Kind = "added" if old is None else "removed"
            self.add(kind, t.section, t.key, t.path, t.subject, t.prefix.strip(),
                     describe_inline(old, self.b) if old is not None else None,
                     describe_inline(new, self.a) if new is not None else None,
                     added if old is None else removed)
        else:
            self.tree(t, old, new)


def _comparable(old: Condition, new: Condition) -> bool:
    """Whether two nodes are compared part by part (else the node is reported whole)."""
    if isinstance(old, FieldCondition) and isinstance(new, FieldCondition):
        return old.field == new.field
    if isinstance(old, ScoreCondition) and isinstance(new, ScoreCondition):
        return old.score == new.score
    return type(old) is type(new) and not isinstance(old, DefinitionCondition)


def _position(rel: tuple[str | int, ...], index: int) -> str:
    """`1.4`: the 4th condition of the group that is the 1st condition of the tree."""
    return ".".join([*(str(p + 1) for p in rel if isinstance(p, int)), str(index + 1)])


def _direct(effect: Effect) -> Severity:
    return "narrows" if effect == "mixed" else effect


def _commitment(effect: Effect) -> Severity:
    """A condition that says when a team must act: narrower is looser for that team."""
    return {"narrows": "loosens", "widens": "tightens", "mixed": "tightens"}[effect]  # type: ignore[return-value]


# ---------------------------------------------------------------- the sections


def _quoted(value: str | None) -> str:
    return f"“{value}”" if value else "none"


def _yes(spec: AgreementSpec, value: bool) -> str:
    return "yes" if value else "no"


def _field_word(spec: AgreementSpec, name: str | None) -> str:
    return f"“{field_label(spec, name)}”" if name else "none"


def _definition_word(spec: AgreementSpec, name: str | None) -> str:
    return definition_short_label(spec, name) if name else "nothing"


def _combine(effects: list[Effect]) -> Effect:
    return effects[0] if len(set(effects)) == 1 else "mixed"


def _top(d: _Differ, name: str) -> None:
    old, new = getattr(d.b, name), getattr(d.a, name)
    severity: Severity = "neutral"
    if name == "review":
        before, after = f"every {old.every_months} months", f"every {new.every_months} months"
    elif name in ("agreement", "description"):
        before, after = _quoted(old), _quoted(new)
    else:
        before, after = _text(old), _text(new)
        severity = "tightens" if name == "timezone" else "neutral"
    d.add("changed", "agreement", name, name, "Agreement", _TOP[name], before, after, severity,
          editorial=name in _EDITORIAL)


def _parties(d: _Differ, name: str) -> None:
    def compare(key: str, label: str, old: Any, new: Any) -> None:
        def lead(ov: Any, nv: Any, where: str) -> None:
            subject = f"{label} lead"
            d.attributes("parties", key, where, subject, ov, nv,
                         {"name": d.said("parties", key, subject, "")})
        d.attributes("parties", key, f"parties.{key}", label, old, new, {"lead": lead})

    d.keyed("parties", d.b.parties, d.a.parties, party_label,
            lambda s, p: f"led by {describe_person(p.lead)}", compare)


def _minutes(intervals: list[Interval] | None) -> int:
    return sum(i.minutes for i in intervals or [])


def _more_time(old: int, new: int) -> Severity:
    """Open hours: more of them run a business clock faster, which tightens its levels."""
    return "tightens" if new > old else "loosens" if new < old else "tightens"


def _calendars(d: _Differ, name: str) -> None:
    def compare(key: str, label: str, old: Any, new: Any) -> None:
        def hours(ov: Any, nv: Any, where: str) -> None:
            for day in WEEKDAYS:
                o, n = ov.get(day), nv.get(day)
                if not same(o, n):
                    d.add("changed", "calendars", key, f"{where}.{day}", label,
                          _WEEKDAY_NAMES[day], hours_text(o), hours_text(n),
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
        days = [f"{_WEEKDAY_NAMES[day][:3]} {hours_text(calendar.hours.get(day))}"
                for day in WEEKDAYS if calendar.hours.get(day)]
        return "; ".join(days) + f"; {len(calendar.holidays)} holidays"

    d.keyed("calendars", d.b.calendars, d.a.calendars, calendar_label, summary, compare)


def _fields(d: _Differ, name: str) -> None:
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
                effect = _combine(marks or ["mixed"])
                edits = ([f"added {list_text(gained, 'and')}"] if gained else []) + (
                    [f"removed {list_text(dropped, 'and')}"] if dropped else [])
                text = f"{subject}: allowed values: " + ("; ".join(edits) or "reordered")
            else:
                effect = "narrows" if o is None else "widens"
            d.add("changed", "fields", key, where, subject, "allowed values",
                  "any value" if o is None else list_text(o, "and"),
                  "any value" if n is None else list_text(n, "and"), _direct(effect), text=text)

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


def _definitions(d: _Differ, name: str) -> None:
    def compare(key: str, label: str, old: Any, new: Any) -> None:
        tree = _Tree("definitions", key, f"definitions.{key}.when", label, "", _direct)
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
        effects.append(_ordered(o.points_each, n.points_each, "widens"))
    for bound, cap in (("max", True), ("min", False)):
        ov, nv = getattr(o, bound), getattr(n, bound)
        if same(ov, nv):
            continue
        if ov is None or nv is None:
            effects.append("narrows" if (ov is None) == cap else "widens")
        else:
            effects.append(_ordered(ov, nv, "widens"))
    return _combine(effects)


def _rules(d: _Differ, key: str, label: str, olds: list[Any], news: list[Any],
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
                  _direct(_flip(_adds_points(olds[k]), -1)))
        for k in range(j1 + pairs, j2):
            d.add("added", "scores", key, f"{where}.{k}", label, _rule_name(news[k], k), None,
                  describe_rule(news[k], d.a), _direct(_adds_points(news[k])))


def _rule(d: _Differ, key: str, label: str, o: Any, n: Any, where: str, index: int) -> None:
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
        tree = _Tree("scores", key, f"{where}.when", subject, "when ",
                     lambda e: _direct(_flip(e, sign)))
        words["points"] = lambda ov, nv, w: d.add(
            "changed", "scores", key, w, subject, "", points_text(ov), points_text(nv),
            _direct(_ordered(ov, nv, "widens")))
        words["when"] = lambda ov, nv, w: d.tree(tree, ov, nv)
    else:
        core = ("field", "points_each", "max", "min")
        if any(not same(getattr(o, a), getattr(n, a)) for a in core):
            d.add("changed", "scores", key, where, subject, "", describe_rule(o, d.b),
                  describe_rule(n, d.a), _direct(_per_value_effect(o, n)))
        words.update(dict.fromkeys(core, skip))
    d.attributes("scores", key, where, subject, o, n, words)


def _bands(d: _Differ, key: str, label: str, olds: list[Any], news: list[Any],
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


def _scores(d: _Differ, name: str) -> None:
    def compare(key: str, label: str, old: Any, new: Any) -> None:
        d.attributes("scores", key, f"scores.{key}", label, old, new, {
            "rules": lambda o, n, w: _rules(d, key, label, o, n, w),
            "bands": lambda o, n, w: _bands(d, key, label, o, n, w)})

    d.keyed("scores", d.b.scores, d.a.scores, score_label,
            lambda s, x: "; ".join(describe_rule(r, s) for r in x.rules), compare)


def _stages(d: _Differ, name: str) -> None:
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


def _service_levels(d: _Differ, name: str) -> None:
    def compare(key: str, label: str, old: Any, new: Any) -> None:
        def within(o: Duration, n: Duration, w: str) -> None:
            a, b = _seconds(o), _seconds(n)
            if a is None or b is None:
                a, b = (o.amount, n.amount) if o.unit == n.unit else (None, None)
            effect = "mixed" if a is None else _ordered(a, b, "widens")
            d.add("changed", "service_levels", key, w, label, "",
                  allowance_text(o, old.calendar is not None),
                  allowance_text(n, new.calendar is not None), _commitment(_flip(effect, -1)))

        def stops(o: list[str], n: list[str], w: str) -> None:
            effect: Effect = ("widens" if set(o) < set(n) else "narrows" if set(n) < set(o)
                              else "mixed")
            severity = "neutral" if set(o) == set(n) else _commitment(_flip(effect, -1))
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

        tree = _Tree("service_levels", key, f"service_levels.{key}.applies_when", label,
                     "applies when ", _commitment)
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
    effects = [_ordered(getattr(o, b), getattr(n, b), e) for b, e in bounds
               if not same(getattr(o, b), getattr(n, b))
               and getattr(o, b) is not None and getattr(n, b) is not None]
    effect = _combine(effects or ["mixed"])
    return "loosens" if effect == "widens" else "tightens"


def _kpis(d: _Differ, name: str) -> None:
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


def _dispositions(d: _Differ, name: str) -> None:
    def compare(key: str, label: str, old: Any, new: Any) -> None:
        d.attributes("dispositions", key, f"dispositions.{key}", label, old, new, {
            "returns_to": d.said("dispositions", key, label, "returns to", stage_label),
            "lead_guarantee": d.said("dispositions", key, label, "covered by the lead guarantee",
                                     _yes, lambda o, n: "tightens" if n else "loosens")})

    d.keyed("dispositions", d.b.dispositions, d.a.dispositions,
            lambda s, k: s.dispositions[k].title, lambda s, x: describe_disposition(x, s),
            compare)


def _recycle(d: _Differ, name: str) -> None:
    def compare(key: str, label: str, old: Any, new: Any) -> None:
        tree = _Tree("recycle", key, f"recycle.{key}.when", label, "when ", _commitment)
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


def _lead_guarantee(d: _Differ, name: str) -> None:
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


SECTION_DIFFS: dict[str, Callable[[_Differ, str], None]] = {
    **dict.fromkeys(_TOP, _top), "parties": _parties, "calendars": _calendars,
    "fields": _fields, "definitions": _definitions, "scores": _scores, "stages": _stages,
    "service_levels": _service_levels, "kpis": _kpis, "dispositions": _dispositions,
    "recycle": _recycle, "lead_guarantee": _lead_guarantee,
}


@dataclass(frozen=True)
class Consequence:
    """A definition or service level that nobody edited, changed through one that was:
    `ICP fit` narrows because the `Excluded contact` it excludes widens."""

    section: str
    key: str
    subject: str
    severity: Severity
    through: str  # the edited entry it follows from

    @property
    def text(self) -> str:
        return f"{self.subject} {self.severity}, through {self.through}"

    def to_json(self) -> dict[str, Any]:
        return {"section": self.section, "key": self.key, "subject": self.subject,
                "severity": self.severity, "through": self.through, "text": self.text}


@dataclass
class AgreementDiff:
    """The changes between two agreements, and what they imply for the entries using them."""

    before: AgreementSpec
    after: AgreementSpec
    changes: list[Change] = field(default_factory=list)
    consequences: list[Consequence] = field(default_factory=list)

    @property
    def bump(self) -> Bump:
        return suggested_bump(self.changes, self.consequences)

    def by_section(self) -> Iterator[tuple[str, list[Change]]]:
        for section in [*SECTIONS, *sorted({c.section for c in self.changes} - set(SECTIONS))]:
            found = [c for c in self.changes if c.section == section]
            if found:
                yield section, found


def _uses(node: Condition, polarity: int, definitions: dict[str, Effect],
          scores: dict[str, Effect]) -> Iterator[tuple[Effect, str, str]]:
    """The effects reaching a condition through the definitions and scores it uses."""
    if isinstance(node, DefinitionCondition) and node.definition in definitions:
        yield _flip(definitions[node.definition], polarity), "definitions", node.definition
    elif isinstance(node, ScoreCondition) and node.score in scores:
        up = scores[node.score]  # `widens`: scores go up
        effect: Effect = (up if node.op in ("gt", "gte") else _flip(up, -1)
                          if node.op in ("lt", "lte") else "mixed")
        yield _flip(effect, polarity), "scores", node.score
    elif isinstance(node, NotCondition):
        yield from _uses(node.not_, -polarity, definitions, scores)
    elif isinstance(node, AllCondition | AnyCondition):
        for child in children(node):
            yield from _uses(child, polarity, definitions, scores)


def consequences(diff: AgreementDiff) -> list[Consequence]:
    """Definitions that narrow and service levels that tighten only through what they use."""
    spec = diff.after
    effects: dict[str, Effect] = {}
    scores: dict[str, Effect] = {}
    for change in diff.changes:
        if change.severity in ("narrows", "widens") and change.section in (
                "definitions", "scores") and change.key in getattr(spec, change.section):
            target = effects if change.section == "definitions" else scores
            previous = target.get(change.key)
            target[change.key] = (change.severity if previous in (None, change.severity)
                                  else "mixed")
    direct = dict(effects)
    labels: dict[str, tuple[Effect, str, str]] = {}
    for _ in range(len(spec.definitions) + 1):  # definitions use each other without cycles
        for name, definition in spec.definitions.items():
            found = list(_uses(definition.when, 1, effects, scores))
            if not found:
                continue
            marks = {e for e, _, _ in found} | ({direct[name]} if name in direct else set())
            effects[name] = marks.pop() if len(marks) == 1 else "mixed"
            if name not in direct:
                labels[name] = found[0]
    out: list[Consequence] = []
    for name, (_, section, through) in labels.items():
        if effects[name] != "widens":
            out.append(Consequence("definitions", name, definition_short_label(spec, name),
                                   _direct(effects[name]), _label(spec, section, through)))
    for name, level in spec.service_levels.items():
        if level.applies_when is None:
            continue
        reached = list(_uses(level.applies_when, 1, effects, scores))
        severity = _commitment(_combine([e for e, _, _ in reached])) if reached else None
        if severity == "tightens":
            out.append(Consequence("service_levels", name, level.title, severity,
                                   _label(spec, reached[0][1], reached[0][2])))
    return out


def _label(spec: AgreementSpec, section: str, key: str) -> str:
    return definition_short_label(spec, key) if section == "definitions" else score_label(
        spec, key)


def diff_agreements(before: AgreementSpec, after: AgreementSpec) -> AgreementDiff:
    """Every change of meaning from `before` to `after`, section by section."""
    differ = _Differ(before, after)
    old, new = plain(before), plain(after)
    for name in [*old, *(k for k in new if k not in old)]:
        if same(old.get(name), new.get(name)):
            continue
        count = len(differ.changes)
        handler = SECTION_DIFFS.get(name)
        if handler is not None:
            handler(differ, name)
        if len(differ.changes) == count:  # nothing worded it: say it generically
            section = name if name in SECTIONS else "agreement"
            differ.generic(section, "" if section == "agreement" else name, name,
                           SECTIONS.get(name, "Agreement"), old.get(name), new.get(name))
    result = AgreementDiff(before, after, differ.changes)
    result.consequences = consequences(result)
    return result


def suggested_bump(changes: list[Change], implied: list[Consequence] | None = None) -> Bump:
    """major: a definition (or a score it uses) narrows, or a service level (or its calendar)
    tightens, directly or through what it uses; minor: anything else but wording; patch:
    wording only; none: no change."""
    if not changes:
        return "none"
    if implied or any(c.severity in ("narrows", "tightens") and c.section in MAJOR_SECTIONS
                      for c in changes):
        return "major"
    return "minor" if any(not c.editorial for c in changes) else "patch"


def bump_version(version: str, bump: Bump) -> str:
    """`2.2.0` + minor → `2.3.0`; a version that is not semver is returned as it is."""
    key = semver_key(version)
    if key is None or bump in ("none",):
        return version
    major, minor, patch = key
    if bump == "major":
        return f"{major + 1}.0.0"
    if bump == "minor":
        return f"{major}.{minor + 1}.0"
    return f"{major}.{minor}.{patch + 1}"


__all__ = [
    "MAJOR_SECTIONS", "SECTIONS", "AgreementDiff", "Bump", "Change", "Consequence", "Kind",
    "Severity", "bump_version", "consequences", "diff_agreements", "leaf_effect", "plain",
    "same", "suggested_bump",
]
