"""Marked lead values in the monthly report's text: escaped in both layouts, marks never shown."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from slaengine.cli.report_text import html, lead, lead_code, markdown, message
from test_markdown_text import Rendered, rendered

MARKS = "\ue000\ue001\ue002\ue003"


@given(st.text(max_size=40))
@example("<img src=x onerror=alert(1)>")
@example("\ue002<img src=x>\ue000[a](b)")  # a value carrying the marks cannot close its own
@example("a`b | c")
def test_lead_values_stay_text_in_markdown_and_html(value: str) -> None:
    text = (f"From {lead(value)}: {lead_code(value)} in `agreement_field`; "
            f"{message(f'stage `{value}` is unknown')}")
    md = markdown(text)
    page = rendered(f"| a | b |\n|---|---|\n| {md} | z |\n")
    assert set(page.tags) <= {"table", "thead", "tbody", "tr", "th", "td", "code"}
    assert page.table_widths == [[2, 2]]
    assert not set(MARKS) & set(md)
    out = str(html(text))
    assert not set(MARKS) & set(out)
    assert "<code>agreement_field</code>" in out  # the agreement's own code spans still work
    tags = Rendered(out).tags  # the HTML as a browser parses it
    assert set(tags) <= {"code"}, tags
