"""The peer rule: one agreement, its leads, and the same rule written by hand three ways.

The rule the peer engines are measured on: a marketing-qualified lead is 12 conditions (ICP
fit, exclusions, consent, recent activity, and an engagement score of at least 40), and the
score is 9 rules, each capped, over a lead of 21 fields. The generated leads are seeded; about
a quarter of them pass the first 11 conditions and so reach the score.

    from peer import agreement_folder, generate, hand_written_mql, HAND_SQL
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

import yaml

NOW: Final = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
INDUSTRIES: Final = ["software", "fintech", "healthcare", "manufacturing", "logistics"]
COUNTRIES: Final = ["NL", "BE", "DE", "FR", "GB", "IE", "SE", "DK"]
STAGES: Final = ["lead", "mql"]
COMPETITORS: Final = ["tableau.example", "looker.example", "qlik.example", "sisense.example"]
SENIOR: Final = ["c_level", "vp", "director"]
EDU: Final = r"\.edu$"
NOT_A_BUYER: Final = r"(?i)\b(intern|student|trainee)\b"

FIELDS: Final[dict[str, dict[str, Any]]] = {
    "id": {"type": "string", "key": True},
    "email_domain": {"type": "string"},
    "employee_count": {"type": "integer"},
    "annual_revenue": {"type": "number"},
    "industry": {"type": "string"},
    "country": {"type": "string"},
    "job_title": {"type": "string"},
    "seniority": {"type": "string"},
    "source": {"type": "string"},
    "stage": {"type": "string"},
    "lead_status": {"type": "string"},
    "demo_requested": {"type": "boolean"},
    "webinar_attended": {"type": "boolean"},
    "do_not_contact": {"type": "boolean"},
    "marketing_consent": {"type": "boolean"},
    "pricing_page_visits": {"type": "integer"},
    "email_clicks": {"type": "integer"},
    "content_downloads": {"type": "integer"},
    "trial_signups": {"type": "integer"},
    "last_activity_at": {"type": "datetime"},
    "created_at": {"type": "datetime"},
}

MQL: Final[dict[str, Any]] = {"all": [
    {"field": "employee_count", "between": [50, 5000]},
    {"field": "annual_revenue", "gte": 1_000_000},
    {"field": "industry", "in": INDUSTRIES},
    {"field": "country", "in": COUNTRIES},
    {"field": "source", "ne": "purchased_list"},
    {"field": "stage", "in": STAGES},
    {"not": {"field": "email_domain", "in": COMPETITORS}},
    {"not": {"field": "email_domain", "matches": EDU}},
    {"not": {"field": "do_not_contact", "eq": True}},
    {"field": "marketing_consent", "eq": True},
    {"field": "last_activity_at", "within": "30d"},
    {"score": "engagement", "gte": 40},
]}

SCORE_RULES: Final[list[dict[str, Any]]] = [
    {"when": {"field": "demo_requested", "eq": True}, "points": 30},
    {"field": "pricing_page_visits", "points_each": 5, "max": 15},
    {"field": "email_clicks", "points_each": 2, "max": 10},
    {"field": "content_downloads", "points_each": 5, "max": 15},
    {"field": "trial_signups", "points_each": 10, "max": 20},
    {"when": {"field": "webinar_attended", "eq": True}, "points": 10},
    {"when": {"field": "source", "eq": "partner_referral"}, "points": 15},
    {"when": {"field": "seniority", "in": SENIOR}, "points": 10},
    {"when": {"field": "job_title", "matches": NOT_A_BUYER}, "points": -30},
]

AGREEMENT: Final[dict[str, Any]] = {
    "agreement": "Peer benchmark agreement",
    "version": "1.0.0",
    "timezone": "Europe/Amsterdam",
    "parties": {"marketing": {"lead": {"name": "Dana Whitfield"}},
                "sales": {"lead": {"name": "Raj Patel"}}},
    "fields": FIELDS,
    "definitions": {"mql": {"title": "Marketing-qualified lead", "when": MQL}},
    "scores": {"engagement": {"title": "Engagement score", "rules": SCORE_RULES}},
}


def agreement_folder(folder: Path) -> Path:
    """Write the peer agreement as one YAML file in `folder`; returns the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump(AGREEMENT, sort_keys=False, allow_unicode=True)
    (folder / "agreement.yaml").write_text(
        "# yaml-language-server: $schema=../schema/agreement.schema.json\n" + text)
    return folder


# ---------------------------------------------------------------- the leads


def generate(n: int, seed: int = 11) -> Iterator[dict[str, Any]]:
    """`n` typed leads (str, int, float, bool, aware datetime; None for a missing value).

    Each of the first 11 conditions holds for about 88% of the leads, so about a quarter
    reach the score; about 1 lead in 50 has a missing value somewhere.
    """
    rng = random.Random(seed)
    pick, chance = rng.choice, rng.random
    other_industries, other_countries = ["retail", "education", "government"], ["US", "CA", "ES"]
    titles = ["Head of Data", "VP Engineering", "Data Analyst", "Marketing Intern",
              "CFO", "Student Assistant", "Analytics Manager", "Trainee Developer"]
    seniorities = ["c_level", "vp", "director", "manager", "individual"]
    sources = ["website", "webinar", "partner_referral", "event", "paid_search"]
    for i in range(n):
        intent = rng.gammavariate(2.0, 1.0)
        domain = (pick(COMPETITORS) if chance() < 0.06 else f"uni{i % 97}.edu"
                  if chance() < 0.06 else f"company{i % 5003}.example")
        lead: dict[str, Any] = {
            "id": f"L{i:08d}",
            "email_domain": domain,
            "employee_count": rng.randint(50, 5000) if chance() < 0.88
            else pick([rng.randint(1, 49), rng.randint(5001, 90000)]),
            "annual_revenue": round(rng.uniform(1e6, 5e8), 2) if chance() < 0.88
            else round(rng.uniform(0, 999_999), 2),
            "industry": pick(INDUSTRIES) if chance() < 0.88 else pick(other_industries),
            "country": pick(COUNTRIES) if chance() < 0.88 else pick(other_countries),
            "job_title": pick(titles),
            "seniority": pick(seniorities),
            "source": pick(sources) if chance() < 0.88 else "purchased_list",
            "stage": pick(STAGES) if chance() < 0.88 else pick(["sal", "sql", "nurture"]),
            "lead_status": pick(["open", "working", "nurturing"]),
            "demo_requested": chance() < min(0.05 * intent, 0.6),
            "webinar_attended": chance() < 0.2,
            "do_not_contact": chance() < 0.12,
            "marketing_consent": chance() < 0.88,
            "pricing_page_visits": min(int(rng.expovariate(1 / intent)), 40),
            "email_clicks": min(int(rng.expovariate(0.5 / intent)), 60),
            "content_downloads": min(int(rng.expovariate(1.5 / intent)), 20),
            "trial_signups": int(chance() < 0.1 * intent),
            "last_activity_at": NOW - timedelta(seconds=rng.randint(0, 29 * 86400))
            if chance() < 0.88 else NOW - timedelta(days=rng.randint(31, 200)),
            "created_at": NOW - timedelta(days=rng.randint(30, 700)),
        }
        if chance() < 0.02:  # a missing value, as real exports have
            lead[pick(list(FIELDS)[1:])] = None
        yield lead


# ---------------------------------------------------------------- written by hand: Python

_INDUSTRIES: Final = frozenset(INDUSTRIES)
_COUNTRIES: Final = frozenset(COUNTRIES)
_STAGES: Final = frozenset(STAGES)
_COMPETITORS: Final = frozenset(COMPETITORS)
_SENIOR: Final = frozenset(SENIOR)
_IS_EDU: Final = re.compile(EDU).search
_NOT_A_BUYER: Final = re.compile(NOT_A_BUYER).search
THIRTY_DAYS: Final = timedelta(days=30)


def engagement(lead: Mapping[str, Any]) -> int:
    """The 9-rule score, by hand (a missing value adds nothing)."""
    get = lead.get
    score = 30 if get("demo_requested") is True else 0
    visits = get("pricing_page_visits")
    if visits is not None:
        score += min(visits * 5, 15)
    clicks = get("email_clicks")
    if clicks is not None:
        score += min(clicks * 2, 10)
    downloads = get("content_downloads")
    if downloads is not None:
        score += min(downloads * 5, 15)
    trials = get("trial_signups")
    if trials is not None:
        score += min(trials * 10, 20)
    if get("webinar_attended") is True:
        score += 10
    if get("source") == "partner_referral":
        score += 15
    if get("seniority") in _SENIOR:
        score += 10
    title = get("job_title")
    if title is not None and _NOT_A_BUYER(title):
        score -= 30
    return score


def hand_written_mql(lead: Mapping[str, Any], now: datetime) -> bool:
    """The 12 conditions by hand, cheapest first, returning early."""
    get = lead.get
    employees = get("employee_count")
    if employees is None or not 50 <= employees <= 5000:
        return False
    revenue = get("annual_revenue")
    if revenue is None or revenue < 1_000_000:
        return False
    if get("industry") not in _INDUSTRIES or get("country") not in _COUNTRIES:
        return False
    source = get("source")
    if source is None or source == "purchased_list" or get("stage") not in _STAGES:
        return False
    domain = get("email_domain")
    if domain is not None and (domain in _COMPETITORS or _IS_EDU(domain)):
        return False
    if get("do_not_contact") is True or get("marketing_consent") is not True:
        return False
    last = get("last_activity_at")
    if last is None or not now - THIRTY_DAYS <= last <= now:
        return False
    return engagement(lead) >= 40


class HandDecision:
    """What any `evaluate(lead, now)` returning a decision must do besides deciding: keep its
    own copy of the lead (the caller may change or reuse the dict) and hand back an object
    whose `definitions[name].matched` is the verdict."""

    __slots__ = ("lead", "matched")

    class Verdict(tuple[str, bool]):
        @property
        def matched(self) -> bool:
            return self[1]

    def __init__(self, lead: dict[str, Any], matched: bool):
        self.lead, self.matched = lead, matched

    @property
    def definitions(self) -> dict[str, HandDecision.Verdict]:
        return {"mql": HandDecision.Verdict(("mql", self.matched))}


def hand_written_decision(lead: dict[str, Any], now: datetime) -> HandDecision:
    """The hand-written rule behind the least a decision API must add (`HandDecision`)."""
    copy = lead.copy()
    return HandDecision(copy, hand_written_mql(copy, now))


def reaches_score(lead: Mapping[str, Any], now: datetime) -> bool:
    """Whether the lead passes the first 11 conditions: the same lead with a score of at
    least 55 (demo, visits, clicks, and no job title to take points off) is an MQL."""
    return hand_written_mql({**lead, "demo_requested": True, "pricing_page_visits": 3,
                             "email_clicks": 5, "job_title": None}, now)


# ---------------------------------------------------------------- written by hand: zen-engine

ZEN_EXPRESSION: Final = " and ".join([
    "employee_count != null and employee_count >= 50 and employee_count <= 5000",
    "annual_revenue != null and annual_revenue >= 1000000",
    "industry in " + repr(INDUSTRIES).replace("'", '"'),
    "country in " + repr(COUNTRIES).replace("'", '"'),
    'source != null and source != "purchased_list"',
    "stage in " + repr(STAGES).replace("'", '"'),
    "not (email_domain in " + repr(COMPETITORS).replace("'", '"') + ")",
    'not (email_domain != null and endsWith(email_domain, ".edu"))',
    "do_not_contact != true",
    "marketing_consent == true",
    "last_activity_at != null and last_activity_at >= now - 2592000 and last_activity_at <= now",
    "(" + " + ".join([
        "((demo_requested == true) ? 30 : 0)",
        "((pricing_page_visits != null) ? min([pricing_page_visits * 5, 15]) : 0)",
        "((email_clicks != null) ? min([email_clicks * 2, 10]) : 0)",
        "((content_downloads != null) ? min([content_downloads * 5, 15]) : 0)",
        "((trial_signups != null) ? min([trial_signups * 10, 20]) : 0)",
        "((webinar_attended == true) ? 10 : 0)",
        '((source == "partner_referral") ? 15 : 0)',
        "((seniority in " + repr(SENIOR).replace("'", '"') + ") ? 10 : 0)",
        f'((job_title != null and matches(job_title, "{NOT_A_BUYER}")) ? -30 : 0)',
    ]) + ") >= 40",
])


# zen-engine's `matches` compiles its pattern on every call (about 0.25 ms here), which
# dominates the rule's cost; the rule less its regex rule gives zen's cost without that: a
# lower bound for the same rule (not the same verdicts, so not compared).
ZEN_WITHOUT_REGEX: Final = ZEN_EXPRESSION.replace(
    f'((job_title != null and matches(job_title, "{NOT_A_BUYER}")) ? -30 : 0)', "0")


def zen_context(lead: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """The lead as zen-engine's expressions take it: JSON values (instants as epoch
    seconds), with `now`."""
    context = {k: (v.timestamp() if isinstance(v, datetime) else v) for k, v in lead.items()}
    context["now"] = now.timestamp()
    return context


# ---------------------------------------------------------------- written by hand: DuckDB


def hand_sql(parquet: str, now: datetime) -> str:
    """The rule as one DuckDB query over the Parquet file: `_row`, `id`, `mql`, `score`."""
    def items(values: list[str]) -> str:
        return ", ".join(f"'{v}'" for v in values)

    stamp = now.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S+00")
    return f"""
WITH scored AS (
  SELECT *,
    (CASE WHEN demo_requested THEN 30 ELSE 0 END
     + least(coalesce(pricing_page_visits, 0) * 5, 15)
     + least(coalesce(email_clicks, 0) * 2, 10)
     + least(coalesce(content_downloads, 0) * 5, 15)
     + least(coalesce(trial_signups, 0) * 10, 20)
     + CASE WHEN webinar_attended THEN 10 ELSE 0 END
     + CASE WHEN source = 'partner_referral' THEN 15 ELSE 0 END
     + CASE WHEN seniority IN ({items(SENIOR)}) THEN 10 ELSE 0 END
     + CASE WHEN regexp_matches(job_title, '(?i)\\b(intern|student|trainee)\\b') THEN -30
            ELSE 0 END) AS score
  FROM read_parquet('{parquet}')
)
SELECT _row, id,
  coalesce(employee_count BETWEEN 50 AND 5000
    AND annual_revenue >= 1000000
    AND industry IN ({items(INDUSTRIES)})
    AND country IN ({items(COUNTRIES)})
    AND source <> 'purchased_list'
    AND stage IN ({items(STAGES)})
    AND NOT coalesce(email_domain IN ({items(COMPETITORS)}), false)
    AND NOT coalesce(regexp_matches(email_domain, '\\.edu$'), false)
    AND NOT coalesce(do_not_contact, false)
    AND marketing_consent
    AND last_activity_at BETWEEN TIMESTAMPTZ '{stamp}' - INTERVAL 30 DAY
                             AND TIMESTAMPTZ '{stamp}'
    AND score >= 40, false) AS mql,
  score
FROM scored
ORDER BY _row"""


def write_parquet(path: Path, n: int, seed: int = 11) -> Path:
    """The leads as a Parquet file with typed columns and `_row` (1-based input order)."""
    import pyarrow as pa  # type: ignore[import-untyped]  # noqa: PLC0415
    import pyarrow.parquet as pq  # type: ignore[import-untyped]  # noqa: PLC0415

    types = {"string": pa.string(), "integer": pa.int64(), "number": pa.float64(),
             "boolean": pa.bool_(), "datetime": pa.timestamp("us", "UTC")}
    schema = pa.schema([(n_, types[f["type"]]) for n_, f in FIELDS.items()]
                       + [("_row", pa.int64())])
    rows = [{**lead, "_row": i} for i, lead in enumerate(generate(n, seed), start=1)]
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path)
    return path
