"""Pending ceremony state: what was asked for, bound to who asked, consumed exactly once.

A challenge is only worth something if it is single-use and short-lived. The state is
written when options are issued and taken back by :meth:`ChallengeStore.consume`, which
deletes and returns it in one atomic step (SQL ``DELETE … RETURNING`` or Redis ``GETDEL``),
so two requests racing with the same ceremony can never both get it, on one instance or
many. It is consumed whether the ceremony then passes or fails.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from dataclasses import dataclass, fields
from enum import StrEnum
from typing import Any, Final

from authsvc.ceremony.expectation import Expectation
from authsvc.ceremony.origins import OriginPolicy
from authsvc.errors import ChallengeExpired, ChallengeUnknown

CHALLENGE_BYTES = 32
#: an ``/api/v1`` ceremony's id: 256 bits from the OS CSPRNG, base64url
API_CEREMONY_ID_BYTES: Final = 32
_API_CEREMONY_ID: Final = re.compile(r"[A-Za-z0-9_-]{43}", re.ASCII)


class CeremonyKind(StrEnum):
    REGISTRATION = "registration"
    AUTHENTICATION = "authentication"


@dataclass(frozen=True, kw_only=True)
class PendingCeremony:
    """What the relying party asked for; everything a result is checked against.

    ``binding`` names who may answer: the caller's cookie session (the SHA-256 of its
    opaque id, never the id), or for ``/api/v1`` the SHA-256 of the ``ceremonyId`` the
    options answered with (:func:`api_binding`). A result is only matched to state created
    for the same binding. ``client_id`` is the app client the options were asked for (the
    result is checked against that app); ``token_hash`` the SHA-256 of the registration
    token the result redeems.
    """

    id: str
    kind: CeremonyKind
    challenge: bytes
    rp_id: str
    user_verification: str
    binding: str
    expires_at: float
    user_id: int | None = None
    user_handle: bytes | None = None
    username: str | None = None
    display_name: str | None = None
    algorithms: tuple[int, ...] = ()
    allowed_credentials: tuple[bytes, ...] = ()
    client_id: str | None = None
    token_hash: bytes | None = None

    def expectation(self, origins: OriginPolicy) -> Expectation:
        """What the result is checked against: these options, and the origins accepted."""
        return Expectation(
            challenge=self.challenge,
            rp_id=self.rp_id,
            origins=origins,
            user_verification=self.user_verification,
            algorithms=self.algorithms,
        )

    def to_json(self) -> str:
        data: dict[str, Any] = {f.name: getattr(self, f.name) for f in _FIELDS}
        data["challenge"] = self.challenge.hex()
        data["user_handle"] = self.user_handle.hex() if self.user_handle is not None else None
        data["allowed_credentials"] = [c.hex() for c in self.allowed_credentials]
        data["token_hash"] = self.token_hash.hex() if self.token_hash is not None else None
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: str | bytes) -> PendingCeremony:
        data = json.loads(raw)
        data["kind"] = CeremonyKind(data["kind"])
        data["challenge"] = bytes.fromhex(data["challenge"])
        if data["user_handle"] is not None:
            data["user_handle"] = bytes.fromhex(data["user_handle"])
        data["algorithms"] = tuple(data["algorithms"])
        data["allowed_credentials"] = tuple(bytes.fromhex(c) for c in data["allowed_credentials"])
        # state written before the /api/v1 fields existed has neither
        token_hash = data.get("token_hash")
        data["token_hash"] = bytes.fromhex(token_hash) if token_hash is not None else None
        return cls(**data)

    def check_usable(self, *, kind: CeremonyKind, binding: str, now: float) -> None:
        """Raise unless this state belongs to this kind of ceremony and session, and is live."""
        if self.kind is not kind or not secrets.compare_digest(self.binding, binding):
            raise ChallengeUnknown
        if now >= self.expires_at:
            raise ChallengeExpired


_FIELDS = fields(PendingCeremony)


def new_challenge() -> bytes:
    """32 random bytes from the OS CSPRNG (WebAuthn asks for at least 16)."""
    return secrets.token_bytes(CHALLENGE_BYTES)


def ceremony_id(kind: CeremonyKind, binding: str) -> str:
    """The id of ``binding``'s pending ceremony of ``kind``: one per session and kind.

    The cookie holds nothing but the session's opaque id, so the pending ceremony is found
    from the binding alone: new options replace the session's earlier ones of that kind, as
    a page reload would, and a result is looked up under its own session's id, so state
    made for another session is never even read. Consumption stays one atomic ``DELETE …
    RETURNING`` or ``GETDEL`` on this key.
    """
    return hashlib.sha256(f"{kind.value}\x00{binding}".encode()).hexdigest()


def new_api_ceremony_id() -> str:
    """A fresh ``ceremonyId`` for an ``/api/v1`` ceremony: the only handle on its state."""
    return secrets.token_urlsafe(API_CEREMONY_ID_BYTES)


def is_api_ceremony_id(value: object) -> bool:
    """Whether ``value`` has the shape of a ``ceremonyId`` we issue."""
    return isinstance(value, str) and _API_CEREMONY_ID.fullmatch(value) is not None


def api_binding(api_ceremony_id: str) -> str:
    """The binding of an ``/api/v1`` ceremony: SHA-256 of its ``ceremonyId``, in hex.

    An app has no cookie: knowing the ``ceremonyId`` (256 random bits, sent only to whoever
    asked for the options) is what lets a result be matched to the state. The store keeps
    only this hash, under :func:`ceremony_id` of it, so neither a dump of the challenge
    store nor its keys give anyone an id to answer with.
    """
    return hashlib.sha256(api_ceremony_id.encode("ascii")).hexdigest()
