"""Checks both ceremonies share: client data, authenticator data flags, the expectation.

§7.1 and §7.2 run the same steps on clientDataJSON (type, challenge, origin) and on the
authenticator data (rpIdHash, UP, UV, BE/BS); they live here once, in the spec's order.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.constant_time import bytes_eq
from fido2.webauthn import AuthenticatorData

from authsvc.ceremony.origins import OriginPolicy
from authsvc.ceremony.parsing import ClientData
from authsvc.encoding import b64url_encode
from authsvc.errors import (
    BackupStateInvalid,
    ChallengeMismatch,
    RpIdMismatch,
    TypeMismatch,
    UserNotPresent,
    UserNotVerified,
)

FLAG = AuthenticatorData.FLAG
_UP, _UV, _BE, _BS, _AT, _ED = (
    int(f) for f in (FLAG.UP, FLAG.UV, FLAG.BE, FLAG.BS, FLAG.AT, FLAG.ED)
)


@dataclass(frozen=True, slots=True)
class Flags:
    up: bool
    uv: bool
    be: bool
    bs: bool
    at: bool
    ed: bool

    @classmethod
    def of(cls, auth_data: AuthenticatorData) -> Flags:
        f = int(auth_data.flags)  # plain int bit tests: IntFlag arithmetic is slow on a hot path
        return cls(
            up=bool(f & _UP),
            uv=bool(f & _UV),
            be=bool(f & _BE),
            bs=bool(f & _BS),
            at=bool(f & _AT),
            ed=bool(f & _ED),
        )


@dataclass(frozen=True, slots=True)
class Expectation:
    """What the relying party asked for, shared by both ceremonies."""

    challenge: bytes
    rp_id: str
    origins: OriginPolicy
    user_verification: str
    algorithms: tuple[int, ...] = ()
    # derived once, compared on every check
    rp_id_hash: bytes = field(init=False)
    challenge_text: bytes = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "rp_id_hash", hashlib.sha256(self.rp_id.encode()).digest())
        object.__setattr__(self, "challenge_text", b64url_encode(self.challenge).encode())


def check_client_data(client_data: ClientData, expected: Expectation, ceremony_type: str) -> None:
    """§7.1 steps 7-10 / §7.2 steps 11-14: type, challenge, origin."""
    if client_data.type != ceremony_type:
        raise TypeMismatch(f'client data type is not "{ceremony_type}"')
    if not bytes_eq(client_data.challenge.rstrip("=").encode(), expected.challenge_text):
        raise ChallengeMismatch()
    expected.origins.check(client_data)


def check_auth_data_flags(
    auth_data: AuthenticatorData, expected: Expectation, *, be_stored: bool | None = None
) -> Flags:
    """rpIdHash, UP, UV when required, and the backup flags (§7.1 13-17, §7.2 15-18)."""
    if not bytes_eq(auth_data.rp_id_hash, expected.rp_id_hash):
        raise RpIdMismatch()
    flags = Flags.of(auth_data)
    if not flags.up:
        raise UserNotPresent()
    if expected.user_verification == "required" and not flags.uv:
        raise UserNotVerified()
    if flags.bs and not flags.be:
        raise BackupStateInvalid("backup state set on a credential that is not backup eligible")
    if be_stored is not None and flags.be != be_stored:
        raise BackupStateInvalid("backup eligibility changed since registration")
    return flags
