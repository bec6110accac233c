"""Durable and ephemeral state: engine and migrations, typed records, repositories, challenges.

Everything here takes a SQLAlchemy ``Connection`` from the caller (see
:func:`authsvc.storage.db.transaction`), so a ceremony's writes and its audit record commit
together. Repositories return frozen records, never ORM objects, and raise the errors of
:mod:`authsvc.errors`, so no caller has to know SQLAlchemy's or a driver's exceptions.
"""
