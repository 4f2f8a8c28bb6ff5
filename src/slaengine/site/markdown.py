"""Markdown for the published agreement: one escaping function for every piece of agreement text.

Everything a template prints goes through `escape` (it is the jinja environment's `finalize`),
so agreement text can never become Markdown or HTML: `<script>` shows as text, `*stars*` stay
stars, `|` cannot split a table cell, `[a](javascript:...)` is not a link. Markup slaengine
writes itself (links to its own pages, nested lists, the Mermaid source) is built here as `Md`
and printed as it is.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..agreement.markdown_text import Md, escape

_SAFE_HREF = re.compile(r"^[A-Za-z0-9_./-]*(#[A-Za-z0-9_-]+)?$")
_CODE = re.compile(r"`([^`]*)`")


def text_with_code(text: str) -> Md:
    """Escaped text in which `backticked` parts (as `describe` writes patterns) are code."""
    parts: list[str] = []
    last = 0
    for match in _CODE.finditer(text):
        parts.append(escape(text[last:match.start()]))
        parts.append(f"<code>{escape(match.group(1))}</code>")
        last = match.end()
    parts.append(escape(text[last:]))
    return Md("".join(parts))


def link(text: object, href: str) -> Md:
    """`[text](href)` to one of the site's own pages; the href is built from ids, never text."""
    if not _SAFE_HREF.match(href):
        raise ValueError(f"unsafe link target {href!r}")
    return Md(f"[{escape(text)}]({href})")


def join(items: Sequence[object], separator: str = ", ") -> Md:
    """Items joined, each escaped unless it is already Markdown."""
    return Md(escape(separator).join(escape(item) for item in items))


def code(name: str) -> Md:
    """An identifier or field name as code (ids are `[A-Za-z0-9_]`, so nothing to escape)."""
    return Md(f"<code>{escape(name)}</code>")


def anchor(anchor_id: str) -> Md:
    """An empty element with an id, so a table row can be linked to."""
    if not _SAFE_HREF.match("#" + anchor_id):
        raise ValueError(f"unsafe anchor {anchor_id!r}")
    return Md(f'<a id="{anchor_id}"></a>')


def ident(name: str) -> Md:
    """An id for a heading attribute or a link fragment (`{#mql_first_touch}`), printed as is."""
    if not _SAFE_HREF.match("#" + name):
        raise ValueError(f"unsafe id {name!r}")
    return Md(name)


def indent(depth: int) -> Md:
    """Indentation of a nested list item (Python-Markdown nests by four spaces)."""
    return Md("    " * depth)


def mermaid_label(text: object) -> str:
    """Text inside a quoted Mermaid label: anything but letters, digits and plain punctuation
    becomes a `#code;` entity, which Mermaid turns back into text (never into markup)."""
    collapsed = " ".join(str(text).split())
    return "".join(ch if ch.isascii() and (ch.isalnum() or ch in " ,.'-") else f"#{ord(ch)};"
                   for ch in collapsed)


__all__ = ["Md", "anchor", "code", "escape", "ident", "indent", "join", "link", "mermaid_label",
           "text_with_code"]
