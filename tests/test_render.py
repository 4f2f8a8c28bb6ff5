"""The renderer: every page of the published agreement, as Markdown and as the HTML it becomes."""

from __future__ import annotations

import html
import re
import shutil
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import markdown  # type: ignore[import-untyped]
import pytest
import yaml
from pymdownx.superfences import fence_div_format  # type: ignore[import-untyped]

import slaengine
from slaengine.agreement.models.keys import parse_public_key
from slaengine.api import Agreement
from slaengine.site.build import review_signatures
from slaengine.site.markdown import Md, code, escape, link, mermaid_label, text_with_code
from slaengine.site.renderer import PAGE_ORDER, render_site

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "agreement"
TODAY = date(2026, 11, 22)

HOSTILE = {
    "script": "<script>window.__pwned = 1; alert(1)</script>",
    "img": '<img src=x onerror="window.__pwned = 1">',
    "pipes": "| pipes | in | cells |",
    "stars": "*stars* and _underscores_ and __bold__",
    "link": "[link](javascript:alert(1))",
    "heading": "\n\n# Injected heading\n\n!!! danger \"Injected\"\n    admonition\n\n~~~\nfence",
    "attr": "Title {#evil .evil onclick=alert(1)} and {: .evil }",
    "entity": "&lt;b&gt; stays text &amp; `code` & \\*escapes\\*",
    "title": "</title><script>window.__pwned = 1</script>",
}


def front_matter(text: str) -> tuple[dict[str, Any], str]:
    """A page's front matter and its Markdown, split as MkDocs splits them."""
    match = re.match(r"---\n(.*?)\n---\n\n", text, re.S)
    assert match is not None, text[:200]
    return yaml.safe_load(match.group(1)), text[match.end():]


def page_html(text: str) -> str:
    """The HTML MkDocs makes of a page, with the extensions mkdocs.yml enables."""
    return str(markdown.markdown(front_matter(text)[1], extensions=[
        "admonition", "tables", "toc", "attr_list", "pymdownx.superfences"],
        extension_configs={"pymdownx.superfences": {"custom_fences": [
            {"name": "mermaid", "class": "mermaid", "format": fence_div_format}]}}))


def plain(text: str) -> str:
    """What a reader sees: the HTML's text, tags removed, entities decoded, spaces collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page_html(text))).split())


@pytest.fixture(scope="module")
def example() -> Agreement:
    return slaengine.load_agreement(EXAMPLE)


@pytest.fixture(scope="module")
def pages(example: Agreement) -> dict[str, str]:
    return render_site(example, TODAY)


def write_agreement(folder: Path, files: dict[str, dict[str, Any]]) -> Path:
    """An agreement folder from plain data, one YAML file per key (`reviews/x` for reviews)."""
    for name, data in files.items():
        path = folder / f"{name}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), "utf-8")
    return folder


def minimal_files() -> dict[str, dict[str, Any]]:
    return {
        "agreement": {"agreement": "Minimal agreement", "version": "1.0.0", "timezone": "UTC",
                      "parties": {"marketing": {"lead": {"name": "Ann"}},
                                  "sales": {"lead": {"name": "Bo"}}}},
        "fields": {"fields": {"id": {"type": "string", "key": True}}},
    }


def hostile_files() -> dict[str, dict[str, Any]]:
    """An agreement whose every free text is an attempt to inject Markdown, HTML or script."""
    evil = " ".join(HOSTILE.values())
    files = minimal_files()
    files["agreement"].update({
        "agreement": f"Hostile {HOSTILE['script']} {HOSTILE['title']}", "description": evil,
        "effective": "2026-11-01",
        "parties": {"marketing": {"title": HOSTILE["pipes"],
                                  "lead": {"name": HOSTILE["img"], "title": HOSTILE["stars"]}},
                    "sales": {"lead": {"name": HOSTILE["link"]}}},
        "calendars": {"office": {"title": HOSTILE["script"], "hours": {"mon": "09:00-17:00"},
                                 "holidays": [{"date": "2026-12-25", "name": HOSTILE["img"]}]}},
    })
    files["fields"]["fields"].update({
        "employee_count": {"type": "integer", "title": HOSTILE["stars"]},
        "email_domain": {"type": "string", "title": HOSTILE["pipes"]},
        "mql_at": {"type": "datetime", "title": HOSTILE["link"]},
        "touched_at": {"type": "datetime"},
    })
    files["definitions"] = {"definitions": {
        "icp_fit": {"title": f"ICP {HOSTILE['script']}", "description": evil, "when": {"all": [
            {"field": "employee_count", "between": [50, 5000]},
            {"field": "email_domain", "in": ["<b>x</b>", "a|b", "*c*", "[d](e)"]},
            {"field": "email_domain", "matches": "`<script>`|\\.edu$"},
            {"not": {"definition": "excluded"}}]}},
        "excluded": {"title": HOSTILE["heading"] + HOSTILE["title"], "description": HOSTILE["attr"],
                     "when": {"field": "email_domain", "eq": "<script>alert(1)</script>"}},
    }}
    files["scoring"] = {"scores": {"engagement": {
        "title": HOSTILE["pipes"], "description": HOSTILE["entity"],
        "rules": [{"when": {"definition": "icp_fit"}, "points": 10, "label": HOSTILE["script"]}],
        "bands": [{"label": "cold", "below": 5, "expected_conversion": 0.1,
                   "description": HOSTILE["link"]},
                  {"label": "hot", "from": 5, "description": HOSTILE["img"]}]}}}
    files["lifecycle"] = {"stages": [
        {"id": "lead", "title": HOSTILE["script"], "owner": "marketing",
         "description": HOSTILE["heading"]},
        {"id": "end", "title": 'Quote " and #35; hash', "owner": "sales",
         "entered_at": "mql_at", "requires": "icp_fit"},
        {"id": "nurture", "title": HOSTILE["pipes"], "owner": "marketing",
         "entered_at": "touched_at", "requires_disposition": True}]}
    files["service-levels"] = {"service_levels": {"first_touch": {
        "title": HOSTILE["link"], "description": HOSTILE["script"], "owner": "sales",
        "start": "mql_at", "stop": "touched_at", "within": "24h", "calendar": "office",
        "applies_when": {"definition": "icp_fit"},
        "on_breach": {"escalate_to": HOSTILE["img"], "notify": [HOSTILE["pipes"]]}}}}
    files["kpis"] = {"kpis": {"touches": {
        "title": HOSTILE["script"], "description": HOSTILE["stars"], "owners": ["marketing"],
        "count": True, "where": {"field": "email_domain", "eq": "|x|"}, "unit": HOSTILE["img"],
        "target": {"gte": 1}}}}
    files["dispositions"] = {"dispositions": {"bad": {
        "title": HOSTILE["pipes"], "description": HOSTILE["script"], "returns_to": "nurture",
        "lead_guarantee": True}}}
    files["reviews/2026-11-01"] = {
        "date": "2026-11-01", "version": "1.0.0", "kind": "scheduled",
        "approvals": [{"party": "marketing", "name": HOSTILE["script"], "on": "2026-11-01",
                       "note": HOSTILE["link"]}],
        "summary": " ".join(HOSTILE.values()), "changes": list(HOSTILE.values()),
        "actions": [{"owner": "sales", "what": HOSTILE["pipes"], "due": "2026-11-15"}],
        "next_review": "2027-05-01"}
    return files


def test_every_page_is_rendered(example: Agreement, pages: dict[str, str]) -> None:
    expected = {f"agreement/{name}" for name in PAGE_ORDER}
    expected |= {f"agreement/definitions/{d}.md" for d in example.spec.definitions}
    assert set(pages) == expected
    assert next(iter(pages)) == "agreement/index.md"
    for name, text in pages.items():
        meta, body = front_matter(text)
        assert text.endswith("\n") and not text.endswith("\n\n"), name
        assert body.startswith(f"# {escape(html.unescape(meta['title']))}\n"), name
        assert "\n\n\n" not in text, name


def test_rendering_is_pure_and_deterministic(example: Agreement, pages: dict[str, str]) -> None:
    assert render_site(example, TODAY) == pages


def test_home_names_version_approvals_and_next_review(example: Agreement,
                                                      pages: dict[str, str]) -> None:
    home = plain(pages["agreement/index.md"])
    assert example.spec.agreement in home
    assert f"Version in force: {example.spec.version}" in home
    latest = example.reviews[-1]
    for approval in latest.approvals:
        lead = example.spec.parties[approval.party].lead
        assert lead.name in home and approval.day.isoformat() in home
    assert f"Next review: {latest.next_review}" in home
    assert "Review overdue" not in home


def test_home_states_the_agreement_in_force_first(example: Agreement,
                                                  pages: dict[str, str]) -> None:
    """Name, version, effective date, both approvals and the next review, before anything."""
    latest = example.reviews[-1]
    signed = " and ".join(
        f"{a.name} for {example.spec.parties[a.party].title} on {a.day.isoformat()}"
        for a in latest.approvals)
    assert plain(pages["agreement/index.md"]).startswith(
        f"{example.spec.agreement} In force: version {example.spec.version}, effective "
        f"{example.spec.effective}. Approved by {signed}. Next review by {latest.next_review}.")


def test_icp_and_definition_pages_state_the_criteria(pages: dict[str, str]) -> None:
    for name in ("agreement/icp.md", "agreement/definitions/icp_fit.md"):
        text = plain(pages[name])
        assert "Employee count is between 50 and 5,000" in text
        assert "Industry is one of software, fintech, healthcare or manufacturing" in text
    icp = pages["agreement/icp.md"]
    assert "### Exclusions" in icp and "[Excluded contact](definitions/excluded.md)" in icp
    assert "ends with <code>\\.edu</code>" in icp  # `\.edu$` in words; `.` escaped for Markdown
    mql = pages["agreement/definitions/mql.md"]
    assert "- Any of:\n    - All of:\n        - Is an [Ideal customer profile fit](../definitions/icp_fit.md)" in mql
    assert "[Sales-ready lead](../definitions/sales_ready.md)" in mql.replace("\\-", "-")
    # `not` over one test is one line, not repeated underneath
    assert "Is not an [Excluded contact](../definitions/excluded.md)\n" in mql
    # A field's type in words first: "boolean" means nothing to a reader who never saw YAML.
    assert ("| Demo requested (<code>demo\\_requested</code>) | yes or no (<code>boolean</code>) |"
            in mql)
    assert "| date and time (<code>datetime</code>) |" in mql


def test_scoring_page_has_rules_and_bands_with_conversion(example: Agreement,
                                                          pages: dict[str, str]) -> None:
    page = page_html(pages["agreement/scoring.md"])
    rows = re.findall(r"<tr>(.*?)</tr>", page, re.S)
    for band in example.spec.scores["engagement"].bands:
        row = next(r for r in rows if f"<strong>{band.label}</strong>" in r)
        assert band.expected_conversion is not None
        assert f"<td>{round(band.expected_conversion * 100, 4):g}%</td>" in row
    assert "30 points when demo requested: yes" in plain(pages["agreement/scoring.md"])
    # The tolerance is a difference of percentages: "5%" read as five per cent of the expectation.
    assert "by more than 5 percentage points (bands" in plain(pages["agreement/scoring.md"])


def test_lifecycle_diagram_lists_every_stage_with_its_owner(example: Agreement,
                                                            pages: dict[str, str]) -> None:
    text = pages["agreement/lifecycle.md"]
    block = re.search(r"```mermaid\n(.*?)\n```", text, re.S)
    assert block is not None
    source = block.group(1)
    assert source.startswith("flowchart LR\n")
    nodes = re.findall(r'^\s*(s\d+)\(?\["(.*?)"\]\)?$', source, re.M)
    assert len(nodes) == len(example.spec.stages)
    assert "MQL<br/>Marketing" in source and "SAL<br/>Sales" in source
    assert "s0 --> s1 --> s2 --> s3 --> s4 --> s5" in source
    table = plain(text)
    for stage in example.spec.stages:
        assert f'<a id="stage-{stage.id}"></a>' in text
    assert "Became an MQL ( mql_at ) Marketing-qualified lead Sales contacts every MQL" in table
    assert "- **Customer** (a final stage): Closed won; customer success" in text


def test_other_pages(pages: dict[str, str]) -> None:
    levels = plain(pages["agreement/service-levels.md"])
    assert "Within: 24 hours of business time on the Amsterdam office hours calendar" in levels
    assert "Within: 2 business days on the Amsterdam office hours calendar" in levels
    assert "At risk: once 75% of the allowance has passed" in levels
    assert "Applies to: every Marketing-qualified lead" in levels
    assert ("when the first of Opportunity created ( opportunity_at ), Closed lost ( lost_at ) "
            "or Returned to nurture ( recycled_at ) is recorded") in levels
    calendars = plain(pages["agreement/calendars.md"])
    assert "Monday 09:00-12:30 and 13:30-17:30 12:30-13:30 7.5 hours" in calendars
    assert "2026-12-24 Thursday Christmas Eve (short day) short day, open 09:00-13:00" in calendars
    kpis = plain(pages["agreement/kpis.md"])
    assert "Target: at least 25%" in kpis and "Maturity: 90 days" in kpis
    dispositions = plain(pages["agreement/dispositions.md"])
    assert "wrong_persona Not a buyer persona Disqualified yes" in dispositions
    assert "Returns the lead to Nurture when:" in dispositions
    reviews = pages["agreement/reviews.md"]
    dates = re.findall(r"^## (\S+):", reviews, re.M)
    assert dates == sorted(dates, reverse=True) and len(dates) == len(
        list((EXAMPLE / "reviews").glob("*.yaml")))
    assert "| Rework the webinar follow\\-up sequence | Marketing | 2026\\-06\\-30 | done |" in reviews


def test_glossary_is_alphabetical_and_links_every_term(pages: dict[str, str]) -> None:
    rows = re.findall(r"^\| \[(.*?)\]\((.*?)\) \|", pages["agreement/glossary.md"], re.M)
    terms = [html.unescape(re.sub(r"\\(.)", r"\1", t)) for t, _ in rows]
    assert terms == sorted(terms, key=str.casefold)
    for fixed in ("MQL", "SQL", "SAL", "ICP", "SLA", "Business hours", "Lead guarantee",
                  "Recycle"):
        assert fixed in terms
    targets = dict(zip(terms, (href for _, href in rows), strict=True))
    assert targets["MQL"] == "definitions/mql.md"
    assert targets["Engagement score"] == "scoring.md#engagement"
    assert targets["MQL to SQL conversion"] == "kpis.md#mql_to_sql"


def test_overdue_banner(example: Agreement) -> None:
    due = example.reviews[-1].next_review
    assert due is not None
    on_time = render_site(example, due)["agreement/index.md"]
    late = render_site(example, due + timedelta(days=3))["agreement/index.md"]
    assert "Review overdue" not in on_time
    assert '!!! danger "Review overdue"' in late
    assert f"The review was due on {due} (3 days ago)" in plain(late)


def test_changed_since_approval_banner(tmp_path: Path) -> None:
    folder = tmp_path / "agreement"
    shutil.copytree(EXAMPLE, folder)
    latest = sorted((folder / "reviews").glob("*.yaml"))[-1]
    approved = slaengine.load_agreement(folder).digest  # record today's content as approved
    latest.write_text(re.sub(r"digest: \S+", f"digest: {approved}", latest.read_text()))
    assert "Changed since approval" not in render_site(
        slaengine.load_agreement(folder), TODAY)["agreement/index.md"]
    definitions = folder / "definitions.yaml"
    definitions.write_text(definitions.read_text().replace("between: [50, 5000]",
                                                           "between: [50, 9000]"))
    home = render_site(slaengine.load_agreement(folder), TODAY)["agreement/index.md"]
    assert '!!! warning "Changed since approval"' in home
    assert (f"The agreement has changed since version "
            f"{slaengine.load_agreement(EXAMPLE).version} was approved") in plain(home)


def test_minimal_agreement_renders_every_page(tmp_path: Path) -> None:
    agreement = slaengine.load_agreement(write_agreement(tmp_path, minimal_files()))
    pages = render_site(agreement, TODAY)
    assert set(pages) == {f"agreement/{name}" for name in PAGE_ORDER}
    texts = {name: plain(text) for name, text in pages.items()}
    assert '!!! warning "Not approved"' in pages["agreement/index.md"]
    assert "does not define an ideal customer profile yet" in texts["agreement/icp.md"]
    assert "lists no lifecycle stages yet" in texts["agreement/lifecycle.md"]
    assert "No review is on record yet." in texts["agreement/reviews.md"]
    assert "The agreement has no lead guarantee." in texts["agreement/dispositions.md"]
    assert "The agreement has no recycle rules." in texts["agreement/dispositions.md"]


def test_calendar_page_lists_each_years_public_holidays(tmp_path: Path) -> None:
    files = minimal_files()
    files["agreement"]["calendars"] = {"office": {
        "hours": {"mon": "09:00-17:00", "thu": "09:00-17:00"},
        "public_holidays": {"country": "NL"},
        "holidays": [{"date": "2026-05-14", "name": "Open morning", "open": "10:00-12:00"},
                     {"date": "2028-01-03", "name": "Inventory"}]}}
    agreement = slaengine.load_agreement(write_agreement(tmp_path, files))
    page = render_site(agreement, TODAY)["agreement/calendars.md"]
    years = re.findall(r"^### Holidays in (\d+)$", page, re.M)
    assert years == ["2026", "2027", "2028"]  # this year, the next, and one the list names
    text = plain(page)
    assert "Closed on the public holidays of NL" in text
    assert "2026-04-27 Monday King's Day closed public holiday" in text
    assert "2027-12-25 Saturday Christmas Day closed public holiday" in text
    # The listed short day wins over Ascension Day, as it does in the clocks.
    assert "2026-05-14 Thursday Open morning short day, open 10:00-12:00 listed" in text
    assert "2028-01-03 Monday Inventory closed listed" in text
    assert "2028-04-17 Monday Easter Monday closed public holiday" in text


def test_long_lists(tmp_path: Path) -> None:
    files = minimal_files()
    files["fields"]["fields"].update({f"f{i}": {"type": "integer"} for i in range(60)})
    files["definitions"] = {"definitions": {f"d{i}": {"title": f"Definition {i}", "when": {
        "any": [{"field": f"f{j}", "in": list(range(40))} for j in range(i % 7 + 1)]
        + ([{"definition": f"d{i - 1}"}] if i else [])}} for i in range(40)}}
    files["lifecycle"] = {"stages": [{"id": f"s{i}", "owner": "marketing" if i % 2 else "sales"}
                                     for i in range(25)]}
    files["dispositions"] = {"dispositions": {f"c{i}": {"title": f"Code {i}",
                                                        "returns_to": "s0"} for i in range(30)}}
    pages = render_site(slaengine.load_agreement(write_agreement(tmp_path, files)), TODAY)
    assert len([p for p in pages if p.startswith("agreement/definitions/")]) == 41
    assert "Definition 38" in pages["agreement/definitions/d39.md"]  # builds on d38
    assert "Definition 39" in pages["agreement/definitions/d38.md"]  # used by d39
    assert pages["agreement/lifecycle.md"].count("<br/>") == 25
    assert "and 28 more" in plain(pages["agreement/definitions/d1.md"]).replace(" or 28", " and 28")
    assert len(re.findall(r"^\| <a id=\"disposition-", pages["agreement/dispositions.md"],
                          re.M)) == 30


@pytest.fixture(scope="module")
def hostile_pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    folder = write_agreement(tmp_path_factory.mktemp("hostile"), hostile_files())
    return render_site(slaengine.load_agreement(folder), TODAY)


def test_hostile_text_is_shown_as_text(hostile_pages: dict[str, str]) -> None:
    for name, text in hostile_pages.items():
        out = page_html(text)
        assert "<script" not in out, name
        assert "<img" not in out, name
        assert "javascript:" not in re.sub(r"&[a-z]+;|\s", "", " ".join(
            re.findall(r'(?:href|src)="([^"]*)"', out))), name
        assert not re.search(r"<(em|strong)>(stars|underscores|bold|escapes)", out), name
        assert "<h1" not in out.replace("<h1", "", 1), name  # one heading 1, the page's own
        assert 'class="admonition danger"' not in out or name == "agreement/index.md", name
        assert 'id="evil"' not in out and 'class="evil"' not in out, name
        assert "<pre>" not in out, name
        for table in re.findall(r"<table>(.*?)</table>", out, re.S):  # `|` never adds a cell
            widths = {len(re.findall(r"<t[hd][ >]", row))
                      for row in re.findall(r"<tr>(.*?)</tr>", table, re.S)}
            assert len(widths) == 1, (name, table)
    home = plain(hostile_pages["agreement/index.md"])
    assert HOSTILE["script"] in home and HOSTILE["title"] in home
    assert " ".join(HOSTILE["heading"].split()) in home
    assert HOSTILE["entity"] in home
    excluded = plain(hostile_pages["agreement/definitions/excluded.md"])
    assert f"{HOSTILE['pipes']} is <script>alert(1)</script>" in excluded
    icp = plain(hostile_pages["agreement/definitions/icp_fit.md"])
    assert f"{HOSTILE['pipes']} is one of <b>x</b>, a|b, *c* or [d](e)" in icp
    assert HOSTILE["attr"] in excluded


def test_page_titles_are_html_escaped(hostile_pages: dict[str, str]) -> None:
    """Material prints a heading-derived title through `striptags`, which decodes entities;
    a title in front matter is printed as given, so it must hold no markup at all."""
    for name in ("agreement/index.md", "agreement/definitions/excluded.md"):
        title = front_matter(hostile_pages[name])[0]["title"]
        assert "<" not in title and ">" not in title and "&lt;/title&gt;&lt;script&gt;" in title
    assert front_matter(hostile_pages["agreement/scoring.md"])[0] == {"title": "Scoring"}


def test_hostile_text_in_the_diagram_stays_text(hostile_pages: dict[str, str]) -> None:
    source = re.search(r"```mermaid\n(.*?)\n```", hostile_pages["agreement/lifecycle.md"], re.S)
    assert source is not None
    labels = re.findall(r'\["(.*?)"\]', source.group(1))
    assert all(re.fullmatch(r"[A-Za-z0-9 ,.'#;-]*(<br/>[A-Za-z0-9 ,.'#;-]*)?", label)
               for label in labels), labels
    assert "```" not in source.group(1) and "<script" not in source.group(1)


def test_escaping_primitives() -> None:
    assert escape("a *b* _c_ <d> | [e](f) `g` ~h & \\") == (
        "a \\*b\\* \\_c\\_ &lt;d&gt; \\| \\[e\\]\\(f\\) \\`g\\` &#126;h &amp; \\\\")
    assert escape("two\n\nlines  here") == "two lines here"
    assert escape(Md("**kept**")) == "**kept**"
    assert text_with_code("matches `^a|b$` or *c*") == (
        "matches <code>^a\\|b$</code> or \\*c\\*")
    assert link("A [b]", "kpis.md#x_y") == "[A \\[b\\]](kpis.md#x_y)"
    with pytest.raises(ValueError, match="unsafe link"):
        link("x", "javascript:alert(1)")
    assert mermaid_label('a "b" <c>') == "a #34;b#34; #60;c#62;"


def test_reviews_page_shows_who_signed_with_which_key(example: Agreement) -> None:
    latest = example.reviews[-1]
    checked = render_site(example, TODAY, None, review_signatures(example, TODAY))
    page = checked["agreement/reviews.md"]
    for party, approval in zip(example.spec.parties.values(), latest.approvals, strict=True):
        fingerprint = parse_public_key(party.lead.keys[0]).fingerprint
        assert (f"- {approval.name} ({party.title}) on {escape(approval.day.isoformat())}, "
                f"signed with key {code(fingerprint)}, signature verified") in page
    assert ", not signed: Approved after the SDR team's feedback round" in page.replace(
        "\\", "")
    unchecked = render_site(example, TODAY)["agreement/reviews.md"]
    assert "signed (not verified here)" in unchecked and "signature verified" not in unchecked
