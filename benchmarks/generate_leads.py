"""Seeded, realistic lead exports for the example agreement's fields (`agreement/fields.yaml`).

    python benchmarks/generate_leads.py --n 1000000 --seed 7 --format jsonl --out leads.jsonl

The same `--n` and `--seed` always give the same bytes (Python's `random.Random`, no other
source of randomness). Output is streamed: memory stays constant in `--n`.

What the leads look like:

* firmographics: company sizes log-normal (median ~180 employees), industries, countries,
  sources and seniority drawn with weights; ~15% personal email domains (not all of them on
  the agreement's exclusion list), ~1% competitor domains, ~5% `.edu` domains (students);
* engagement: a per-lead buying intent (gamma) drives Poisson counters (pricing page visits,
  email clicks, content downloads), demo requests and webinar attendance;
* a consistent funnel: created_at < mql_at < first_touch_at / accepted_at / rejected_at <
  sql_at < opportunity_at < won_at / lost_at, each later stage reached by a fraction of the
  leads at the stage before, with recycles and disqualifications carrying a disposition code;
  leads become MQLs mostly when they meet the agreement's MQL rule, so the recorded stage
  agrees with the agreement most of the time;
* every timestamp before the reference instant 2026-11-20T09:00:00Z, so evaluating with
  `--now 2026-11-20T10:00:00+01:00` is deterministic; each lead's timestamps use one of the
  spellings CRMs export (`...Z`, `....000Z`, `+01:00`/`+02:00`, naive Amsterdam wall time);
* dirty data in ~3% of the leads: a recorded stage whose requirement is not met, missing
  columns, `n/a` in employee_count, an unparseable timestamp, an unknown stage, numbers and
  booleans written as text; and, in JSON Lines, a truncated (malformed) line every 50,000
  lines. Parquet columns are typed, so a value that does not fit its column (`n/a`) is null.

From Python: `generate(n, seed)` yields the lead dicts (before any line is malformed).
"""

from __future__ import annotations

import argparse
import csv
import importlib
import io
import math
import os
import random
import sys
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import IO, Any, Final
from zoneinfo import ZoneInfo

import orjson

__all__ = ["FIELDS", "MALFORMED_EVERY", "NOW", "REFERENCE", "generate", "write_leads"]

# Bump when the output for a given (n, seed) changes, so cached files are regenerated.
GENERATOR_VERSION: Final = 1

REFERENCE: Final = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)  # no timestamp at or after this
NOW: Final = "2026-11-20T10:00:00+01:00"  # the `--now` the generated data is meant for
MALFORMED_EVERY: Final = 50_000
_AMSTERDAM: Final = ZoneInfo("Europe/Amsterdam")

# The example agreement's fields, in the order of agreement/fields.yaml, with their types.
FIELDS: Final[dict[str, str]] = {
    "id": "string", "email": "string", "email_domain": "string", "company": "string",
    "employee_count": "integer", "industry": "string", "country": "string",
    "job_title": "string", "seniority": "string", "source": "string", "campaign": "string",
    "demo_requested": "boolean", "pricing_page_visits": "integer", "email_clicks": "integer",
    "content_downloads": "integer", "webinar_attended": "boolean", "need_confirmed": "boolean",
    "budget_confirmed": "boolean", "authority_confirmed": "boolean", "timeline": "string",
    "stage": "string", "disposition": "string", "owner_rep": "string", "amount": "number",
    "created_at": "datetime", "captured_at": "datetime", "delivered_at": "datetime",
    "last_activity_at": "datetime", "mql_at": "datetime", "first_touch_at": "datetime",
    "accepted_at": "datetime", "rejected_at": "datetime", "sql_at": "datetime",
    "opportunity_at": "datetime", "won_at": "datetime", "lost_at": "datetime",
    "recycled_at": "datetime", "disqualified_at": "datetime",
}
_TIMES: Final = tuple(name for name, kind in FIELDS.items() if kind == "datetime")


class _Weighted:
    """Draw from values with weights; `rng.choices` with precomputed cumulative weights."""

    def __init__(self, weights: dict[str, float]):
        self.values = list(weights)
        total = 0.0
        self.cumulative: list[float] = []
        for weight in weights.values():
            total += weight
            self.cumulative.append(total)

    def __call__(self, rng: random.Random) -> str:
        return rng.choices(self.values, cum_weights=self.cumulative)[0]


_INDUSTRY: Final = _Weighted({"software": 28, "fintech": 10, "healthcare": 10,
                              "manufacturing": 14, "retail": 12, "education": 6,
                              "government": 5, "other": 15})
_COUNTRY: Final = _Weighted({"NL": 18, "DE": 16, "GB": 12, "FR": 9, "BE": 6, "SE": 4, "DK": 3,
                             "IE": 3, "ES": 5, "IT": 4, "PL": 4, "CH": 3, "AT": 3, "US": 8,
                             "FI": 2, "NO": 2, "PT": 2})
_SOURCE: Final = _Weighted({"website": 30, "webinar": 14, "event": 10, "paid_search": 14,
                            "paid_social": 10, "partner_referral": 6, "outbound": 10,
                            "purchased_list": 6})
_SENIORITY: Final = _Weighted({"c_level": 5, "vp": 7, "director": 14, "manager": 28,
                               "individual_contributor": 40, "student": 6})
_TITLES: Final[dict[str, list[str]]] = {
    "c_level": ["CEO", "CFO", "CTO", "Chief Data Officer", "COO", "Managing Director"],
    "vp": ["VP Marketing", "VP Engineering", "VP Finance", "VP Operations", "VP Data"],
    "director": ["Director of Analytics", "Head of Marketing Operations", "Head of Data",
                 "Director of Finance", "Head of BI"],
    "manager": ["BI Manager", "Marketing Manager", "Data Engineering Manager",
                "Finance Manager", "Product Manager", "Operations Manager"],
    "individual_contributor": ["Data Analyst", "Data Engineer", "Marketing Specialist",
                               "Analytics Engineer", "Controller", "Data Scientist",
                               "Marketing Intern", "Trainee Data Analyst", "BI Developer"],
    "student": ["Student", "MSc Student", "PhD Student", "Working student (data)"],
}
_SENIOR: Final = frozenset({"c_level", "vp", "director"})
_PERSONAL_LISTED: Final = ["gmail.com", "outlook.com", "hotmail.com", "yahoo.com", "icloud.com",
                           "proton.me"]
_PERSONAL_OTHER: Final = ["gmx.de", "web.de", "live.nl", "orange.fr", "btinternet.com"]
_COMPETITORS: Final = ["tableau.example", "looker.example", "qlik.example", "sisense.example"]
_EDU: Final = ["uva.edu", "tudelft.edu", "tum.edu", "kth.edu", "ku.edu", "ox.edu"]
_EXCLUDED_DOMAINS: Final = frozenset(_PERSONAL_LISTED + _COMPETITORS)
_PREFIXES: Final = ["bright", "north", "blue", "silver", "green", "river", "stone", "oak",
                    "clear", "swift", "iron", "cloud", "harbor", "maple", "delta", "nova",
                    "pine", "sun", "fjord", "polder", "linden", "amber", "cobalt", "tulip"]
_SUFFIXES: Final = ["lane", "field", "works", "soft", "data", "logic", "bank", "care", "mark",
                    "ware", "point", "wave", "bridge", "forge", "labs", "hub", "line", "gate"]
_LEGAL: Final = {"NL": "BV", "BE": "NV", "DE": "GmbH", "AT": "GmbH", "CH": "AG", "GB": "Ltd",
                 "IE": "Ltd", "FR": "SAS", "SE": "AB", "DK": "ApS", "US": "Inc."}
_FIRST: Final = ["femke", "tom", "anna", "lukas", "sophie", "james", "emma", "noah", "marie",
                 "lars", "chloe", "oliver", "julia", "finn", "sara", "david", "ines", "pieter",
                 "hanna", "mateo", "aoife", "jonas", "elena", "max"]
_LAST: Final = ["devries", "becker", "jansen", "muller", "smith", "dubois", "andersen",
                "murphy", "rossi", "nowak", "bakker", "schmidt", "martin", "larsen", "visser",
                "garcia", "berg", "keller", "obrien", "peeters"]
_REPS: Final = ["Raj Patel", "Lena Vogel", "Sam O'Neill", "Pieter Smit", "Claire Morel",
                "Jonas Lind"]
_CAMPAIGNS: Final = ["2026-q3-dataops-webinar", "2026-10-bigdata-expo", "2026-q4-cfo-guide",
                     "2026-11-retargeting", "always-on-search", "partner-program"]
_NURTURE_CODES: Final = ["no_budget", "bad_timing", "no_response", "lost_to_competitor"]
_DISQUALIFY_CODES: Final = ["wrong_persona", "not_icp", "student", "competitor", "duplicate"]
_ICP_INDUSTRIES: Final = frozenset({"software", "fintech", "healthcare", "manufacturing"})
_ICP_COUNTRIES: Final = frozenset({"NL", "BE", "DE", "FR", "GB", "IE", "SE", "DK"})
_NOT_A_BUYER: Final = ("intern", "student", "trainee")


def _poisson(rng: random.Random, lam: float) -> int:
    """Knuth's method; the means here are small."""
    limit, k, product = math.exp(-min(lam, 30.0)), 0, rng.random()
    while product > limit:
        k += 1
        product *= rng.random()
    return k


def _hours(value: float) -> timedelta:
    return timedelta(seconds=round(value * 3600))


def _spell(moment: datetime, style: int) -> str:
    """One of the timestamp spellings CRM exports use."""
    if style == 0:
        return moment.replace(tzinfo=None).isoformat(timespec="seconds") + "Z"
    if style == 1:
        return moment.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"
    local = moment.astimezone(_AMSTERDAM)
    if style == 2:
        return local.isoformat(timespec="seconds")
    return local.replace(tzinfo=None).isoformat(sep=" ", timespec="seconds")  # naive, local


def _engagement(lead: dict[str, Any], last_activity: datetime) -> int:
    """The example agreement's engagement score (agreement/scoring.yaml), on clean values."""
    score: int = 30 if lead["demo_requested"] else 0
    score += min(lead["pricing_page_visits"] * 5, 15) + min(lead["email_clicks"] * 2, 10)
    score += min(lead["content_downloads"] * 5, 15)
    score += 10 if lead["webinar_attended"] else 0
    score += 15 if lead["source"] == "partner_referral" else 0
    score += 10 if lead["seniority"] in _SENIOR else 0
    score -= 20 if last_activity < REFERENCE - timedelta(days=60) else 0
    title = (lead["job_title"] or "").lower()
    score -= 30 if any(word in title for word in _NOT_A_BUYER) else 0
    return score


def _meets_mql(lead: dict[str, Any], score: int, last_activity: datetime) -> bool:
    """Roughly the example agreement's `mql` definition, so the funnel mostly agrees with it."""
    domain = lead["email_domain"]
    excluded = (domain in _EXCLUDED_DOMAINS or domain.endswith(".edu")
                or lead["seniority"] == "student")
    employees = lead["employee_count"]
    icp = (employees is not None and 50 <= employees <= 5000
           and lead["industry"] in _ICP_INDUSTRIES and lead["country"] in _ICP_COUNTRIES
           and lead["source"] != "purchased_list" and not excluded)
    recent = last_activity >= REFERENCE - timedelta(days=30)
    demo = (bool(lead["demo_requested"]) and employees is not None and employees >= 20
            and not excluded)
    return (icp and score >= 40 and recent) or demo


def _firmographics(rng: random.Random, lead: dict[str, Any]) -> None:
    country = _COUNTRY(rng)
    seniority = _SENIORITY(rng)
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    company = rng.choice(_PREFIXES).capitalize() + rng.choice(_SUFFIXES)
    kind = rng.random()
    if (seniority == "student" and rng.random() < 0.6) or kind < 0.015:
        domain = rng.choice(_EDU)
    elif kind < 0.025:
        domain = rng.choice(_COMPETITORS)
    elif kind < 0.175:
        domain = rng.choice(_PERSONAL_LISTED if rng.random() < 0.8 else _PERSONAL_OTHER)
    else:
        tld = {"NL": "nl", "DE": "de", "GB": "co.uk", "FR": "fr", "BE": "be"}.get(country, "com")
        domain = f"{company.lower()}.{tld}"
    employees: int | None = max(1, min(300_000, round(rng.lognormvariate(math.log(180), 1.6))))
    if domain.endswith(".edu") or domain in _PERSONAL_LISTED or domain in _PERSONAL_OTHER:
        if rng.random() < 0.4:
            employees = None
    elif rng.random() < 0.04:
        employees = None
    lead["email"] = f"{first}.{last}@{domain}"
    lead["email_domain"] = domain
    lead["company"] = f"{company} {_LEGAL.get(country, 'Ltd')}"
    lead["employee_count"] = employees
    lead["industry"] = _INDUSTRY(rng) if rng.random() > 0.04 else None
    lead["country"] = country if rng.random() > 0.02 else None
    lead["job_title"] = rng.choice(_TITLES[seniority])
    lead["seniority"] = seniority if rng.random() > 0.05 else None
    lead["source"] = _SOURCE(rng)
    lead["campaign"] = rng.choice(_CAMPAIGNS) if rng.random() < 0.7 else None


def _engagement_counters(rng: random.Random, lead: dict[str, Any]) -> float:
    intent = rng.gammavariate(0.8, 1.0)
    lead["demo_requested"] = rng.random() < min(0.6, 0.04 * intent ** 1.5 + 0.01)
    lead["pricing_page_visits"] = _poisson(rng, 1.4 * intent)
    lead["email_clicks"] = _poisson(rng, 3.5 * intent)
    lead["content_downloads"] = _poisson(rng, 1.1 * intent)
    attended = rng.random() < (0.7 if lead["source"] == "webinar" else min(0.5, 0.08 * intent))
    lead["webinar_attended"] = attended if rng.random() < 0.8 else None
    return intent


class _Funnel:
    """The stage timestamps of one lead; a stage reached after the reference is not reached."""

    def __init__(self, rng: random.Random, lead: dict[str, Any]):
        self.rng, self.lead = rng, lead
        self.times: dict[str, datetime] = {}

    def at(self, name: str, moment: datetime) -> bool:
        if moment >= REFERENCE:
            return False
        self.times[name] = moment
        return True

    def after(self, name: str, start: datetime, median_hours: float, sigma: float = 1.0) -> bool:
        return self.at(name, start + _hours(self.rng.lognormvariate(math.log(median_hours),
                                                                    sigma)))

    def sales(self, accepted: datetime) -> str:
        """From acceptance on: BANT, SQL, opportunity, won or lost; the stage reached."""
        rng, lead = self.rng, self.lead
        lead["owner_rep"] = rng.choice(_REPS)
        qualified = rng.random() < 0.45
        for name in ("need_confirmed", "budget_confirmed", "authority_confirmed"):
            lead[name] = True if qualified else rng.random() < 0.5
        lead["timeline"] = (rng.choice(["this_quarter", "next_quarter"]) if qualified
                            else rng.choice(["this_year", "none", "next_quarter", "this_quarter"]))
        if not qualified or not self.after("sql_at", accepted, 24 * 6):
            return "sal"
        sql_at = self.times["sql_at"]
        if rng.random() >= 0.7 or not self.after("opportunity_at", sql_at, 24 * 4):
            if rng.random() < 0.2 and self.after("lost_at", sql_at, 24 * 10):
                return self.recycle(self.times["lost_at"], "sql")
            return "sql"
        lead["amount"] = round(rng.lognormvariate(math.log(36_000), 0.8), 2)
        opportunity = self.times["opportunity_at"]
        outcome = rng.random()
        if outcome < 0.28 and self.after("won_at", opportunity, 24 * 35):
            return "customer"
        if 0.28 <= outcome < 0.70 and self.after("lost_at", opportunity, 24 * 30):
            return self.recycle(self.times["lost_at"], "opportunity")
        return "opportunity"

    def recycle(self, lost: datetime, stage: str) -> str:
        if self.rng.random() < 0.6 and self.after("recycled_at", lost, 24):
            self.lead["disposition"] = self.rng.choice(_NURTURE_CODES)
            return "nurture"
        return stage

    def reject(self, rejected: datetime) -> str:
        rng = self.rng
        if rng.random() < 0.55:
            if self.after("recycled_at", rejected, 2):
                self.lead["disposition"] = rng.choice(_NURTURE_CODES[:3])
                return "nurture"
        elif self.after("disqualified_at", rejected, 2):
            self.lead["disposition"] = rng.choice(_DISQUALIFY_CODES)
            return "disqualified"
        return "mql"


def _funnel(rng: random.Random, lead: dict[str, Any], intent: float) -> tuple[str, _Funnel]:
    funnel = _Funnel(rng, lead)
    created = REFERENCE - timedelta(seconds=rng.randrange(1, 300 * 86_400))
    funnel.at("created_at", created)
    if lead["source"] == "event":
        funnel.at("captured_at", created - _hours(rng.uniform(0.5, 72)))
        if rng.random() < 0.9:
            funnel.after("delivered_at", created, 18, 0.9)
    quiet = timedelta(seconds=round(rng.expovariate(1 / (40 * 86_400)) / (1 + 2 * intent)))
    last_activity = max(created + timedelta(minutes=1), REFERENCE - quiet - timedelta(minutes=5))
    funnel.at("last_activity_at", last_activity)
    score = _engagement(lead, last_activity)
    chance = 0.85 if _meets_mql(lead, score, last_activity) else 0.015
    if rng.random() >= chance:
        return "lead", funnel
    before = timedelta(seconds=round(rng.expovariate(1 / (3 * 86_400))))
    mql_at = max(created + timedelta(minutes=10), last_activity - before)
    if not funnel.at("mql_at", mql_at):
        return "lead", funnel
    if rng.random() < 0.93:
        funnel.after("first_touch_at", mql_at, 5, 1.2)
    decision = rng.random()
    if decision < 0.68:
        if funnel.after("accepted_at", mql_at, 20):
            return funnel.sales(funnel.times["accepted_at"]), funnel
    elif decision < 0.82 and funnel.after("rejected_at", mql_at, 20):
        return funnel.reject(funnel.times["rejected_at"]), funnel
    return "mql", funnel


def _dirty(rng: random.Random, lead: dict[str, Any]) -> None:
    """One kind of bad data, the kinds CRM exports really carry."""
    kind = rng.random()
    if kind < 0.25:  # recorded as SQL without the qualification behind it
        lead["stage"] = rng.choice(["sql", "opportunity"])
        lead["need_confirmed"] = lead["budget_confirmed"] = lead["authority_confirmed"] = None
    elif kind < 0.45:  # columns missing from this export
        for name in rng.sample(["industry", "country", "employee_count", "stage", "source",
                                "last_activity_at"], rng.randint(1, 2)):
            del lead[name]
    elif kind < 0.60:
        lead["employee_count"] = rng.choice(["n/a", "n/a", "unknown", "-"])
    elif kind < 0.72:
        lead["last_activity_at"] = rng.choice(["yesterday", "31/10/2026", "2026-13-01"])
    elif kind < 0.80:
        lead["stage"] = rng.choice(["Working - Contacted", "MQL ", "closed"])
    else:  # readable, but not as the declared type: the coercer's slow path
        lead["email_clicks"] = str(lead["email_clicks"])
        lead["demo_requested"] = "yes" if lead["demo_requested"] else "no"
        if isinstance(lead["employee_count"], int) and lead["employee_count"] >= 1000:
            lead["employee_count"] = f"{lead['employee_count']:,}"


def generate(n: int, seed: int = 7, dirty: float = 0.03) -> Iterator[dict[str, Any]]:
    """`n` lead records, every column present (None when empty) unless dirty data drops it."""
    rng = random.Random(seed)
    for i in range(n):
        lead: dict[str, Any] = dict.fromkeys(FIELDS)
        lead["id"] = f"L-{seed:02d}{i + 1:08d}"
        _firmographics(rng, lead)
        intent = _engagement_counters(rng, lead)
        stage, funnel = _funnel(rng, lead, intent)
        style = rng.choices((0, 1, 2, 3), cum_weights=(45, 55, 80, 100))[0]
        for name, moment in funnel.times.items():
            lead[name] = _spell(moment, style)
        lead["stage"] = stage
        if rng.random() < dirty:
            _dirty(rng, lead)
        yield lead


# ---------------------------------------------------------------- writers


def _malformed(index: int) -> bool:
    return index % MALFORMED_EVERY == MALFORMED_EVERY - 1


def write_jsonl(leads: Iterable[dict[str, Any]], out: IO[bytes]) -> int:
    dumps, option, write = orjson.dumps, orjson.OPT_APPEND_NEWLINE, out.write
    count = 0
    for count, lead in enumerate(leads, 1):
        line = dumps(lead, option=option)
        if _malformed(count - 1):  # a line cut short, as a crashed export leaves it
            line = line[: len(line) // 2] + b"\n"
        write(line)
    return count


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if value is True or value is False:
        return "true" if value else "false"
    return value


def write_csv(leads: Iterable[dict[str, Any]], out: IO[bytes]) -> int:
    text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
    writer = csv.writer(text)
    writer.writerow(FIELDS)
    count = 0
    for lead in leads:
        writer.writerow([_cell(lead.get(name)) for name in FIELDS])
        count += 1
    text.flush()
    text.detach()
    return count


def instant(text: str) -> datetime | None:
    """A timestamp spelling (`_spell`) as an aware UTC datetime; None for a bad value."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "T"))
    except ValueError:
        return None
    if moment.tzinfo is None:  # the naive spelling is local time
        moment = moment.replace(tzinfo=_AMSTERDAM)
    return moment.astimezone(UTC)


def write_parquet(leads: Iterable[dict[str, Any]], out: IO[bytes], batch: int = 65_536,
                  typed_timestamps: bool = False) -> int:
    """Leads as Parquet. Timestamps are text, as a CRM export spells them, or with
    `typed_timestamps` a `TIMESTAMP` (UTC) column, as a warehouse table holds them (a value
    that is not a timestamp is then null)."""
    pa: Any = importlib.import_module("pyarrow")  # optional: only Parquet output needs it
    pq: Any = importlib.import_module("pyarrow.parquet")

    stamp = pa.timestamp("us", tz="UTC") if typed_timestamps else pa.string()
    arrow_types = {"string": pa.string(), "datetime": stamp, "integer": pa.int64(),
                   "number": pa.float64(), "boolean": pa.bool_()}
    schema = pa.schema([(name, arrow_types[kind]) for name, kind in FIELDS.items()])
    checks: dict[str, tuple[type, ...]] = {"string": (str,), "datetime": (str,),
                                           "integer": (int,), "number": (int, float),
                                           "boolean": (bool,)}
    columns: dict[str, list[Any]] = {name: [] for name in FIELDS}
    count = 0

    def typed(kind: str, value: Any) -> Any:
        # A value that does not fit a typed column (`n/a` as an integer) is null in Parquet.
        if value is None or (isinstance(value, bool) and kind != "boolean"):
            return None
        if kind == "datetime" and typed_timestamps:
            return instant(value) if isinstance(value, str) else None
        return value if isinstance(value, checks[kind]) else None

    with pq.ParquetWriter(out, schema, compression="zstd") as writer:
        for count, lead in enumerate(leads, 1):
            for name, kind in FIELDS.items():
                columns[name].append(typed(kind, lead.get(name)))
            if count % batch == 0:
                writer.write_table(pa.table(columns, schema=schema))
                columns = {name: [] for name in FIELDS}
        if columns["id"]:
            writer.write_table(pa.table(columns, schema=schema))
    return count


WRITERS: Final = {"jsonl": write_jsonl, "csv": write_csv, "parquet": write_parquet,
                  "parquet-typed": partial(write_parquet, typed_timestamps=True)}


def write_leads(path: Path | str, n: int, seed: int = 7, fmt: str | None = None) -> int:
    """Write `n` leads to `path` (`-` is stdout); the format comes from the suffix by default
    (`parquet-typed`: Parquet with timestamp columns, not text).

    A file is written beside its final name and renamed into place when complete, so an
    interrupted run never leaves a truncated file under the final name.
    """
    fmt = fmt or {".csv": "csv", ".parquet": "parquet"}.get(Path(str(path)).suffix, "jsonl")
    writer = WRITERS[fmt]
    if str(path) == "-":
        count = writer(generate(n, seed), sys.stdout.buffer)
        sys.stdout.buffer.flush()
        return count
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    unfinished = target.with_name(f".{target.name}.{os.getpid()}.partial")
    try:
        with open(unfinished, "wb", buffering=1 << 20) as handle:
            count = writer(generate(n, seed), handle)
        os.replace(unfinished, target)
    finally:
        unfinished.unlink(missing_ok=True)
    return count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--n", type=int, default=1000, help="number of leads (default 1000)")
    parser.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    parser.add_argument("--format", choices=sorted(WRITERS), default=None,
                        help="output format (default: from --out's suffix, else jsonl)")
    parser.add_argument("--out", default="-", help="output file, `-` for stdout (default)")
    args = parser.parse_args(argv)
    if args.n < 0:
        parser.error("--n must be at least 0")
    if args.format and args.format.startswith("parquet") and args.out == "-":
        parser.error("Parquet needs a file: give --out")
    count = write_leads(args.out, args.n, args.seed, args.format)
    if args.out != "-":
        print(f"{count:,} leads written to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
