"""Lead values inside the monthly report's text: marked where they are built, escaped where drawn.

The report's sections are built once and laid out twice (Markdown and HTML), as text in which
`code` spans are the agreement's own markup. A value read from the lead file (a source, a
campaign, a stage, a lead id, a disposition code) is wrapped by `lead` or `lead_code`, and a
message quoting lead values in `code` spans by `message`; each marks it with private-use
characters. The Markdown filters escape marked values with `lead_text` (no HTML, image, link,
heading, emphasis or table cell can come out of a lead), the HTML filter escapes them for
HTML. Marks never reach the output.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from markupsafe import Markup, escape

from ..agreement.markdown_text import lead_code as md_lead_code
from ..agreement.markdown_text import lead_message, lead_text

_TEXT, _CODE_MARK, _MESSAGE, _END = "\ue000", "\ue001", "\ue003", "\ue002"
_MARKS = str.maketrans(dict.fromkeys((_TEXT, _CODE_MARK, _MESSAGE, _END), "\ufffd"))
_MARKED = re.compile(f"([{_TEXT}{_CODE_MARK}{_MESSAGE}])([^{_END}]*){_END}")
_CODE = re.compile(r"`([^`]+)`")


def lead(value: object) -> str:
    """A lead value as plain text inside report text."""
    return f"{_TEXT}{str(value).translate(_MARKS)}{_END}"


def lead_code(value: object) -> str:
    """A lead value shown as code (a lead id, a stage value, a disposition code)."""
    return f"{_CODE_MARK}{str(value).translate(_MARKS)}{_END}"


def message(text: str) -> str:
    """A message quoting lead values in `code` spans (the reason for a credit)."""
    return f"{_MESSAGE}{str(text).translate(_MARKS)}{_END}"


def _split(text: str, trusted: Callable[[str], str], text_part: Callable[[str], str],
           code_part: Callable[[str], str], message_part: Callable[[str], str]) -> str:
    parts: list[str] = []
    last = 0
    for match in _MARKED.finditer(text):
        parts.append(trusted(text[last:match.start()]))
        value = match.group(2)
        mark = match.group(1)
        parts.append(code_part(value) if mark == _CODE_MARK else
                     message_part(value) if mark == _MESSAGE else text_part(value))
        last = match.end()
    parts.append(trusted(text[last:]))
    return "".join(parts)


def markdown(text: str, trusted: Callable[[str], str] = str) -> str:
    """Report text as Markdown: `trusted` formats the agreement's parts, lead values escaped."""
    return _split(str(text), trusted, lead_text, md_lead_code, lead_message)


def html(text: str) -> Markup:
    """Report text as HTML: everything escaped, `code` spans of the agreement and lead codes
    as `<code>`."""
    def trusted(part: str) -> str:
        return _CODE.sub(r"<code>\1</code>", str(escape(part)))

    return Markup(_split(str(text), trusted, lambda v: str(escape(v)),
                         lambda v: f"<code>{escape(v)}</code>", trusted))


__all__ = ["html", "lead", "lead_code", "markdown", "message"]
