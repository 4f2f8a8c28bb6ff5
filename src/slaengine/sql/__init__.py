"""The agreement compiled to SQL: one sqlglot expression tree, rendered per dialect.

`compile_decisions` gives the query of every lead's decision over a relation `leads`;
`calendar_statements` the calendar lookup tables it joins. Constructs a dialect cannot
express exactly raise `Unsupported`, naming them.
"""

from .decisions import ROW, TABLE_PREFIX, Column, CompiledSql, compile_decisions, default_years
from .dialects import DIALECTS, Dialect, dialect
from .errors import Unsupported
from .tables import calendar_statements, calendar_tables, table_rows

__all__ = [
    "DIALECTS", "ROW", "TABLE_PREFIX", "Column", "CompiledSql", "Dialect", "Unsupported",
    "calendar_statements", "calendar_tables", "compile_decisions", "default_years", "dialect",
    "table_rows",
]
