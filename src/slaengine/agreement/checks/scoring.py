"""Scores: numeric per-value rules, and bands that cover every score once, in order."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator

from ..diagnostics import Diagnostic, error, warning
from ..models.sections import Band, PerValueRule, PointsRule, Score
from .base import NUMERIC_TYPES, CheckContext


def score_range(score: Score) -> tuple[float, float]:
    """The lowest and highest total a score can reach (per-value fields taken as counts, >= 0)."""
    low = high = 0.0
    for rule in score.rules:
        if isinstance(rule, PointsRule):
            low += min(0, rule.points)
            high += max(0, rule.points)
        elif isinstance(rule, PerValueRule):
            each = rule.points_each
            floor = 0.0 if each >= 0 else -math.inf
            rule_low = min(0.0, rule.min) if rule.min is not None else floor
            rule_high = rule.max if rule.max is not None else (math.inf if each > 0 else 0.0)
            low += rule_low
            high += rule_high
    return low, high


def _lower(band: Band) -> float:
    return -math.inf if band.from_ is None else band.from_


def _upper(band: Band) -> float:
    return math.inf if band.below is None else band.below


def _num(value: float) -> str:
    return f"{value:g}"


def check_score_rules(ctx: CheckContext) -> Iterator[Diagnostic]:
    for name, score in ctx.spec.scores.items():
        for i, rule in enumerate(score.rules):
            if not isinstance(rule, PerValueRule):
                continue
            path = ("scores", name, "rules", i)
            spec = ctx.spec.fields.get(rule.field)
            if spec is None:
                yield from ctx.field_ref(rule.field, (*path, "field"))
            elif spec.type not in NUMERIC_TYPES:
                yield error("not-numeric",
                            f"`points_each` needs a numeric field; `{rule.field}` is {spec.type}",
                            ctx.at((*path, "field")),
                            "use `{when: ..., points: N}` for a yes/no signal")
            if rule.max is not None and rule.min is not None and rule.min > rule.max:
                yield error("empty-range", f"`min: {_num(rule.min)}` is above "
                                           f"`max: {_num(rule.max)}`", ctx.at((*path, "min")))


def check_bands(ctx: CheckContext) -> Iterator[Diagnostic]:
    for name, score in ctx.spec.scores.items():
        bands = score.bands
        if not bands:
            continue
        base = ("scores", name, "bands")
        labels: dict[str, int] = {}
        for i, band in enumerate(bands):
            if band.label in labels:
                yield error("duplicate-band", f"band `{band.label}` is defined twice",
                            ctx.at((*base, i, "label")), "give each band its own label")
            labels.setdefault(band.label, i)
            if _lower(band) >= _upper(band):
                yield error("empty-band", f"band `{band.label}` holds no score: `from` "
                                          f"{_num(_lower(band))} is not below {_num(_upper(band))}",
                            ctx.at((*base, i)))
        order = sorted(range(len(bands)), key=lambda i: (_lower(bands[i]), _upper(bands[i])))
        if order != list(range(len(bands))):
            yield warning("band-order", f"the bands of `{name}` are not listed from low to high",
                          ctx.at(base), "list bands in ascending order so they read naturally")
        for prev_i, next_i in itertools.pairwise(order):
            prev, nxt = bands[prev_i], bands[next_i]
            top, bottom = _upper(prev), _lower(nxt)
            if top < bottom:
                yield error("band-gap",
                            f"scores from {_num(top)} to below {_num(bottom)} fall in no band "
                            f"(between `{prev.label}` and `{nxt.label}`)",
                            ctx.at((*base, next_i)),
                            f"start `{nxt.label}` at `from: {_num(top)}`")
            elif top > bottom:
                yield error("band-overlap",
                            f"bands `{prev.label}` and `{nxt.label}` overlap from {_num(bottom)} "
                            f"to below {_num(top)}", ctx.at((*base, next_i)),
                            f"start `{nxt.label}` where `{prev.label}` ends")
        low, high = score_range(score)
        first, last = bands[order[0]], bands[order[-1]]
        if _lower(first) > low:
            yield warning("band-coverage",
                          f"scores below {_num(_lower(first))} fall in no band of `{name}` "
                          f"(the lowest possible score is {_num(low)})",
                          ctx.at((*base, order[0])), f"drop `from` on `{first.label}`")
        if _upper(last) <= high:
            yield warning("band-coverage",
                          f"scores of {_num(_upper(last))} and above fall in no band of `{name}` "
                          f"(the highest possible score is {_num(high)})",
                          ctx.at((*base, order[-1])), f"drop `below` on `{last.label}`")
        rates = [(bands[i].label, bands[i].expected_conversion) for i in order]
        known = [(label, r) for label, r in rates if r is not None]
        for (lo_label, lo_rate), (hi_label, hi_rate) in itertools.pairwise(known):
            if hi_rate < lo_rate:
                yield warning("band-conversion-order",
                              f"band `{hi_label}` expects a lower conversion ({hi_rate:.0%}) than "
                              f"the lower band `{lo_label}` ({lo_rate:.0%})",
                              ctx.at((*base, labels[hi_label], "expected_conversion")),
                              "a higher score should mean a likelier conversion")
