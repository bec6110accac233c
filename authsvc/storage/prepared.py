"""Hot-path statements: written with SQLAlchemy Core, executed on the driver's cursor.

A sign-in runs six statements. SQLAlchemy's per-execution machinery (execution context,
compiled-cache lookup, result proxy) costs about 25 µs each here, more than SQLite needs to
run them. :class:`Prepared` keeps the statement in Core, so it is portable and defined next
to the models, renders it once per dialect, and runs it on the DBAPI cursor of the
connection's *current transaction*, so it commits or rolls back with everything else.

Bind values go through each column type's own bind processor (a tz-aware datetime is
stored exactly as the ORM would store it). Results are raw driver rows, unless the
statement is built with ``typed_results=True``: then each selected column's own result
processor runs too (a SQLite datetime string becomes an aware datetime, 0/1 a bool), so a
row reads exactly as SQLAlchemy's would and one record builder serves both.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.expression import Executable

from authsvc.errors import Unavailable


@dataclass(frozen=True, slots=True)
class _Rendered:
    sql: str
    names: tuple[str, ...]
    processors: tuple[Callable[[Any], Any] | None, ...]
    positional: bool
    #: values of the statement's own literals (``coalesce(x, 1)`` binds the 1 anonymously)
    literals: dict[str, Any]
    #: (column index, its type's result processor) for each column that has one
    results: tuple[tuple[int, Callable[[Any], Any]], ...] = ()


class Prepared:
    """A Core statement rendered once per dialect and run on the raw DBAPI cursor."""

    def __init__(self, statement: Executable, *, typed_results: bool = False) -> None:
        self._statement = statement
        self._typed_results = typed_results
        self._rendered: dict[str, _Rendered] = {}
        self._lock = threading.Lock()

    def _render(self, dialect: Dialect) -> _Rendered:
        rendered = self._rendered.get(dialect.name)
        if rendered is None:
            compiled = self._statement.compile(dialect=dialect)  # type: ignore[attr-defined]
            names = (
                tuple(compiled.positiontup or ()) if compiled.positional else tuple(compiled.binds)
            )
            processors = tuple(compiled.binds[name].type.bind_processor(dialect) for name in names)
            literals = {
                name: bind.effective_value
                for name, bind in compiled.binds.items()
                if not bind.required
            }
            results = _result_processors(self._statement, dialect) if self._typed_results else ()
            rendered = _Rendered(
                str(compiled), names, processors, bool(compiled.positional), literals, results
            )
            with self._lock:
                self._rendered[dialect.name] = rendered
        return rendered

    def execute(self, conn: Connection, params: Mapping[str, Any]) -> Any:
        """Run in ``conn``'s transaction; return the DBAPI cursor (fetchone / rowcount)."""
        r = self._render(conn.dialect)
        given = {**r.literals, **params} if r.literals else params
        values = [
            given[name] if process is None else process(given[name])
            for name, process in zip(r.names, r.processors, strict=True)
        ]
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(
                r.sql, values if r.positional else dict(zip(r.names, values, strict=True))
            )
        except _down_errors(conn.dialect) as exc:
            raise Unavailable from exc
        return cursor

    def fetchone(self, conn: Connection, params: Mapping[str, Any]) -> Sequence[Any] | None:
        row: Sequence[Any] | None = self.execute(conn, params).fetchone()
        if row is None:
            return None
        return self._typed(conn, row)

    def fetchall(self, conn: Connection, params: Mapping[str, Any]) -> list[Sequence[Any]]:
        return [self._typed(conn, row) for row in self.execute(conn, params).fetchall()]

    def _typed(self, conn: Connection, row: Sequence[Any]) -> Sequence[Any]:
        results = self._render(conn.dialect).results
        if not results:
            return row
        values = list(row)
        for index, process in results:
            values[index] = process(values[index])
        return values

    def rowcount(self, conn: Connection, params: Mapping[str, Any]) -> int:
        return int(self.execute(conn, params).rowcount)


def _result_processors(
    statement: Executable, dialect: Dialect
) -> tuple[tuple[int, Callable[[Any], Any]], ...]:
    """(index, processor) of each selected column whose type turns the driver's value into
    another (a SQLite datetime string, 0/1 for a boolean)."""
    columns = statement.selected_columns  # type: ignore[attr-defined]
    found = (
        (index, column.type.dialect_impl(dialect).result_processor(dialect, None))
        for index, column in enumerate(columns)
    )
    return tuple((index, process) for index, process in found if process is not None)


def _down_errors(dialect: Dialect) -> tuple[type[BaseException], ...]:
    """The driver's "cannot reach / locked" errors, which SQLAlchemy would have wrapped."""
    dbapi = dialect.loaded_dbapi
    return (dbapi.OperationalError, dbapi.InterfaceError)
