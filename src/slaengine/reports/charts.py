"""Static SVG charts drawn by matplotlib, byte-for-byte the same on every run.

Figures are built with `matplotlib.figure.Figure` (no pyplot, no display, no global figure
list) and written by the SVG backend under fixed rcParams: text stays text (`svg.fonttype:
none`, so the page's sans-serif font draws it and nothing is embedded), the ids matplotlib
hashes for clip paths and markers are salted with the chart's name, and the metadata carries
no date. Every id is prefixed with the chart's name as well, so several charts can be inlined
in one HTML page without clashing. matplotlib's rcParams are global: charts are drawn one at
a time, not from several threads.

`monthly_charts(report)` draws the five charts of the monthly report from the same numbers
its tables show; each `Chart` carries a title and a one-line text alternative.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any, Final

import matplotlib
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, PercentFormatter

from ..agreement.describe import humanize
from .monthly import MonthlyReport

__all__ = ["PALETTE", "Chart", "Panel", "bars", "grouped_bars", "lines", "monthly_charts",
           "stacked_bars"]

# Okabe-Ito: distinguishable with the common colour-vision deficiencies
PALETTE: Final = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
                  "#000000")
_RC: Final[dict[str, Any]] = {
    "svg.fonttype": "none",
    "svg.image_inline": True,
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans"],  # the metrics used for layout; bundled with matplotlib
    "font.size": 9.0,
    "axes.titlesize": 11.0,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.labelsize": 9.0,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": "#555555",
    "axes.grid": False,
    "legend.frameon": False,
    "legend.fontsize": 8.0,
    "figure.dpi": 72.0,
    "savefig.dpi": 72.0,
    "figure.facecolor": "white",
    "path.simplify": False,
}
_METADATA: Final = {"Date": None, "Creator": None, "Format": None, "Type": None}
_SIZE: Final = (7.2, 3.6)


@dataclass(frozen=True)
class Chart:
    """One chart: `name` (the file suffix and id prefix), its title, SVG text and alternative."""

    name: str
    title: str
    svg: str
    alt: str

    def inline(self) -> str:
        """The SVG for an HTML page: no XML prolog or DOCTYPE, no namespace URLs (HTML knows
        them), labelled as one image for screen readers."""
        body = self.svg[self.svg.index("<svg"):]
        body = re.sub(r'\s+xmlns(:xlink)?="[^"]*"', "", body, count=2)
        label = escape(f"{self.title}. {self.alt}", quote=True)
        return body.replace("<svg", f'<svg role="img" aria-label="{label}"', 1).strip()


def _figure(name: str, columns: int = 1) -> tuple[Figure, list[Axes]]:
    fig = Figure(figsize=_SIZE, layout="constrained")
    axes = fig.subplots(1, columns, squeeze=False)[0]
    return fig, list(axes)


def _svg(fig: Figure, name: str) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata=_METADATA)
    text = buffer.getvalue()
    # ids unique per chart: definitions and every reference to them
    text = re.sub(r'\bid="', f'id="{name}-', text)
    text = text.replace("url(#", f"url(#{name}-").replace('href="#', f'href="#{name}-')
    return text


def _draw(name: str, paint: Callable[[], Figure]) -> str:
    """Build and write one figure under the fixed rcParams (they apply at creation time)."""
    rc: Any = {**_RC, "svg.hashsalt": f"slaengine-{name}"}  # typed keys: a Literal per rcParam
    with matplotlib.rc_context(rc):
        return _svg(paint(), name)


def _empty(ax: Axes, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="#555555")
    ax.set_xticks([])
    ax.set_yticks([])


def _finish(ax: Axes, title: str, xlabel: str, ylabel: str) -> None:
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)


# ---------------------------------------------------------------- chart kinds


def bars(name: str, title: str, labels: Sequence[str], values: Sequence[float | None], *,
         xlabel: str, ylabel: str, empty: str, percent: bool = False,
         notes: Sequence[str] | None = None) -> str:
    """Horizontal bars, first label on top; `notes` written at the end of each bar."""
    def paint() -> Figure:
        fig, (ax,) = _figure(name)
        _finish(ax, title, xlabel, ylabel)
        if not labels:
            _empty(ax, empty)
            return fig
        heights = [0.0 if v is None else float(v) for v in values]
        positions = range(len(labels))
        ax.barh(positions, heights, color=PALETTE[0], height=0.6)
        ax.set_yticks(list(positions), list(labels))
        ax.invert_yaxis()
        top = max(heights, default=0.0)
        if percent:
            ax.xaxis.set_major_formatter(PercentFormatter(1.0))
            ax.set_xlim(0, max(1.0, top) * 1.15)
        else:
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.set_xlim(0, max(1.0, top) * 1.15)
        for i, v in enumerate(values):
            text = notes[i] if notes is not None else ("—" if v is None else f"{v:,}")
            ax.text(heights[i], i, f" {text}", va="center", fontsize=8)
        return fig

    return _draw(name, paint)


def stacked_bars(name: str, title: str, labels: Sequence[str],
                 stacks: Mapping[str, Sequence[int]], *, xlabel: str, ylabel: str,
                 empty: str) -> str:
    """Horizontal stacked bars: one bar per label, one colour per stack."""
    def paint() -> Figure:
        fig, (ax,) = _figure(name)
        _finish(ax, title, xlabel, ylabel)
        if not labels:
            _empty(ax, empty)
            return fig
        positions = list(range(len(labels)))
        left = [0.0] * len(labels)
        for i, (stack, counts) in enumerate(stacks.items()):
            ax.barh(positions, list(counts), left=left, height=0.6, label=stack,
                    color=PALETTE[i % len(PALETTE)])
            left = [a + b for a, b in zip(left, counts, strict=True)]
        ax.set_yticks(positions, list(labels))
        ax.invert_yaxis()
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlim(0, max(1.0, *left) * 1.1)
        ax.legend(loc="lower right", title=None)
        return fig

    return _draw(name, paint)


def lines(name: str, title: str, xs: Sequence[str], series: Mapping[str, Sequence[float | None]],
          *, xlabel: str, ylabel: str, empty: str) -> str:
    """One line per series over the categories `xs`, in percent; a None is a gap."""
    def paint() -> Figure:
        fig, (ax,) = _figure(name)
        _finish(ax, title, xlabel, ylabel)
        drawn = {k: v for k, v in series.items() if any(x is not None for x in v)}
        if not drawn:
            _empty(ax, empty)
            return fig
        positions = list(range(len(xs)))
        markers = "osD^v<>p"
        for i, (label, values) in enumerate(drawn.items()):
            ys = [math.nan if v is None else v for v in values]
            ax.plot(positions, ys, marker=markers[i % len(markers)], label=label,
                    color=PALETTE[i % len(PALETTE)], linewidth=1.5, markersize=4)
        ax.set_xticks(positions, list(xs))
        ax.set_ylim(0, 1.05)
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        fig.legend(loc="outside lower center", ncols=2)
        return fig

    return _draw(name, paint)


# categories, values per group, and a note per category for some groups (`n=18`)
Panel = tuple[Sequence[str], Mapping[str, Sequence[float | None]], Mapping[str, Sequence[str]]]


def grouped_bars(name: str, title: str, panels: Mapping[str, Panel], *, xlabel: str,
                 ylabel: str, empty: str) -> str:
    """Vertical bars side by side per category, one panel per entry of `panels`, in percent."""
    def paint() -> Figure:
        fig, axes = _figure(name, max(1, len(panels)))
        if not panels:
            _finish(axes[0], title, xlabel, ylabel)
            _empty(axes[0], empty)
            return fig
        fig.suptitle(title, x=0.02, ha="left", fontweight="bold", fontsize=11)
        for ax, (panel, (categories, groups, counts)) in zip(axes, panels.items(), strict=True):
            _finish(ax, panel, xlabel, ylabel)
            width = 0.8 / max(1, len(groups))
            for i, (group, values) in enumerate(groups.items()):
                xs = [c + (i - (len(groups) - 1) / 2) * width for c in range(len(categories))]
                ax.bar(xs, [0.0 if v is None else v for v in values], width=width, label=group,
                       color=PALETTE[i % len(PALETTE)])
                for x, v, n in zip(xs, values, counts.get(group, [None] * len(xs)), strict=True):
                    if n is not None:
                        ax.text(x, v or 0.0, n, ha="center", va="bottom", fontsize=7)
            ax.set_xticks(list(range(len(categories))), list(categories))
            ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
            ax.legend(loc="upper left")
        return fig

    return _draw(name, paint)


# ---------------------------------------------------------------- the monthly report


def _source_label(report: MonthlyReport) -> str:
    return humanize(report.source_field) if report.source_field else "Source"


def monthly_charts(report: MonthlyReport) -> list[Chart]:
    """The five charts of the monthly report, in the order the report shows them."""
    month = report.month.key
    nothing = f"No leads in {month}"
    out = []
    funnel = [(s.title, report.funnel[s.id]) for s in report.funnel_stages]
    title = f"Funnel: leads entering each stage in {month}"
    out.append(Chart("funnel", title, bars(
        "funnel", title, [t for t, _ in funnel] if any(n for _, n in funnel) else [],
        [n for _, n in funnel], xlabel="Leads entering the stage", ylabel="Stage",
        empty=nothing), "; ".join(f"{t}: {n:,}" for t, n in funnel) or nothing))

    names = list(report.trend)
    series = {report.level_titles[n][0]: report.trend_attainment(n) for n in names}
    title = "Service-level attainment, last 6 months"
    out.append(Chart("sla-trend", title, lines(
        "sla-trend", title, report.trend_months, series, xlabel="Month the clock started",
        ylabel="Met / (met + breached)", empty="No clock met or breached in these months"),
        "Attainment per service level and month; the table lists the values"))

    cohort = report.cohort_by_source
    source = _source_label(report)
    start = report.cohort_from.short if report.cohort_from else "entry"
    end = report.cohort_to.short if report.cohort_to else "conversion"
    title = f"{start} → {end} by {source.lower()} ({start}s of {month})"
    rates = [reached / entered if entered else None for entered, reached in cohort.values()]
    out.append(Chart("conversion-by-source", title, bars(
        "conversion-by-source", title, list(cohort), rates,
        xlabel=f"Share {end} by now", ylabel=source, empty=nothing, percent=True,
        notes=[f"{r:,}/{e:,}" for e, r in cohort.values()]),
        f"Share of the month's {start}s that were {end} by now, per {source.lower()}"))

    by_source = report.returns_by_source
    codes = list(report.by_disposition)
    title = f"Why leads came back in {month}: disposition by {source.lower()}"
    out.append(Chart("rejections-by-source", title, stacked_bars(
        "rejections-by-source", title, list(by_source),
        {code: [row.get(code, 0) for row in by_source.values()] for code in codes},
        xlabel="Leads returned", ylabel=source, empty=f"No lead returned in {month}"),
        f"Leads returned per {source.lower()}, stacked by disposition code"))

    panels: dict[str, Panel] = {c.title: (list(c.bands), {
        "expected": [b.expected for b in c.bands.values()],
        "actual": [b.actual for b in c.bands.values()]},
        {"actual": [f"{b.converted:,}/{b.leads:,}" for b in c.bands.values()]})
        for c in report.calibrations.values()}
    title = "Score bands: expected vs actual conversion"
    out.append(Chart("calibration", title, grouped_bars(
        "calibration", title, panels, xlabel="Band", ylabel="Conversion",
        empty="No score has a calibration"),
        "Expected and actual conversion per band of each calibrated score"))
    return out
