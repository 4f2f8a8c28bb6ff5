"""Agreement tests name only what the agreement defines."""

from __future__ import annotations

from collections.abc import Iterator

from ..diagnostics import Diagnostic
from .base import CheckContext


def check_test_cases(ctx: CheckContext) -> Iterator[Diagnostic]:
    spec = ctx.spec
    bands = {name: [b.label for b in score.bands] for name, score in spec.scores.items()}
    for i, suite in enumerate(ctx.tests):
        for j, case in enumerate(suite.cases):
            base = ("tests", i, "cases", j)
            for field in case.lead:
                yield from ctx.field_ref(field, (*base, "lead", field))
            expect = case.expect
            exp = (*base, "expect")
            for name in expect.definitions:
                if name not in spec.definitions:
                    yield ctx.unknown("definition", name, list(spec.definitions),
                                      (*exp, "definitions", name))
            for section in ("scores", "bands"):
                for name in getattr(expect, section):
                    if name not in spec.scores:
                        yield ctx.unknown("score", name, list(spec.scores), (*exp, section, name))
            for name, label in expect.bands.items():
                if name in bands and label is not None and label not in bands[name]:
                    yield ctx.unknown("band", label, bands[name], (*exp, "bands", name))
            if expect.stage is not None and ctx.stage_ids() and expect.stage not in ctx.stage_ids():
                yield ctx.unknown("stage", expect.stage, ctx.stage_ids(), (*exp, "stage"))
            if expect.owner is not None:
                yield from ctx.party_ref(expect.owner, (*exp, "owner"))
            for name in expect.service_levels:
                if name not in spec.service_levels:
                    yield ctx.unknown("service level", name, list(spec.service_levels),
                                      (*exp, "service_levels", name))
