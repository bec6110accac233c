"""The peer a sign-in is compared with: the obvious Flask + SQLAlchemy ORM + py_webauthn app.

It keeps the challenge in Flask's default signed-cookie session (no server-side state, so
no replay protection across cookie copies), looks the credential up through the ORM,
updates the sign count, writes no audit row and checks no backup flags or user handles.
Benchmark-only: the service never imports this.
"""

from __future__ import annotations

import base64
from typing import Any

from flask import Flask, jsonify, request, session
from sqlalchemy import LargeBinary, create_engine, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
from webauthn import (
    generate_authentication_options,
    options_to_json,
    verify_authentication_response,
)
from webauthn.helpers.structs import PublicKeyCredentialDescriptor


class Base(DeclarativeBase):
    pass


class PeerUser(Base):
    __tablename__ = "peer_users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(unique=True)


class PeerCredential(Base):
    __tablename__ = "peer_credentials"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int]
    credential_id: Mapped[bytes] = mapped_column(LargeBinary, unique=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    sign_count: Mapped[int]


def create_peer_app(database_url: str, rp_id: str, origin: str) -> Flask:
    engine = create_engine(database_url)
    Base.metadata.create_all(engine)
    app = Flask(__name__)
    app.secret_key = "peer-benchmark-secret-key-0123456789"  # noqa: S105 - benchmark only

    @app.post("/assertion/options")
    def options() -> Any:
        username = request.get_json()["username"]
        with Session(engine) as db:
            user = db.scalars(select(PeerUser).where(PeerUser.username == username)).one()
            creds = db.scalars(
                select(PeerCredential).where(PeerCredential.user_id == user.id)
            ).all()
            opts = generate_authentication_options(
                rp_id=rp_id,
                allow_credentials=[
                    PublicKeyCredentialDescriptor(id=c.credential_id) for c in creds
                ],
            )
        session["challenge"] = base64.b64encode(opts.challenge).decode()
        return app.response_class(options_to_json(opts), mimetype="application/json")

    @app.post("/assertion/result")
    def result() -> Any:
        body = request.get_json()
        challenge = base64.b64decode(session.pop("challenge"))
        raw_id = base64.urlsafe_b64decode(body["rawId"] + "==")
        with Session(engine) as db, db.begin():
            cred = db.scalars(
                select(PeerCredential).where(PeerCredential.credential_id == raw_id)
            ).one()
            verified = verify_authentication_response(
                credential=body,
                expected_challenge=challenge,
                expected_rp_id=rp_id,
                expected_origin=origin,
                credential_public_key=cred.public_key,
                credential_current_sign_count=cred.sign_count,
            )
            cred.sign_count = verified.new_sign_count
            user_id = cred.user_id
        session["user_id"] = user_id
        return jsonify({"status": "ok"})

    app.extensions["peer_engine"] = engine
    return app


def add_peer_credential(app: Flask, username: str, credential_id: bytes, public_key: bytes) -> None:
    engine = app.extensions["peer_engine"]
    with Session(engine) as db, db.begin():
        user = PeerUser(username=username)
        db.add(user)
        db.flush()
        db.add(
            PeerCredential(
                user_id=user.id, credential_id=credential_id, public_key=public_key, sign_count=0
            )
        )
