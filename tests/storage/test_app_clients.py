"""The app lookups a ceremony makes are indexed; removing an app takes its fingerprints."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, Select, func, select, text

from authsvc.storage import app_clients as store
from authsvc.storage.models import app_fingerprints

FP = hashlib.sha256(b"cert").digest()


def _add(engine: Engine) -> int:
    with engine.begin() as conn:
        return store.add_app(
            conn,
            client_id="com.example.app",
            platform="android",
            name="Example",
            team_id=None,
            bundle_id=None,
            package_name="com.example.app",
            secret_hash=bytes(32),
            fingerprints=[FP],
            created_at=datetime.now(UTC),
        ).id


def _plan(engine: Engine, statement: Select[Any]) -> str:
    with engine.begin() as conn:
        compiled = statement.compile(conn)
        if conn.dialect.name == "sqlite":
            positional = tuple(compiled.params[name] for name in compiled.positiontup or ())
            rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", positional).all()
            return "\n".join(str(r[-1]) for r in rows)
        conn.execute(text("SET LOCAL enable_seqscan = off"))  # a tiny table is scanned anyway
        rows = conn.exec_driver_sql(f"EXPLAIN {compiled}", compiled.params).all()
        return "\n".join(str(r[0]) for r in rows)


def test_the_fingerprint_and_client_id_lookups_use_their_unique_indexes(engine: Engine) -> None:
    _add(engine)
    by_fingerprint = _plan(engine, store.FINGERPRINT_LOOKUP.params(b_sha256=FP))
    by_client_id = _plan(engine, store.CLIENT_ID_LOOKUP.params(b_client_id="com.example.app"))
    if engine.dialect.name == "sqlite":
        assert "USING INDEX sqlite_autoindex_app_fingerprints" in by_fingerprint, by_fingerprint
        assert "USING INDEX sqlite_autoindex_app_clients" in by_client_id, by_client_id
    else:
        assert "uq_app_fingerprints_sha256" in by_fingerprint, by_fingerprint
        assert "uq_app_clients_client_id" in by_client_id, by_client_id


def test_removing_an_app_removes_its_fingerprints(engine: Engine) -> None:
    pk = _add(engine)
    with engine.begin() as conn:
        assert store.app_by_fingerprint(conn, FP) is not None
        store.remove_app(conn, pk)
    with engine.begin() as conn:
        assert store.app_by_fingerprint(conn, FP) is None
        assert conn.execute(select(func.count()).select_from(app_fingerprints)).scalar_one() == 0
