"""A query built as a chain of steps (CTEs), each adding named columns to the one before.

Every step is `SELECT p.*, <new columns> FROM <previous step> AS p [LEFT JOIN ...]`, so a
column computed once (a definition, a score, a clock's start) is read by name afterwards.
Column names are allocated so that they never collide with the lead's fields.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import sqlglot.expressions as exp

from .dialects import Dialect

Expr = exp.Expr
PREVIOUS = "p"


@dataclass
class Join:
    table: str
    alias: str
    on: Expr


@dataclass
class Query:
    d: Dialect
    used: set[str] = field(default_factory=set)
    steps: list[tuple[str, exp.Select]] = field(default_factory=list)

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
        star = exp.Column(this=exp.Star(), table=self.d.ident(PREVIOUS))
        select = exp.select(star, *(exp.alias_(e, self.d.ident(n)) for n, e in columns))
        select = select.from_(self.table(self.current, PREVIOUS))
        for join in joins:
            select = select.join(self.table(join.table, join.alias), on=join.on,
                                 join_type="LEFT")
        self.steps.append((self.step_name(), select))

    def finish(self, columns: Sequence[tuple[str, Expr]], order_by: str) -> exp.Select:
        select = exp.select(*(exp.alias_(e, self.d.ident(n)) for n, e in columns))
        select = select.from_(self.table(self.current, PREVIOUS)).order_by(
            self.col(order_by))
        ctes = [exp.CTE(this=query, alias=exp.TableAlias(this=self.d.ident(name)))
                for name, query in self.steps]
        select.set("with_", exp.With(expressions=ctes))
        return select

    def joined(self, alias: str, column: str) -> exp.Column:
        return self.d.column(column, alias)
