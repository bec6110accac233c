"""Audit records are written in the caller's transaction and read back as written."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine

from authsvc.audit.chain import query
from authsvc.audit.log import AuditEvent, append
from authsvc.storage.db import transaction
from tests.storage.builders import T0


def test_append_and_read_back(engine: Engine) -> None:
    with transaction(engine) as conn:
        append(conn, AuditEvent(event="registration", outcome="success", user_id=1), T0)
        append(
            conn,
            AuditEvent(
                event="authentication",
                outcome="failure",
                code="sign_count_regressed",
                user_id=2,
                credential_id=b"\x01\x02",
                origin="https://example.com",
                client_address="192.0.2.1",
                detail={"aaguid": b"\xff" * 2, "fmt": "none", "flags": {"uv", "up"}},
            ),
            T0 + timedelta(seconds=1),
        )
    with transaction(engine) as conn:
        newest, oldest = query(conn)
        assert query(conn, user_id=1) == [oldest]
        assert query(conn, limit=1) == [newest]
    assert oldest["event"] == "registration"
    assert oldest["code"] is None
    assert oldest["detail"] is None
    assert oldest["occurred_at"] == T0
    assert newest == {
        "id": newest["id"],
        "seq": 2,
        "occurred_at": T0 + timedelta(seconds=1),
        "event": "authentication",
        "outcome": "failure",
        "code": "sign_count_regressed",
        "user_id": 2,
        "actor_user_id": None,
        "credential_id": b"\x01\x02",
        "origin": "https://example.com",
        "client_address": "192.0.2.1",
        "detail": {"aaguid": "ffff", "flags": ["up", "uv"], "fmt": "none"},
    }


def test_rolled_back_transaction_leaves_no_record(engine: Engine) -> None:
    def ceremony() -> None:
        with transaction(engine) as conn:
            append(conn, AuditEvent(event="registration", outcome="success"), T0)
            raise RuntimeError("the ceremony failed after the audit write")

    with pytest.raises(RuntimeError):
        ceremony()
    with transaction(engine) as conn:
        assert query(conn) == []
