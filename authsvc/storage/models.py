"""The schema, as typed declarative models; ``migrations/`` must build exactly this.

The models describe tables for Alembic's autogenerate check and give the repositories their
``Table`` objects; the repositories query with Core statements on a ``Connection`` and return
frozen records, so no ORM object or session leaves this package.

Every constraint is named through the naming convention, so a later migration can drop or
alter it by name on both SQLite (batch mode) and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Final, cast

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    Dialect,
    Double,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from typing_extensions import override

NAMING_CONVENTION: Final = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every dialect.

    PostgreSQL keeps ``timestamptz``; SQLite has no time zones and would hand back naive
    values. So values are stored as UTC and always read back as aware UTC datetimes, and a
    naive datetime is refused rather than guessed at.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    @override
    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("naive datetime; pass a timezone-aware one")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    @override
    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        moment = cast(datetime, value)
        if moment.tzinfo is None:
            return moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}  # noqa: RUF012 - SQLAlchemy reads a dict


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    # As typed by the registration that made the account: what is shown, never compared.
    username: Mapped[str] = mapped_column(String(64))
    # Its RFC 8265 UsernameCaseMapped form (authsvc.usernames): every lookup and the unique
    # constraint use this, so look-alikes (Fold-x, FOLD-x, a full-width F) are one name.
    username_canonical: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    # WebAuthn user.id: random, never the username, so it reveals nothing about the user.
    user_handle: Mapped[bytes] = mapped_column(LargeBinary(64), unique=True)
    created_at: Mapped[datetime]
    role: Mapped[str] = mapped_column(String(16), default="user", server_default="user")
    # No group means the built-in default group (id 1), whose policy applies.
    group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id", ondelete="SET NULL"))
    # active / disabled: a disabled user cannot sign in and has no live session.
    status: Mapped[str] = mapped_column(String(16), default="active", server_default="active")


class Credential(Base):
    __tablename__ = "credentials"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The login lookup: the credential id in an assertion finds its row through this index.
    credential_id: Mapped[bytes] = mapped_column(LargeBinary(1023), unique=True, index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary)  # COSE_Key, canonical CBOR
    algorithm: Mapped[int]
    sign_count: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    aaguid: Mapped[bytes] = mapped_column(LargeBinary(16))
    fmt: Mapped[str] = mapped_column(String(32))
    attestation_type: Mapped[str] = mapped_column(String(16))
    trust: Mapped[str] = mapped_column(String(16))  # none / self / untrusted / trusted
    transports: Mapped[str] = mapped_column(Text)  # JSON array of AuthenticatorTransport
    backup_eligible: Mapped[bool]
    backed_up: Mapped[bool]
    attachment: Mapped[str | None] = mapped_column(String(32))
    name: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16), default="active", server_default="active")
    # True only when the attestation chained to a trusted root: the AAGUID is then proven,
    # not just claimed (a policy needing proof is never met by a claim).
    aaguid_proven: Mapped[bool] = mapped_column(default=False, server_default=false())
    # fido-u2f has no AAGUID: its metadata is found by the attestation key identifier (hex).
    attestation_key_id: Mapped[str | None] = mapped_column(String(40))
    # Set when a sign count regression was accepted under a "flag" policy.
    flagged_at: Mapped[datetime | None]


class Challenge(Base):
    """Pending ceremony state; rows live minutes and are deleted when consumed or swept."""

    __tablename__ = "challenges"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    # Epoch seconds (double precision), so the sweep is one indexed range delete.
    expires_at: Mapped[float] = mapped_column(Double, index=True)
    data: Mapped[str] = mapped_column(Text)  # PendingCeremony.to_json()


class WebSession(Base):
    """A signed-in browser session; the cookie holds the id, this table only its SHA-256.

    Only sign-ins make rows (an anonymous visitor's cookie id binds ceremonies without
    one), so the table is as large as the number of signed-in sessions. Times are epoch
    seconds (double precision), compared with the service clock like ``challenges``.
    """

    __tablename__ = "web_sessions"

    id_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # the credential (credentials.id) that signed the session in: ending it ends the session.
    # None for a recovered session until its first passkey sign-in (recovery used no passkey).
    credential_pk: Mapped[int | None] = mapped_column(
        ForeignKey("credentials.id", ondelete="CASCADE"), index=True
    )
    user_verified: Mapped[bool]  # whether the sign-in performed user verification
    signed_in_at: Mapped[float] = mapped_column(Double)
    verified_at: Mapped[float | None] = mapped_column(Double)  # last UV assertion (step-up)
    last_seen_at: Mapped[float] = mapped_column(Double)  # written at most once a minute
    expires_at: Mapped[float] = mapped_column(Double, index=True)  # the absolute lifetime
    client_address: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(255))
    # signed in by a recovery code or link: may add a passkey, nothing else (services.recovery)
    recovered: Mapped[bool] = mapped_column(default=False, server_default=false())


class RecoveryCode(Base):
    """One unused recovery code of a user, as its keyed hash (``authsvc.storage.recovery``).

    A used code is deleted, so the table only ever holds codes that still work; the hash is
    unique, and looked up together with the user's id.
    """

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    created_at: Mapped[datetime]


class OneTimeToken(Base):
    """A single-use token bound to one account, kept as its SHA-256; deleted when redeemed.

    ``purpose`` says what redeeming it does ("recovery": an admin's registration link, which
    signs in a recovered session). A token of one purpose can never be redeemed as another.
    """

    __tablename__ = "one_time_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    purpose: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[float] = mapped_column(Double)  # epoch seconds, the service clock
    issued_by: Mapped[int | None] = mapped_column(Integer)  # the admin's user id


class AuditEvent(Base):
    """One audited action. No foreign keys: the record outlives the users it names.

    Append-only and hash-chained (see ``authsvc.audit.chain``): ``seq`` is the position in
    the chain (1, 2, 3, ...) and ``hash`` covers the row's contents and ``prev_hash``.
    ``user_id`` is whom the event is about, ``actor_user_id`` who did it (admin actions).
    """

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_user_id_occurred_at", "user_id", "occurred_at"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"),  # only INTEGER PRIMARY KEY autoincrements
        primary_key=True,
        autoincrement=True,
    )
    occurred_at: Mapped[datetime] = mapped_column(index=True)
    event: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))
    code: Mapped[str | None] = mapped_column(String(64))
    user_id: Mapped[int | None] = mapped_column(Integer)
    credential_id: Mapped[bytes | None] = mapped_column(LargeBinary)
    origin: Mapped[str | None] = mapped_column(String(255))
    client_address: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(Text)  # JSON object
    seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    prev_hash: Mapped[bytes] = mapped_column(LargeBinary(32))  # SHA-256 of event seq - 1
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))  # SHA-256(prev_hash || encoding)
    actor_user_id: Mapped[int | None] = mapped_column(Integer)


class AuditHead(Base):
    """The end of the audit chain, in one row (id 1) that every append locks and moves."""

    __tablename__ = "audit_head"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)  # 0 before the first event
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))  # the last event's; zeros at seq 0


class Policy(Base):
    """One version of a policy document; versions are added, never edited."""

    __tablename__ = "policies"
    __table_args__ = (UniqueConstraint("name", "version", name="uq_policies_name_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    version: Mapped[int]
    document: Mapped[str] = mapped_column(Text)  # JSON, as authsvc.policy.policy_document
    created_at: Mapped[datetime]
    created_by: Mapped[int | None] = mapped_column(Integer)  # an admin's user id


class Group(Base):
    """A group of users and the policy version they follow (moved on by a new version)."""

    __tablename__ = "groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("policies.id"), index=True)
    created_at: Mapped[datetime]


class MetadataBlob(Base):
    """An MDS BLOB an operator loaded; the newest row is the one every instance uses."""

    __tablename__ = "metadata_blobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64))
    no: Mapped[int]
    next_update: Mapped[str] = mapped_column(String(10))  # ISO date
    source: Mapped[str] = mapped_column(String(255))
    loaded_at: Mapped[datetime]
    blob: Mapped[bytes] = mapped_column(LargeBinary)


class RateLimitCounter(Base):
    """One rate-limit counter of the embedded limiter storage (``authsvc.storage.rate_limits``).

    ``id`` is the limiter's key (a limit, a window and whom it counts); rows live at most two
    windows and are swept by one indexed range delete on ``expires_at`` (epoch seconds).
    """

    __tablename__ = "rate_limits"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    hits: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[float] = mapped_column(Double, index=True)


users: Final = cast(Table, User.__table__)
credentials: Final = cast(Table, Credential.__table__)
challenges: Final = cast(Table, Challenge.__table__)
web_sessions: Final = cast(Table, WebSession.__table__)
audit_events: Final = cast(Table, AuditEvent.__table__)
audit_head: Final = cast(Table, AuditHead.__table__)
policies: Final = cast(Table, Policy.__table__)
groups: Final = cast(Table, Group.__table__)
metadata_blobs: Final = cast(Table, MetadataBlob.__table__)
rate_limits: Final = cast(Table, RateLimitCounter.__table__)
recovery_codes: Final = cast(Table, RecoveryCode.__table__)
one_time_tokens: Final = cast(Table, OneTimeToken.__table__)


class AppClient(Base):
    """A registered native app (``authsvc.services.app_clients``).

    ``client_id`` is how the app names itself: its app ID ``TEAMID.bundle.id`` on iOS, its
    package name on Android. ``secret_hash`` is the SHA-256 of the app back end's client
    secret, shown once when the app is added.
    """

    __tablename__ = "app_clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(String(255), unique=True)
    platform: Mapped[str] = mapped_column(String(8))  # ios / android
    name: Mapped[str] = mapped_column(String(64))
    team_id: Mapped[str | None] = mapped_column(String(10))
    bundle_id: Mapped[str | None] = mapped_column(String(155))
    package_name: Mapped[str | None] = mapped_column(String(255))
    secret_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    created_at: Mapped[datetime]


class AppFingerprint(Base):
    """One SHA-256 signing-certificate fingerprint of an Android app: its origin's lookup.

    Unique across apps: one certificate's ``android:apk-key-hash:`` origin names one app.
    """

    __tablename__ = "app_fingerprints"

    id: Mapped[int] = mapped_column(primary_key=True)
    app_pk: Mapped[int] = mapped_column(
        ForeignKey("app_clients.id", ondelete="CASCADE"), index=True
    )
    sha256: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)


app_clients: Final = cast(Table, AppClient.__table__)
app_fingerprints: Final = cast(Table, AppFingerprint.__table__)


class SigningKeyRow(Base):
    """An access-token signing key (``mobile_bridge.signing_keys``); the set every instance uses.

    The private key is sealed (AES-GCM under a key derived from ``SECRET_KEY``), never stored
    in the clear. ``retired_at`` is set by a rotation; the row is dropped once no token it
    signed can still be valid. Times are epoch seconds.
    """

    __tablename__ = "signing_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)  # RFC 7638 thumbprint
    sealed_private_key: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[float] = mapped_column(Double)
    retired_at: Mapped[float | None] = mapped_column(Double)


class TokenSession(Base):
    """A token session: one sign-in's family of rotating refresh tokens (services.tokens).

    Ending it (sign-out, reuse of a rotated token, the credential or user going) deletes the
    row and, by cascade, its tokens; access tokens name it by ``sid`` and our API checks that
    it still exists. Times are epoch seconds on the service clock.
    """

    __tablename__ = "token_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    sid: Mapped[str] = mapped_column(String(16), unique=True)  # public id, the tokens' ``sid``
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    credential_pk: Mapped[int] = mapped_column(
        ForeignKey("credentials.id", ondelete="CASCADE"), index=True
    )
    app_pk: Mapped[int | None] = mapped_column(
        ForeignKey("app_clients.id", ondelete="CASCADE"), index=True
    )
    dpop_jkt: Mapped[str | None] = mapped_column(String(43))  # RFC 7638 thumbprint, if bound
    amr: Mapped[str] = mapped_column(String(32))  # RFC 8176 values, space-separated
    signed_in_at: Mapped[float] = mapped_column(Double)
    verified_at: Mapped[float | None] = mapped_column(Double)  # last UV assertion (step-up)
    expires_at: Mapped[float] = mapped_column(Double, index=True)  # the absolute lifetime
    refresh_expires_at: Mapped[float] = mapped_column(Double, index=True)  # idle expiry
    client_address: Mapped[str | None] = mapped_column(String(64))


class RefreshToken(Base):
    """A refresh token of a token session, as its SHA-256; ``used_at`` once rotated away.

    A used token is kept (until it would have expired) so that presenting it again is
    recognised as reuse, which ends the whole session (RFC 9700 §4.14.2).
    """

    __tablename__ = "refresh_tokens"

    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("token_sessions.id", ondelete="CASCADE"), index=True
    )
    expires_at: Mapped[float] = mapped_column(Double)
    used_at: Mapped[float | None] = mapped_column(Double)


class DpopProof(Base):
    """The ``jti`` of an accepted DPoP proof (hashed with its key), kept while it could replay."""

    __tablename__ = "dpop_proofs"

    jti_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    expires_at: Mapped[float] = mapped_column(Double, index=True)


signing_keys: Final = cast(Table, SigningKeyRow.__table__)
token_sessions: Final = cast(Table, TokenSession.__table__)
refresh_tokens: Final = cast(Table, RefreshToken.__table__)
dpop_proofs: Final = cast(Table, DpopProof.__table__)
