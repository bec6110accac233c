"""What every use case needs, built once per process from the settings."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine

from authsvc.ceremony.origins import OriginPolicy
from authsvc.ceremony.state import CeremonyKind, PendingCeremony, ceremony_id, new_challenge
from authsvc.policy.cache import PolicyCache
from authsvc.services.decoys import Decoys
from authsvc.services.metadata import MetadataHolder
from authsvc.services.token_keys import TokenKit
from authsvc.settings import Settings
from authsvc.storage.challenges import ChallengeStore, make_challenge_store
from authsvc.storage.db import create_db_engine
from authsvc.storage.sessions import SessionStore, make_session_store
from authsvc.trust.anchors import TrustAnchors
from authsvc.trust.metadata import packaged_roots


@dataclass(frozen=True, slots=True)
class Caller:
    """Who sent a request: recorded in the audit log with every ceremony outcome.

    ``binding`` is the random id in the caller's signed session cookie that ceremony state
    is bound to. ``claimed_origin`` is the request's ``Origin`` header: anyone can send any
    value, so it is audited only as claimed, never as the event's origin (see
    :mod:`authsvc.services.audited`).
    """

    binding: str
    client_address: str | None = None
    claimed_origin: str | None = None


@dataclass(frozen=True)
class Services:
    """Long-lived collaborators: parsed trust anchors, the engine, the challenge store."""

    settings: Settings
    engine: Engine
    challenges: ChallengeStore
    anchors: TrustAnchors
    origins: OriginPolicy
    metadata: MetadataHolder
    format_roots: Mapping[str, TrustAnchors]
    decoys: Decoys
    sessions: SessionStore
    #: token sessions' signing keys (cached per process), DPoP nonces and proof replay store
    tokens: TokenKit
    policies: PolicyCache = field(default_factory=PolicyCache)
    #: the one clock (epoch seconds): every expiry, step-up age, token time, audit time and
    #: metadata check reads it, through :meth:`now` where a datetime is wanted
    clock: Callable[[], float] = field(default=time.time)

    @classmethod
    def build(cls, settings: Settings, *, clock: Callable[[], float] = time.time) -> Services:
        """Everything, each part that tells the time given ``clock``."""
        engine = create_db_engine(settings.database_url)
        return cls(
            settings=settings,
            engine=engine,
            challenges=make_challenge_store(
                engine, settings.redis_url, settings.redis_prefix, clock=clock
            ),
            anchors=TrustAnchors.from_pem_files(settings.trust_roots),
            origins=OriginPolicy.of(
                settings.origins, settings.top_origins, related=settings.related_origins
            ),
            metadata=MetadataHolder(
                engine=engine,
                mds_root=TrustAnchors.from_pem_files([settings.mds_root]),
                names_file=settings.aaguid_names,
                clock=clock,
            ),
            format_roots=packaged_roots(),
            decoys=Decoys.from_secret(settings.secret_key),
            sessions=make_session_store(
                settings.redis_url,
                settings.redis_prefix,
                idle_timeout=settings.session_idle_timeout,
                lifetime=settings.session_lifetime,
            ),
            tokens=TokenKit.build(engine, settings),
            clock=clock,
        )

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)

    def new_pending(
        self, kind: CeremonyKind, caller: Caller, user_verification: str, **fields: Any
    ) -> PendingCeremony:
        """Fresh state for a ceremony: new id and challenge, this RP, this session, the TTL."""
        return PendingCeremony(
            id=ceremony_id(kind, caller.binding),
            kind=kind,
            challenge=new_challenge(),
            rp_id=self.settings.rp_id,
            user_verification=user_verification,
            binding=caller.binding,
            expires_at=self.clock() + self.settings.challenge_ttl,
            **fields,
        )
