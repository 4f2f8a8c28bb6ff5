"""A query built as a chain of steps (CTEs), each adding named columns to the one before.

Every step is `SELECT p.*, <new columns> FROM <previous step> AS p [LEFT JOIN ...]`, so a
column computed once (a definition, a score, a clock's start) is read by name afterwards.
Column names are allocated so that they never collide with the lead's fields.

A lookup table is joined (`LEFT JOIN table ON table.key = <expression>`), or, when the query
has `inline` lookups (the embedded DuckDB engine), read as a list held in a variable and
indexed by the key: a query without joins keeps the input's row order in DuckDB, so its
result needs no sort. Each list is brought in once, as a column of its own step (a
constant per chunk), and indexed from there: DuckDB builds a constant list afresh for every
call that names the variable, which would cost its length on every lookup of every chunk.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import sqlglot.expressions as exp

from .dialects import Dialect, anon

Expr = exp.Expr
PREVIOUS = "p"


@dataclass
class Join:
    table: str
    alias: str
    on: Expr


# (table, column, key expression) -> (the variable holding that column as a list, the key's
# 1-based index in it).
Lookup = Callable[[str, str, Expr], tuple[str, Expr]]


@dataclass
class Query:
    d: Dialect
    used: set[str] = field(default_factory=set)
    steps: list[tuple[str, exp.Select]] = field(default_factory=list)
    inline: Lookup | None = None
    lists: dict[str, str] = field(default_factory=dict)  # variable -> its list column

    def reserve(self, names: Iterable[str]) -> None:
        for name in names:
            self.used.add(self.d.key(name))

    def name(self, base: str) -> str:
        """A column name not used yet (the lead's fields are reserved first)."""
        name = base
        while self.d.key(name) in self.used:
            name += "_"
        self.used.add(self.d.key(name))
        return name

    def col(self, name: str) -> exp.Column:
        """A column of the previous step."""
        return self.d.column(name, PREVIOUS)

    def table(self, name: str, alias: str | None = None) -> Expr:
        table = exp.Table(this=self.d.ident(name))
        if alias is not None:
            table.set("alias", exp.TableAlias(this=self.d.ident(alias)))
        return table

    @property
    def current(self) -> str:
        return self.steps[-1][0]

    def start(self, source: str, columns: Sequence[str]) -> None:
        """The first step: the listed columns of the source relation."""
        select = exp.select(*(self.col(c) for c in columns)).from_(
            self.table(source, PREVIOUS))
        self.steps.append((self.step_name(), select))

    def step_name(self) -> str:
        return f"step_{len(self.steps) + 1}"

    def add(self, columns: Sequence[tuple[str, Expr]], joins: Sequence[Join] = ()) -> None:
        """A step with the previous step's columns and `columns` (name, expression)."""
        if not columns:
            return
        if self.inline is not None and joins:
            known = set(self.lists)
            columns = [(n, self.inlined(e, joins)) for n, e in columns]
            joins = ()
            self.add([(self.lists[v], anon("GETVARIABLE", exp.Literal.string(v)))
                      for v in self.lists if v not in known])
        # copy=False throughout: the builders would otherwise copy every column's tree at
        # each call (a second of set-up for an export whose every field is text).
        star = exp.Column(this=exp.Star(), table=self.d.ident(PREVIOUS))
        select = exp.select(star, *(exp.alias_(e, self.d.ident(n), copy=False)
                                    for n, e in columns), copy=False)
        select = select.from_(self.table(self.current, PREVIOUS), copy=False)
        for join in joins:
            select = select.join(self.table(join.table, join.alias), on=join.on,
                                 join_type="LEFT", copy=False)
        self.steps.append((self.step_name(), select))

    def inlined(self, value: Expr, joins: Sequence[Join]) -> Expr:
        """`value` with each joined table's columns read through `inline` instead."""
        keys: dict[str, tuple[str, Expr]] = {}
        for join in joins:
            on = join.on
            assert isinstance(on, exp.EQ) and isinstance(on.this, exp.Column)
            keys[join.alias] = (join.table, on.expression)

        def swap(node: exp.Expr) -> exp.Expr:
            if isinstance(node, exp.Column) and node.table in keys:
                table, key = keys[node.table]
                assert self.inline is not None
                variable, index = self.inline(table, node.name, key.copy())
                if variable not in self.lists:
                    self.lists[variable] = self.name(f"list__{variable}")
                # A list index below 1 counts from the end: a key before the first reads NULL.
                return exp.Case(ifs=[exp.If(
                    this=exp.GTE(this=index, expression=exp.Literal.number(1)),
                    true=anon("LIST_EXTRACT", self.col(self.lists[variable]), index.copy()))])
            return node

        return value.transform(swap)

    def finish(self, columns: Sequence[tuple[str, Expr]], order_by: str | None) -> exp.Select:
        """The final SELECT over the steps, ordered by `order_by` (None: in the order the
        steps keep, for a query without joins on an engine that keeps it)."""
        select = exp.select(*(exp.alias_(e, self.d.ident(n), copy=False) for n, e in columns),
                            copy=False)
        select = select.from_(self.table(self.current, PREVIOUS), copy=False)
        if order_by is not None:
            select = select.order_by(self.col(order_by), copy=False)
        ctes = [self.d.cte(name, query) for name, query in self.steps]
        select.set("with_", exp.With(expressions=ctes))
        return select

    def joined(self, alias: str, column: str) -> exp.Column:
        return self.d.column(column, alias)
