"""Leads due to go back to marketing, and leads whose handoff earns sales a guarantee credit."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..agreement.describe import definition_label, stage_named
from ..agreement.models import AgreementSpec


@dataclass(frozen=True, slots=True)
class Recycle:
    """The lead must return to stage `to`: a recycle rule holds, or its disposition says so."""

    to: str
    reason: str  # `rule` or `disposition`
    source: str  # the rule's id or the disposition code
    message: str

    def to_json(self) -> dict[str, Any]:
        return {"to": self.to, "reason": self.reason, "source": self.source,
                "message": self.message}


@dataclass(frozen=True, slots=True)
class Credit:
    """Sales is credited for a lead marketing handed over against the lead guarantee."""

    reason: str  # `requirement-unmet` or `disposition`
    source: str  # the definition the lead failed, or the disposition code
    message: str

    def to_json(self) -> dict[str, Any]:
        return {"reason": self.reason, "source": self.source, "message": self.message}


class Recycling:
    """The agreement's recycle rules, disposition routes and lead guarantee, worked out once."""

    def __init__(self, spec: AgreementSpec, extra_paths: Sequence[tuple[str, str]]):
        field = spec.disposition_field
        self.disposition_field = field if field in spec.fields else None
        index = {name: i for i, (section, name) in enumerate(extra_paths) if section == "recycle"}
        self.rules = tuple((index[name], name, rule.returns_to, rule.title)
                           for name, rule in spec.recycle.items())
        self.routes = {code: (d.returns_to, d.title) for code, d in spec.dispositions.items()}
        targets = {rule[2] for rule in self.rules} | {to for to, _ in self.routes.values()}
        self.stage_names = {to: stage_named(spec, to) for to in targets}
        guarantee = spec.lead_guarantee
        self.handoff = guarantee.handoff if guarantee else None
        self.requires = guarantee.requires if guarantee else None
        self.requires_label = definition_label(spec, self.requires) if self.requires else ""
        self.guaranteed = frozenset(code for code, d in spec.dispositions.items()
                                    if d.lead_guarantee) if guarantee else frozenset()
        self.active = bool(self.rules or (self.disposition_field and self.routes)
                           or self.handoff)

    def recycle(self, values: Mapping[str, Any], stage: str | None,
                extras: tuple[bool, ...]) -> Recycle | None:
        """Where the lead must go, when it is not there yet: its disposition first, then
        the first recycle rule (in the agreement's order) that holds."""
        code = values.get(self.disposition_field) if self.disposition_field else None
        route = self.routes.get(code) if code is not None else None
        if route is not None and route[0] != stage:
            return Recycle(route[0], "disposition", str(code),
                           f"disposition `{code}` ({route[1]}) returns the lead to "
                           f"{self.stage_names[route[0]]}")
        for i, name, to, title in self.rules:
            if extras[i] and to != stage:
                return Recycle(to, "rule", name,
                              f"{title}: return the lead to {self.stage_names[to]}")
        return None

    def credit(self, values: Mapping[str, Any], verdicts: Mapping[str, bool]) -> Credit | None:
        """A credit for sales when a lead it was handed breaks the lead guarantee."""
        if self.handoff is None or values.get(self.handoff) is None:
            return None
        code = values.get(self.disposition_field) if self.disposition_field else None
        if code is not None and code in self.guaranteed:
            title = self.routes[code][1]
            return Credit("disposition", str(code),
                          f"rejected as `{code}` ({title}), a disposition the lead guarantee "
                          "covers")
        if self.requires is not None and not verdicts[self.requires]:
            return Credit("requirement-unmet", self.requires,
                          f"handed to sales without meeting {self.requires_label}")
        return None
