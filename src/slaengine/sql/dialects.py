"""What each SQL dialect calls the few functions the compiled agreement needs.

sqlglot renders the expression tree for each dialect; where its generic expressions would
render a function the warehouse lacks (or one with other semantics), the dialect builds the
call itself. Everything the compiler needs beyond plain comparisons and CASE goes through
here: epoch microseconds of a timestamp and back, regex search, substring and list
membership, arrays without NULLs, the column types, and how identifiers are spelled.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

import sqlglot.expressions as exp
from sqlglot import ErrorLevel
from sqlglot.errors import UnsupportedError

from .errors import Unsupported
from .regex import Translated, translate

Expr = exp.Expr

# The SQL type of each field type in the `leads` relation (sqlglot's generic names).
FIELD_TYPES: Final = {
    "string": "VARCHAR", "integer": "BIGINT", "number": "DOUBLE", "boolean": "BOOLEAN",
    "date": "DATE", "datetime": "TIMESTAMPTZ", "list": "ARRAY<VARCHAR>",
}


def lit(value: int | str) -> Expr:
    """An integer or text literal."""
    if isinstance(value, str):
        return exp.Literal.string(value)
    return exp.Literal.number(str(value)) if value >= 0 else exp.Neg(
        this=exp.Literal.number(str(-value)))


def anon(name: str, *args: Expr) -> Expr:
    return exp.Anonymous(this=name, expressions=list(args))


def cast(value: Expr, to: str, dialect: str = "") -> Expr:
    return exp.Cast(this=value, to=exp.DataType.build(to, dialect=dialect or None))


@dataclass(frozen=True)
class Dialect:
    """One warehouse: sqlglot's dialect name and the calls that differ."""

    name: str
    regex_flavor: str
    fold: Callable[[str], str]  # how the warehouse spells an unquoted identifier

    def key(self, name: str) -> str:
        """What the warehouse compares when it looks a column up: every dialect here treats
        names that differ only in case as one column (quoted or not, once folded)."""
        return self.fold(name).lower()

    @property
    def sqlglot(self) -> str:
        return self.name

    @property
    def materialize_steps(self) -> bool:
        """Whether the query's steps (CTEs) are written `AS MATERIALIZED`.

        PostgreSQL (12 and later) inlines a CTE read once into the query that reads it, and
        pulls the subqueries up: each step's columns are then copied into every expression
        of the next step that names them, so the chain of steps becomes one expression that
        grows exponentially with its length, and the server's JIT spends minutes compiling
        it (379 of 380 s of one `EXPLAIN ANALYZE` on 2,000 leads). Materialised, each step is
        computed once, and the same query answers in a fraction of a second. The other
        dialects' planners keep a step's columns computed once (DuckDB, Spark) or have no
        such keyword (Snowflake, BigQuery, Spark).
        """
        return self.name == "postgres"

    @property
    def keys_lookup_tables(self) -> bool:
        """Whether a lookup table's first column (the key it is joined on) is declared its
        PRIMARY KEY.

        Without statistics (a table just created), PostgreSQL assumes an equality join
        matches 1 row in 200 of the table, so each of the decisions query's LEFT JOINs to a
        calendar table multiplies its row estimate by the table's size over 200: 2,000
        leads are estimated at 10^11 rows, and the server's JIT compiles the query for
        several seconds to run it in 0.2. A unique key tells the planner a join keeps the
        lead's row, whatever the statistics.
        """
        return self.name == "postgres"

    def cte(self, name: str, query: exp.Query) -> exp.CTE:
        """A step of a query: `name AS (query)`, materialised where the dialect needs it."""
        return exp.CTE(this=query, alias=exp.TableAlias(this=self.ident(name)),
                       materialized=True if self.materialize_steps else None)

    # ---- identifiers and types

    def ident(self, name: str) -> exp.Identifier:
        return exp.Identifier(this=self.fold(name), quoted=True)

    def column(self, name: str, table: str | None = None) -> exp.Column:
        return exp.Column(this=self.ident(name),
                          table=self.ident(table) if table is not None else None)

    def type_of(self, field_type: str) -> exp.DataType:
        if field_type == "list" and self.name == "snowflake":
            return exp.DataType.build("ARRAY", dialect="snowflake")
        return exp.DataType.build(FIELD_TYPES[field_type])

    # ---- time

    def epoch_us(self, value: Expr) -> Expr:
        """Microseconds since 1970-01-01T00:00:00Z of a timestamp with time zone, as BIGINT."""
        if self.name == "postgres":
            seconds = exp.Extract(this=exp.var("EPOCH"), expression=value)
            return cast(exp.Mul(this=seconds, expression=lit(1_000_000)), "BIGINT")
        if self.name == "snowflake":
            return anon("DATE_PART", exp.var("EPOCH_MICROSECOND"), value)
        if self.name == "duckdb":
            return anon("EPOCH_US", value)
        return anon("UNIX_MICROS", value)

    def from_epoch_us(self, value: Expr) -> Expr:
        """The timestamp with time zone `value` microseconds after the epoch."""
        if self.name == "duckdb":
            return exp.Add(this=anon("TO_TIMESTAMP", lit(0)),
                           expression=anon("TO_MICROSECONDS", value))
        if self.name == "postgres":
            one = exp.Interval(this=exp.Literal.string("1 microsecond"))
            return exp.Add(this=anon("TO_TIMESTAMP", lit(0)),
                           expression=exp.Mul(this=value, expression=one))
        if self.name == "snowflake":
            return anon("TO_TIMESTAMP_TZ", value, lit(6))
        return anon("TIMESTAMP_MICROS", value)

    def timestamp(self, iso_utc: str) -> Expr:
        """A timestamp-with-time-zone literal from `YYYY-MM-DD HH:MM:SS[.ffffff]+00:00`."""
        return exp.Cast(this=exp.Literal.string(iso_utc),
                        to=exp.DataType.build("TIMESTAMPTZ"))

    def date(self, iso: str) -> Expr:
        return exp.Cast(this=exp.Literal.string(iso), to=exp.DataType.build("DATE"))

    # ---- text and lists

    def regex_search(self, value: Expr, pattern: str) -> Expr:
        """Whether `pattern` (Python `re` syntax) is found anywhere in `value`."""
        try:
            found: Translated = translate(pattern, self.regex_flavor)
        except Unsupported as exc:
            raise exc.in_dialect(self.name) from None
        if found.matches_everything:
            return exp.Not(this=exp.Is(this=value, expression=exp.null()))
        text = exp.Literal.string(found.pattern)
        if self.name == "duckdb":
            return anon("REGEXP_MATCHES", value, text)
        if self.name == "bigquery":
            return anon("REGEXP_CONTAINS", value, text)
        if self.name == "spark":
            return exp.RegexpLike(this=value, expression=text)
        if self.name == "postgres":
            return exp.RegexpLike(this=value, expression=text)
        options = exp.Literal.string("i" if found.ignore_case else "c")
        position = anon("REGEXP_INSTR", value, text, lit(1), lit(1), lit(0), options)
        return exp.GT(this=position, expression=lit(0))

    def contains_text(self, value: Expr, part: str) -> Expr:
        """Whether `part` occurs in `value` (case-sensitive)."""
        if part == "":
            return exp.Not(this=exp.Is(this=value, expression=exp.null()))
        return exp.GT(this=exp.StrPosition(this=value, substr=exp.Literal.string(part)),
                      expression=lit(0))

    def list_contains(self, value: Expr, item: str) -> Expr:
        return exp.ArrayContains(this=value, expression=exp.Literal.string(item))

    def compact(self, items: Sequence[Expr]) -> Expr:
        """An array of the items that are not NULL, in order (an array of text)."""
        if self.name == "duckdb":
            return exp.ArrayCompact(this=exp.Array(expressions=list(items)))
        if self.name == "postgres":
            return anon("ARRAY_REMOVE", exp.Array(expressions=list(items)), exp.null())
        if self.name == "snowflake":
            return exp.ArrayConstructCompact(expressions=list(items))
        if self.name == "spark":
            return exp.ArrayCompact(this=exp.Array(expressions=list(items)))
        # BigQuery: the items of an inline array in order, NULLs left out.
        element, offset = exp.to_identifier("item"), exp.to_identifier("position")
        unnest = exp.Unnest(expressions=[exp.Array(expressions=list(items))],
                            alias=exp.TableAlias(columns=[element]), offset=offset)
        query = (exp.select(exp.column(element)).from_(unnest)
                 .where(exp.Not(this=exp.Is(this=exp.column(element), expression=exp.null())))
                 .order_by(exp.column(offset)))
        return exp.Array(expressions=[query])

    # ---- rendering

    def render(self, tree: Expr, pretty: bool = True) -> str:
        """The SQL text; a construct sqlglot cannot render for this dialect is refused."""
        try:
            text: str = tree.sql(dialect=self.sqlglot, pretty=pretty,
                                 unsupported_level=ErrorLevel.RAISE)
        except UnsupportedError as exc:
            raise Unsupported("the compiled agreement", str(exc).splitlines()[0],
                              self.name) from None
        return text


def _same(name: str) -> str:
    return name


DIALECTS: Final[dict[str, Dialect]] = {
    "duckdb": Dialect("duckdb", "re2", _same),
    "postgres": Dialect("postgres", "are", str.lower),
    "snowflake": Dialect("snowflake", "ere", str.upper),
    "bigquery": Dialect("bigquery", "re2", _same),
    "spark": Dialect("spark", "java", _same),
}


def dialect(name: str) -> Dialect:
    try:
        return DIALECTS[name]
    except KeyError:
        raise Unsupported(f"dialect `{name}`", "choose one of " + ", ".join(DIALECTS)) \
            from None
