"""The published agreement as Markdown pages: a pure function of the agreement and a date.

`render_site(agreement, today)` returns `{path: markdown}` for every page under `agreement/`;
`slaengine.site.build` writes them into the MkDocs folder. The templates (`templates/*.md.j2`) run
with `StrictUndefined` and with `markdown.escape` as the environment's `finalize`, so every
value a template prints is escaped unless slaengine built it as Markdown (`Md`).
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Mapping
from datetime import date
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from ..api import Agreement
from . import pages
from .context import SignatureState, Site
from .glossary import glossary
from .markdown import Md, escape, join, link
from .meetings import meetings_page

ROOT = "agreement"

# The pages in navigation order; `definitions/<id>.md` follow `definitions/index.md`.
PAGES: tuple[tuple[str, str, Callable[[Site], dict[str, Any]]], ...] = (
    ("index.md", "home.md.j2", pages.home),
    ("icp.md", "icp.md.j2", pages.icp),
    ("definitions/index.md", "definitions.md.j2", pages.definitions_index),
    ("scoring.md", "scoring.md.j2", pages.scoring),
    ("lifecycle.md", "lifecycle.md.j2", pages.lifecycle),
    ("service-levels.md", "service-levels.md.j2", pages.service_levels),
    ("calendars.md", "calendars.md.j2", pages.calendars),
    ("kpis.md", "kpis.md.j2", pages.kpis),
    ("dispositions.md", "dispositions.md.j2", pages.dispositions),
    ("reviews.md", "reviews.md.j2", pages.reviews),
    ("meetings.md", "meetings.md.j2", meetings_page),
    ("glossary.md", "glossary.md.j2", lambda site: {"terms": [
        {"link": link(t.term, t.href), "kind": t.kind, "meaning": t.meaning or "—"}
        for t in glossary(site)]}),
)
PAGE_ORDER: tuple[str, ...] = tuple(name for name, _, _ in PAGES)


@cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("slaengine.site", "templates"),
        undefined=StrictUndefined,
        autoescape=False,  # the output is Markdown; `finalize` escapes for it instead
        finalize=escape,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        # `{#id}` is how Markdown (attr_list) names a heading; jinja comments are `{##...##}`.
        comment_start_string="{##",
        comment_end_string="##}",
    )
    env.filters["join_md"] = join
    return env


_BLANK_RUNS = re.compile(r"\n{3,}")


def _tidy(text: str) -> str:
    """One blank line between blocks, no trailing spaces, one final newline."""
    lines = [line.rstrip() for line in text.splitlines()]
    return _BLANK_RUNS.sub("\n\n", "\n".join(lines)).strip("\n") + "\n"


_HEADING = re.compile(r"\A# (.*)$", re.M)
_BACKSLASHED = re.compile(r"\\(.)")


def _front_matter(page: str) -> str:
    """The page's title, from its heading, as front matter, HTML-escaped.

    MkDocs would take the title from the heading and Material prints it in `<title>` through
    `striptags`, which decodes `&lt;` back into `<`: a definition titled
    `</title><script>...` would run. A title given in front matter is printed as written,
    so it is given here, with HTML's characters as entities.
    """
    heading = _HEADING.match(page)
    if heading is None:
        return page
    title = html.unescape(_BACKSLASHED.sub(r"\1", heading.group(1)))
    return f"---\ntitle: {json.dumps(html.escape(title))}\n---\n\n{page}"


def render_page(template: str, data: dict[str, Any]) -> str:
    return _front_matter(_tidy(environment().get_template(template).render(data)))


def render_site(agreement: Agreement, today: date,
                review_changes: Mapping[str, list[str]] | None = None,
                signatures: Mapping[str, list[SignatureState]] | None = None) -> dict[str, str]:
    """Every page of the published agreement, `{"agreement/<page>.md": markdown}`, in nav order.

    `review_changes` maps a review's date (ISO) to the plain-language changes since the
    previous review's approved text (`slaengine.site.build.review_changes` works them out from git);
    without it, the reviews page shows the `changes:` each review records. `signatures`
    (`slaengine.site.build.review_signatures`) says whose signature verifies.
    """
    site = Site(agreement, today, review_changes or {}, signatures or {})
    out: dict[str, str] = {}
    for name, template, build in PAGES:
        out[f"{ROOT}/{name}"] = render_page(template, build(site))
        if name == "definitions/index.md":
            for definition in agreement.spec.definitions:
                out[f"{ROOT}/definitions/{definition}.md"] = render_page(
                    "definition.md.j2", pages.definition(site, definition))
    return out


__all__ = ["PAGES", "PAGE_ORDER", "ROOT", "Md", "environment", "render_page", "render_site"]
