"""`slaengine sql`: the agreement as SQL for a warehouse (decisions, KPIs, or the lookup tables
they join)."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import click

from ..agreement.diagnostics import UsageError
from .evaluate import agreement_option, now_option, open_agreement, parse_now

DIALECT_NAMES = ("duckdb", "postgres", "snowflake", "bigquery", "spark")


def parse_years(text: str | None, default: tuple[int, int]) -> tuple[int, int]:
    if text is None:
        return default
    match = re.fullmatch(r"\s*(\d{4})\s*-\s*(\d{4})\s*", text)
    if not match or int(match[1]) > int(match[2]):
        raise click.BadParameter(f"`{text}` is not a range of years such as 2020-2030",
                                 param_hint="--years")
    return int(match[1]), int(match[2])


@click.command("sql")
@agreement_option
@click.option("--dialect", type=click.Choice(DIALECT_NAMES), default="duckdb",
              show_default=True, help="The warehouse the SQL is for.")
@click.option("--what", type=click.Choice(["decisions", "kpis", "calendar"]),
              default="decisions", show_default=True,
              help="The decisions query, the KPI query, or the lookup tables they join "
                   "(CREATE + INSERT: calendars, and the KPIs' period keys).")
@now_option
@click.option("--years", "years_text", metavar="YYYY-YYYY",
              help="Local years the calendar tables cover; give the same to both --what "
                   "(default: five years either side of --now).")
@click.option("--view", metavar="NAME", help="Write `CREATE OR REPLACE VIEW NAME AS ...`.")
@click.option("--relation", default="leads", show_default=True, metavar="NAME",
              help="The table or view of leads: the agreement's fields as typed columns and "
                   "`_row`, the input order.")
def sql_command(agreement_dir: Path, dialect: str, what: str, now_text: str | None,
                years_text: str | None, view: str | None, relation: str) -> None:
    """Print the agreement compiled to SQL for a warehouse.

    The decisions query reads a relation whose columns are the agreement's fields (typed as
    `slaengine sql` documents them) and `_row`, and returns one row per lead, in `_row`
    order: each definition, score and band, the stage, owner and violation codes, and each
    service level's status, due time and elapsed time. Constructs the dialect cannot express
    exactly are refused, by name (exit 2).

    \b
    The KPI query (`--what kpis`, as of --now) aggregates the decisions query and returns:
      kind, name    `kpi` and the KPI's id, or `calibration` and the score's name
      grouping      `all` (the overall value), `period` or `group` (KPIs), `band`
      key           the period (2026-10, 2026-Q4, 2026-W43), group or band; NULL for `all`
                    and for the leads without a band
      mature        which leads the row holds, for `all`, `group` and `band`: a KPI's
                    value is its `all` row with mature true, the other row counts the
                    immature leads; NULL for `period` rows, which hold every lead
      leads         leads in scope
      measured      leads the value is taken over
      numerator     leads meeting the numerator (ratio), met clocks (attainment), converted
                    leads (calibration)
      invalid       negative (or, on a calendar, uncountable) durations left out
      out_of_range  leads whose cohort or duration lies outside the lookup tables' --years
      value         the value (DOUBLE), NULL when it has none
    A KPI with no lead in scope has no `all` row (its count and sum are 0). Targets are not
    in the query: compare `value` with the agreement's.
    """
    # sqlglot is an optional dependency (the `sql` extra): imported when the command runs.
    try:
        exp = importlib.import_module("sqlglot.expressions")
        sql = importlib.import_module("slaengine.sql")
        kpis = importlib.import_module("slaengine.sql.kpis")
    except ImportError:
        raise UsageError("`slaengine sql` needs sqlglot: pip install 'slaengine[sql]'") \
            from None
    calendar_statements, compile_decisions = sql.calendar_statements, sql.compile_decisions
    default_years, dialect_of, prefix = sql.default_years, sql.dialect, sql.TABLE_PREFIX

    now = parse_now(now_text)
    if now.tzinfo is None:
        raise click.BadParameter("give --now with a UTC offset, e.g. 2026-11-20T10:00:00Z",
                                 param_hint="--now")
    agreement = open_agreement(agreement_dir)
    years = parse_years(years_text, default_years(now))
    d = dialect_of(dialect)
    plan = kpis.KpiPlan(agreement.spec)
    if what == "calendar":
        compiled = compile_decisions(agreement.spec, now, version=agreement.version,
                                     digest=agreement.digest, dialect_name=dialect,
                                     years=years, relation=relation)
        lookups = kpis.lookup_statements(plan, d, years, prefix)
        statements = ([] if lookups and not (agreement.spec.calendars
                                             or compiled.needs_midnights)
                      else list(calendar_statements(agreement.spec, d, years, prefix,
                                                    compiled.needs_midnights)))
        for statement in [*statements, *lookups]:
            click.echo(d.render(statement, pretty=False) + ";")
        return
    compiled = compile_decisions(agreement.spec, now, version=agreement.version,
                                 digest=agreement.digest, dialect_name=dialect, years=years,
                                 relation=relation,
                                 extra_columns=plan.extra_columns() if what == "kpis" else None)
    tree = compiled.tree
    if what == "kpis":
        tree = kpis.compile_kpis(plan, compiled, now,
                                 kpis.printed_lookups(plan, years, prefix))
    if view is not None:
        tree = exp.Create(this=exp.Table(this=d.ident(view)), kind="VIEW", expression=tree,
                          replace=True)
    click.echo(d.render(tree) + ";")
