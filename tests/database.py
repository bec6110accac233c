"""Emptying the test database between tests, keeping what the migrations put there.

The built-in ``default`` policy and group (id 1, made by migration 0003) are part of the
schema's promise: every user without a group follows them. Everything else goes.
"""

from __future__ import annotations

from sqlalchemy import Engine, update

from authsvc.storage.models import Base, groups
from authsvc.storage.policies import DEFAULT_GROUP_ID

_BUILT_IN = frozenset({"groups", "policies"})


def empty_tables(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(update(groups).where(groups.c.id == DEFAULT_GROUP_ID).values(policy_id=1))
        for table in reversed(Base.metadata.sorted_tables):
            if table.name in _BUILT_IN:
                conn.execute(table.delete().where(table.c.id != 1))
            else:
                conn.execute(table.delete())
