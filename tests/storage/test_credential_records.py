"""One credential record shape: every read path returns the same record, enums by value.

The sign-in reads run on the driver's cursor (``Prepared`` with typed results), the account
and admin reads through SQLAlchemy; both build the record with one function from one
column list, so a credential read either way must be equal field for field, datetimes and
booleans included.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import Engine, select, update

from authsvc.storage import accounts, user_state
from authsvc.storage import repositories as repo
from authsvc.storage.db import transaction
from authsvc.storage.models import credentials, users
from authsvc.storage.policies import DEFAULT_GROUP_ID, default_policy_id
from authsvc.storage.records import CredentialStatus, Role, Trust, UserStatus
from tests.storage.builders import T0, make_user, new_credential


def test_every_read_path_returns_the_same_record(engine: Engine) -> None:
    with transaction(engine) as conn:
        user = make_user(conn, "ada")
        pk = repo.add_credential(conn, new_credential(user.id, b"ada-key"))
        repo.record_use(
            conn,
            credential_pk=pk,
            old_sign_count=0,
            new_sign_count=7,
            backed_up=True,
            at=T0 + timedelta(minutes=1),
        )
        accounts.flag_credential(conn, pk, T0 + timedelta(minutes=2))
    with transaction(engine) as conn:
        by_id = repo.sign_in_credential(conn, b"ada-key")
        by_username = repo.sign_in_credentials(conn, "ADA")
        listed = repo.list_credentials(conn, user.id)
        by_pk = accounts.credential_by_pk(conn, pk)
        admin_listed = accounts.list_credentials(conn, user_id=user.id)
        in_group = accounts.credentials_in_groups(conn, [DEFAULT_GROUP_ID])
        policy_id = default_policy_id(conn)
    assert by_id is not None
    assert [by_id] == by_username == listed == [by_pk] == admin_listed == in_group
    assert by_id.sign_count == 7
    assert by_id.backed_up is True
    assert by_id.backup_eligible is True
    assert by_id.aaguid_proven is False
    assert by_id.last_used_at == T0 + timedelta(minutes=1)
    assert by_id.flagged_at == T0 + timedelta(minutes=2)
    assert by_id.created_at == T0
    assert by_id.transports == ("internal", "hybrid")
    assert by_id.user_handle == user.user_handle
    assert by_id.policy_id == policy_id
    assert by_id.status is CredentialStatus.ACTIVE
    assert by_id.trust is Trust.TRUSTED


def test_enums_are_stored_and_compared_by_value(engine: Engine) -> None:
    with transaction(engine) as conn:
        user = make_user(conn, "bea")
        pk = repo.add_credential(conn, new_credential(user.id, b"bea-key"))
        accounts.set_credential_status(conn, pk, CredentialStatus.LOCKED)
        accounts.set_role(conn, user.id, "admin")
        previous = user_state.set_status(conn, user.id, UserStatus.DISABLED)
    with transaction(engine) as conn:
        stored = conn.execute(
            select(credentials.c.status, users.c.role, users.c.status.label("user_status"))
            .join_from(credentials, users, credentials.c.user_id == users.c.id)
            .where(credentials.c.id == pk)
        ).one()
        record = accounts.credential_by_pk(conn, pk)
        summary = accounts.user_summary(conn, user.id)
        again = repo.get_user(conn, user.id)
    assert tuple(stored) == ("locked", "admin", "disabled")  # plain strings in the columns
    assert previous is UserStatus.ACTIVE
    assert record.status is CredentialStatus.LOCKED
    as_text: str = record.status
    assert as_text == "locked"  # a member equals its value: code comparing strings still works
    assert (summary.role, summary.status) == (Role.ADMIN, UserStatus.DISABLED)
    assert again is not None
    assert (again.role, again.status) == (Role.ADMIN, UserStatus.DISABLED)


def test_a_value_outside_an_enum_is_refused_before_it_is_written(engine: Engine) -> None:
    with transaction(engine) as conn:
        user = make_user(conn, "cy")
        pk = repo.add_credential(conn, new_credential(user.id, b"cy-key"))
    with pytest.raises(ValueError, match="'frozen'"), transaction(engine) as conn:
        accounts.set_credential_status(conn, pk, "frozen")
    with pytest.raises(ValueError, match="'root'"), transaction(engine) as conn:
        accounts.set_role(conn, user.id, "root")
    with pytest.raises(ValueError, match="'maybe'"), transaction(engine) as conn:
        repo.add_credential(conn, replace(new_credential(user.id, b"cy-2"), trust="maybe"))


def test_a_row_with_an_unknown_status_is_not_read_as_another(engine: Engine) -> None:
    """A value no enum member has (written outside the service) fails loudly when read."""
    with transaction(engine) as conn:
        user = make_user(conn, "dee")
        pk = repo.add_credential(conn, new_credential(user.id, b"dee-key"))
        conn.execute(update(credentials).where(credentials.c.id == pk).values(status="odd"))
    with pytest.raises(ValueError, match="'odd'"), transaction(engine) as conn:
        repo.sign_in_credential(conn, b"dee-key")
