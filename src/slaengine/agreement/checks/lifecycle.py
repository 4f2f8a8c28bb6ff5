"""The lifecycle: stages with known owners, timestamps and requirements; dispositions that land."""

from __future__ import annotations

from collections.abc import Iterator

from ..diagnostics import Diagnostic, error
from .base import CheckContext


def check_stages(ctx: CheckContext) -> Iterator[Diagnostic]:
    spec = ctx.spec
    if not spec.stages:
        yield from _missing_stages(ctx)
    seen: dict[str, int] = {}
    for i, stage in enumerate(spec.stages):
        path = ("stages", i)
        if stage.id in seen:
            yield error("duplicate-stage", f"stage `{stage.id}` is listed twice",
                        ctx.at((*path, "id")), f"it is already stage {seen[stage.id] + 1}")
        seen.setdefault(stage.id, i)
        if stage.owner is not None:
            yield from ctx.party_ref(stage.owner, (*path, "owner"))
        if stage.entered_at is not None:
            yield from ctx.timestamp_ref(stage.entered_at, (*path, "entered_at"),
                                         "stage entry time")
        if stage.requires is not None and stage.requires not in spec.definitions:
            yield ctx.unknown("definition", stage.requires, list(spec.definitions),
                              (*path, "requires"))


def _missing_stages(ctx: CheckContext) -> Iterator[Diagnostic]:
    """No lifecycle at all: one error naming the section, not one per stage it would define."""
    users = [what for what, used in (
        ("dispositions", ctx.spec.dispositions), ("recycling rules", ctx.spec.recycle),
        ("agreement tests", any(case.expect.stage for suite in ctx.tests
                                for case in suite.cases))) if used]
    if users:
        yield error("missing-section",
                    "the agreement has no `stages` section, but its "
                    + (", ".join(users[:-1]) + " and " if len(users) > 1 else "") + users[-1]
                    + " name stages", ctx.at(()),
                    "restore lifecycle.yaml, or add `stages:` listing the stages in funnel order")


def check_dispositions(ctx: CheckContext) -> Iterator[Diagnostic]:
    stages = ctx.stage_ids()
    for name, disposition in ctx.spec.dispositions.items():
        if stages and disposition.returns_to not in stages:
            yield ctx.unknown("stage", disposition.returns_to, stages,
                              ("dispositions", name, "returns_to"),
                              "a disposition returns the lead to one of the lifecycle stages")
    if any(s.requires_disposition for s in ctx.spec.stages) and not ctx.spec.dispositions:
        index = next(i for i, s in enumerate(ctx.spec.stages) if s.requires_disposition)
        yield error("missing-dispositions",
                    f"stage `{ctx.spec.stages[index].id}` requires a disposition, "
                    "but the agreement defines none",
                    ctx.at(("stages", index, "requires_disposition")),
                    "add a `dispositions:` section with the codes sales may use")


def check_recycling(ctx: CheckContext) -> Iterator[Diagnostic]:
    spec, stages = ctx.spec, ctx.stage_ids()
    for name, rule in spec.recycle.items():
        if stages and rule.returns_to not in stages:
            yield ctx.unknown("stage", rule.returns_to, stages, ("recycle", name, "returns_to"),
                              "a recycled lead returns to one of the lifecycle stages")
    guarantee = spec.lead_guarantee
    if guarantee is None:
        return
    yield from ctx.timestamp_ref(guarantee.handoff, ("lead_guarantee", "handoff"),
                                 "handoff time")
    if guarantee.requires is not None and guarantee.requires not in spec.definitions:
        yield ctx.unknown("definition", guarantee.requires, list(spec.definitions),
                          ("lead_guarantee", "requires"))
    if guarantee.requires is None and not any(d.lead_guarantee
                                              for d in spec.dispositions.values()):
        yield error("empty-lead-guarantee",
                    "the lead guarantee names no definition and no disposition is marked "
                    "`lead_guarantee`, so no lead can ever earn a credit",
                    ctx.at(("lead_guarantee",)),
                    "add `requires: icp_fit`, or mark the dispositions it covers")
