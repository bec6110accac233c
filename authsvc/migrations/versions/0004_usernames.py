"""usernames compared in their RFC 8265 UsernameCaseMapped form

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03

Adds ``users.username_canonical``, fills it for every row, makes it NOT NULL and moves the
unique constraint onto it from ``username``, which stays as typed (what is shown). Unique
canonical forms imply unique typed ones, so the old constraint would only cost writes.

Folding can make two existing accounts one name (``Ada`` and ``ada``), or find a stored
username that the profile refuses (a space, a symbol). Which account keeps the name is the
operator's decision, never this revision's: every row is folded and checked *before*
anything is written, and if any is a problem the upgrade stops with
:class:`UsernameFoldingRefused`, naming each user id and username and how to resolve it.
The upgrade's transaction then leaves the database at 0003, as it was.

The canonical form is computed here with the same call as ``authsvc.usernames.canonical``
(precis-i18n's ``UsernameCaseMapped``, at most 64 characters as typed and folded), copied
rather than imported: a landed revision must keep its meaning whatever the code becomes.
It still depends on precis-i18n and on the Unicode version of Python's ``unicodedata``;
the dependency range in pyproject.toml keeps the library's mapping (``toLower``) fixed.

On SQLite, NOT NULL and the constraint swap rebuild ``users`` (batch mode: copy, drop,
rename); ``authsvc.storage.db.migration_transaction`` runs revisions with foreign keys off,
so dropping the old table does not cascade to ``credentials``.

Offline (``alembic upgrade --sql``, PostgreSQL only) the canonical forms cannot be computed
in SQL; the column is added empty and made NOT NULL, so the script fails on a database that
has users rather than guessing. Upgrade such a database online.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import sqlalchemy as sa
from alembic import context, op
from precis_i18n import get_profile

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MAX_USERNAME_CHARS: Final = 64
BATCH_SIZE: Final = 1000
_PROFILE: Final = get_profile("UsernameCaseMapped")

_users = sa.table(
    "users",
    sa.column("id", sa.Integer()),
    sa.column("username", sa.String()),
    sa.column("username_canonical", sa.String()),
)


class UsernameFoldingRefused(RuntimeError):
    """Stored usernames that fold together or that RFC 8265 refuses: an operator decides."""


def upgrade() -> None:
    if context.is_offline_mode():
        op.add_column("users", sa.Column("username_canonical", sa.String(64), nullable=True))
        _constrain()
        return
    bind = op.get_bind()
    folded = _fold_every_user(bind)  # raises before anything is written
    with op.batch_alter_table("users") as batch:  # ADD COLUMN, no rebuild
        batch.add_column(sa.Column("username_canonical", sa.String(64), nullable=True))
    fill = (
        sa.update(_users)
        .where(_users.c.id == sa.bindparam("row_id"))
        .values(username_canonical=sa.bindparam("folded"))
    )
    rows = [{"row_id": user_id, "folded": value} for user_id, value in folded.items()]
    for start in range(0, len(rows), BATCH_SIZE):
        bind.execute(fill, rows[start : start + BATCH_SIZE])
    _constrain()


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint(op.f("uq_users_username_canonical"), type_="unique")
        batch.create_unique_constraint(op.f("uq_users_username"), ["username"])
        batch.drop_column("username_canonical")


def _constrain() -> None:
    with op.batch_alter_table("users") as batch:
        batch.alter_column("username_canonical", existing_type=sa.String(64), nullable=False)
        batch.drop_constraint(op.f("uq_users_username"), type_="unique")
        batch.create_unique_constraint(op.f("uq_users_username_canonical"), ["username_canonical"])


def _canonical(username: str) -> tuple[str | None, str]:
    """(canonical form, "") or (None, why the profile refuses it); as authsvc.usernames."""
    if len(username) > MAX_USERNAME_CHARS:
        return None, f"longer than {MAX_USERNAME_CHARS} characters"
    try:
        value = _PROFILE.enforce(username)
    except UnicodeEncodeError as exc:
        return None, f"refused by RFC 8265 UsernameCaseMapped: {exc.reason}"
    if len(value) > MAX_USERNAME_CHARS:
        return None, f"longer than {MAX_USERNAME_CHARS} characters once lower-cased"
    return value, ""


def _fold_every_user(bind: sa.Connection) -> dict[int, str]:
    """Every user id's canonical username; or UsernameFoldingRefused naming every problem."""
    folded: dict[int, str] = {}
    owners: dict[str, list[tuple[int, str]]] = {}
    refused: list[str] = []
    last_id = 0
    while True:
        batch = bind.execute(
            sa.select(_users.c.id, _users.c.username)
            .where(_users.c.id > last_id)
            .order_by(_users.c.id)
            .limit(BATCH_SIZE)
        ).all()
        if not batch:
            break
        for user_id, username in batch:
            value, why = _canonical(username)
            if value is None:
                refused.append(f"  user id {user_id} {username!a}: {why}")
                continue
            folded[user_id] = value
            owners.setdefault(value, []).append((user_id, username))
        last_id = batch[-1][0]
    collisions = [
        f"  {value!a}: "
        + ", ".join(f"user id {user_id} {username!a}" for user_id, username in same)
        for value, same in owners.items()
        if len(same) > 1
    ]
    if collisions or refused:
        raise UsernameFoldingRefused(_report(collisions, refused))
    return folded


def _report(collisions: list[str], refused: list[str]) -> str:
    lines = ["migration 0004 cannot give every user a unique RFC 8265 canonical username."]
    if collisions:
        lines += ["These users' usernames fold to the same name (canonical form first):"]
        lines += collisions
    if refused:
        lines += ["These usernames are not usernames under RFC 8265 (UsernameCaseMapped):"]
        lines += refused
    lines += [
        "Nothing was changed: the database is still at revision 0003. Rename all but one user",
        "in each group above, and every refused one, to a username that folds to a name of",
        "its own (for example: UPDATE users SET username = 'ada-2' WHERE id = 7), tell those",
        "users their new username, then run the upgrade again. Names are shown as Python",
        "ASCII literals, so look-alike characters differ visibly.",
    ]
    return "\n".join(lines)
