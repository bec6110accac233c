"""A credential held by the software authenticator."""

from __future__ import annotations

from dataclasses import dataclass

from fido2.cose import CoseKey

from tests.softauthn.keys import Alg, PrivateKey, public_cose_key, sign_message


@dataclass
class SoftCredential:
    """A credential held by a :class:`SoftAuthenticator`.

    ``user_handle`` is None for a non-discoverable (server-side) credential, which then can
    only be used through ``allowCredentials``.
    """

    credential_id: bytes
    alg: Alg
    private_key: PrivateKey
    user_handle: bytes | None
    sign_count: int
    backup_eligible: bool
    backed_up: bool
    rp_id: str

    @property
    def discoverable(self) -> bool:
        """Whether this is a discoverable credential (a passkey holding its user handle)."""
        return self.user_handle is not None

    @property
    def cose_key(self) -> CoseKey:
        """The credential public key as a fido2 COSE key."""
        return public_cose_key(self.private_key, self.alg)

    def sign(self, message: bytes) -> bytes:
        """Sign ``message`` with this credential's key and algorithm."""
        return sign_message(self.private_key, self.alg, message)
