"""Alembic environment: run the revisions in ``versions/`` against one database.

Two ways in:

* ``authsvc.storage.db.upgrade()`` (start-up, the CLI, the tests) passes its own connection
  in ``config.attributes["connection"]``, already in a transaction and holding the
  migration lock; the revisions join that transaction.
* The ``alembic`` command line connects to ``sqlalchemy.url`` if it was set, else to
  ``DATABASE_URL``, else to the same SQLite file the service uses by default, and takes
  the migration lock itself.

``compare_type`` and ``compare_server_default`` make ``alembic check`` (and the storage
tests) notice any drift between ``authsvc.storage.models`` and the revisions.
SQLite cannot ALTER most things, so there every operation is rendered in batch mode.
"""

from __future__ import annotations

import os
from logging.config import fileConfig
from pathlib import Path

from alembic import context
from sqlalchemy import Connection

from authsvc.storage.db import create_db_engine, migration_transaction
from authsvc.storage.models import Base

config = context.config
target_metadata = Base.metadata

if config.config_file_name is not None and "connection" not in config.attributes:
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def database_url() -> str:
    """The URL to migrate when no connection was handed in."""
    explicit = config.get_main_option("sqlalchemy.url") or os.environ.get("DATABASE_URL")
    if explicit:
        return explicit
    data_dir = Path(os.environ.get("DATA_DIR") or "var")
    return f"sqlite:///{(data_dir / 'authsvc.db').as_posix()}"


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        compare_server_default=True,
    )


def run_migrations_offline() -> None:
    """``alembic upgrade --sql``: print the DDL for a DBA instead of running it."""
    url = database_url()
    context.configure(
        url=url,
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=url.startswith("sqlite"),
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    handed_in = config.attributes.get("connection")
    if isinstance(handed_in, Connection):
        _configure(handed_in)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_db_engine(database_url())
    try:
        with migration_transaction(engine) as connection:
            _configure(connection)
            with context.begin_transaction():  # joins the transaction already begun
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
