"""Hot-path statements: written with SQLAlchemy Core, executed on the driver's cursor.

A sign-in runs six statements. SQLAlchemy's per-execution machinery (execution context,
compiled-cache lookup, result proxy) costs about 25 µs each here, more than SQLite needs to
run them. :class:`Prepared` keeps the statement in Core, so it is portable and defined next
to the models, renders it once per dialect, and runs it on the DBAPI cursor of the
connection's *current transaction*, so it commits or rolls back with everything else.

Bind values go through each column type's own bind processor (a tz-aware datetime is
stored exactly as the ORM would store it). Results are raw driver rows: hot statements
select only columns whose driver values are already what we want (ints, text, bytes);
booleans are passed through ``bool()`` by the caller.
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


class Prepared:
    """A Core statement rendered once per dialect and run on the raw DBAPI cursor."""

    def __init__(self, statement: Executable) -> None:
        self._statement = statement
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
            rendered = _Rendered(
                str(compiled), names, processors, bool(compiled.positional), literals
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
            raise Unavailable() from exc
        return cursor

    def fetchone(self, conn: Connection, params: Mapping[str, Any]) -> Sequence[Any] | None:
        row: Sequence[Any] | None = self.execute(conn, params).fetchone()
        return row

    def rowcount(self, conn: Connection, params: Mapping[str, Any]) -> int:
        return int(self.execute(conn, params).rowcount)


def _down_errors(dialect: Dialect) -> tuple[type[BaseException], ...]:
    """The driver's "cannot reach / locked" errors, which SQLAlchemy would have wrapped."""
    dbapi = dialect.loaded_dbapi
    return (dbapi.OperationalError, dbapi.InterfaceError)
