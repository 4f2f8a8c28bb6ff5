"""Changes between two agreements: the `Change` record, the effect of a changed test
(narrows/widens), and the `Differ` that words them; the sections use it."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from difflib import SequenceMatcher
from typing import Any, Literal

from pydantic import BaseModel

from ..agreement.describe import (
    condition_parts,
    describe_inline,
    humanize,
    list_text,
    mid_sentence,
    value_text,
)
from ..agreement.models import AgreementSpec
from ..agreement.models.common import Duration, Interval
from ..agreement.models.conditions import (
    AllCondition,
    AnyCondition,
    Condition,
    DefinitionCondition,
    FieldCondition,
    NotCondition,
    ScoreCondition,
    children,
)
from ..agreement.models.sections import WEEKDAYS
from ..agreement.phrases import structured_text

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
TOP_LEVEL = {"agreement": "name", "version": "version", "effective": "effective date",
        "description": "description", "timezone": "timezone", "review": "review cadence",
        "stage_field": "stage field", "disposition_field": "disposition field"}
EDITORIAL = frozenset({"title", "description", "label", "agreement", "version", "handle",
                        "email", "name"})
# Where a narrowing or tightening breaks what people rely on: a major version.
MAJOR_SECTIONS = frozenset({"definitions", "scores", "service_levels", "calendars"})
WEEKDAY_NAMES = dict(zip(WEEKDAYS, ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
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


def text_of(value: Any, spec: AgreementSpec | None = None) -> str:
    """A value of either version in words (conditions described, never JSON)."""
    if value is None:
        return "none"
    if isinstance(value, BaseModel | dict) or (
            isinstance(value, list) and any(isinstance(v, BaseModel | dict) for v in value)):
        return structured_text(plain(value), spec)
    return value_text(value)


def text_of_in(spec: AgreementSpec, value: Any) -> str:
    return text_of(value, spec)


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
class Tree:
    """How one condition tree's changes are reported: its owner, and what narrowing means."""

    section: str
    key: str
    path: str
    subject: str
    prefix: str  # `applies when `, `when `, ""
    severity: Callable[[Effect], Severity]


def flip(effect: Effect, polarity: int) -> Effect:
    if polarity > 0 or effect == "mixed":
        return effect
    return "widens" if effect == "narrows" else "narrows"


def ordered(old: Any, new: Any, higher: Effect) -> Effect:
    """The effect of a bound moving up (`higher`) or down; mixed when not comparable."""
    try:
        if new > old:
            return higher
        if new < old:
            return "widens" if higher == "narrows" else "narrows"
    except TypeError:
        pass
    return "mixed"


def seconds_of(value: Duration) -> float | None:
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
        return ordered(ov, nv, "narrows")
    if op in ("lt", "lte"):
        return ordered(ov, nv, "widens")
    if op == "between":
        lower, upper = ordered(ov[0], nv[0], "narrows"), ordered(ov[1], nv[1], "widens")
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
        a, b = seconds_of(ov), seconds_of(nv)
        if a is None or b is None:
            a, b = (ov.amount, nv.amount) if ov.unit == nv.unit else (None, None)
        return "mixed" if a is None else ordered(a, b, "widens" if op == "within" else "narrows")
    return "mixed"


class Differ:
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
        self.add(kind, section, key, path, subject, aspect,
                 None if old is None else text_of(old, self.b),
                 None if new is None else text_of(new, self.a),
                 editorial=path.rsplit(".", 1)[-1] in EDITORIAL)

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
                self.tree(Tree(section, key, where, subject,
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
             word: Callable[[AgreementSpec, Any], str] = text_of_in,
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

    def tree(self, t: Tree, old: Condition, new: Condition, rel: tuple[str | int, ...] = (),
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
            effect = flip(leaf_effect(old, new), polarity)
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

    def group(self, t: Tree, old: AllCondition | AnyCondition,
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
        adds: Effect = flip("narrows" if word == "all" else "widens", polarity)
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

    def optional_tree(self, t: Tree, old: Condition | None, new: Condition | None,
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


def direct_severity(effect: Effect) -> Severity:
    return "narrows" if effect == "mixed" else effect


def commitment_severity(effect: Effect) -> Severity:
    """A condition that says when a team must act: narrower is looser for that team."""
    return {"narrows": "loosens", "widens": "tightens", "mixed": "tightens"}[effect]  # type: ignore[return-value]


