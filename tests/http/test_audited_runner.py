"""The transaction runner: what commits when a use case succeeds, is refused, or breaks.

``audited`` commits a refused body's earlier writes with the record of its failure and
re-raises the refusal after the commit; anything else rolls everything back unrecorded.
``ceremony`` consumes the challenge before the body runs, so a refused result still uses
it up. Driven through the real services (database and challenge store) of a test app.
"""

from __future__ import annotations

from contextlib import AbstractContextManager

import pytest
from flask import Flask
from sqlalchemy import Connection, Engine, select

from authsvc.ceremony.state import CeremonyKind, PendingCeremony
from authsvc.errors import ChallengeUnknown, CredentialUnknown, PolicyDenied
from authsvc.services.audited import Subject, audited, ceremony
from authsvc.services.context import Caller, Services
from authsvc.storage import repositories as repo
from authsvc.storage.db import transaction
from authsvc.storage.models import users
from tests.http.flows import audit_rows, services

CALLER = Caller(binding="b" * 64, client_address="192.0.2.7", claimed_origin="https://x.test")


def _usernames(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(select(users.c.username).order_by(users.c.id)).scalars())


def _add_user(svc: Services, conn: Connection, name: str) -> None:
    repo.create_user(
        conn,
        username=name,
        display_name=name,
        user_handle=name.encode().ljust(32, b"."),
        created_at=svc.now(),
    )


def test_a_body_that_returns_commits_its_writes_and_a_success_record(app: Flask) -> None:
    svc = services(app)
    with audited(svc, "test.ok", CALLER) as (conn, subject):
        _add_user(svc, conn, "ada")
        subject.user_id = 5
        subject.detail["note"] = "kept"
    assert _usernames(svc.engine) == ["ada"]
    (row,) = audit_rows(svc.engine)
    assert (row["event"], row["outcome"], row["code"], row["user_id"]) == (
        "test.ok",
        "success",
        None,
        5,
    )
    assert row["client_address"] == "192.0.2.7"
    assert row["origin"] is None  # the Origin header is only ever a claim
    assert '"claimed_origin":"https://x.test"' in row["detail"]


def test_a_refused_body_commits_its_earlier_writes_and_the_failure_record(app: Flask) -> None:
    svc = services(app)
    seen: list[list[str]] = []

    def refused() -> None:
        try:
            with audited(svc, "test.refused", CALLER) as (conn, _subject):
                _add_user(svc, conn, "bea")  # a deliberate write, like a locked credential
                raise PolicyDenied("no", reasons=[{"code": "uv_required", "message": "m"}])
        finally:
            seen.append(_usernames(svc.engine))  # re-raised only once committed

    with pytest.raises(PolicyDenied, match=r"^no$"):
        refused()
    assert seen == [["bea"]]
    (row,) = audit_rows(svc.engine)
    assert (row["outcome"], row["code"]) == ("failure", "policy_denied")
    assert '"reasons":["uv_required"]' in row["detail"]


def test_a_savepoint_keeps_a_refused_body_s_writes_out(app: Flask) -> None:
    svc = services(app)

    def refused() -> None:
        with audited(svc, "test.saved", CALLER) as (conn, _), conn.begin_nested():
            _add_user(svc, conn, "cy")
            raise CredentialUnknown

    with pytest.raises(CredentialUnknown):
        refused()
    assert _usernames(svc.engine) == []
    assert [r["code"] for r in audit_rows(svc.engine)] == ["credential_unknown"]


def test_a_broken_body_rolls_everything_back_and_records_nothing(app: Flask) -> None:
    svc = services(app)

    def broken() -> None:
        with audited(svc, "test.bug", CALLER) as (conn, _):
            _add_user(svc, conn, "dee")
            raise ZeroDivisionError

    with pytest.raises(ZeroDivisionError):
        broken()
    assert _usernames(svc.engine) == []
    assert audit_rows(svc.engine) == []


def _pending(svc: Services) -> PendingCeremony:
    pending = svc.new_pending(CeremonyKind.AUTHENTICATION, CALLER, "preferred")
    with transaction(svc.engine) as conn:
        svc.challenges.put(pending, conn)
    return pending


def test_a_refused_ceremony_still_uses_its_challenge_up(app: Flask) -> None:
    svc = services(app)
    pending = _pending(svc)

    def opened() -> AbstractContextManager[tuple[Connection, PendingCeremony, Subject]]:
        return ceremony(
            svc,
            CeremonyKind.AUTHENTICATION,
            ceremony_id=pending.id,
            caller=CALLER,
            credential_id=b"cred",
        )

    def refused() -> None:
        with opened() as (_conn, got, subject):
            assert got.challenge == pending.challenge
            assert subject.credential_id == b"cred"
            raise CredentialUnknown

    with pytest.raises(CredentialUnknown):
        refused()
    with pytest.raises(ChallengeUnknown, match="already completed"), opened():
        pytest.fail("a consumed challenge must not open a second ceremony")
    assert [(r["event"], r["code"]) for r in audit_rows(svc.engine)] == [
        ("authentication", "credential_unknown"),
        ("authentication", "challenge_unknown"),
    ]


def test_a_result_without_a_ceremony_reaches_no_storage(app: Flask) -> None:
    svc = services(app)
    with (
        pytest.raises(ChallengeUnknown, match="no authentication was started"),
        ceremony(
            svc, CeremonyKind.AUTHENTICATION, ceremony_id=None, caller=CALLER, credential_id=b"c"
        ),
    ):
        pytest.fail("no ceremony id, no body")
    assert audit_rows(svc.engine) == []
