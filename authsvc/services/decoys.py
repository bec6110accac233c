"""Imaginary credentials for a username that has no active passkey (WebAuthn L3 §14.6.2).

Username-first sign-in options list the user's credential ids. Answering an unknown
username with an error (or an empty list) tells anyone who asks which accounts exist, so
such a username gets a list of credentials that do not exist instead: the same on every
call (a list that changed would give it away), different for every username and for every
deployment, and shaped like real ones (id lengths, transports, how many). Nothing can
sign for them, so the result fails as a wrong key does.

The list is an HMAC-SHA256 of the username under a key derived from ``SECRET_KEY`` for
this use alone (a leak of one derived key gives away neither the cookie key nor the
secret). Without the key the ids are indistinguishable from random, and real credential
ids are random too. This is pure computation; it lives with the services, not the ceremony
checks, because the secret is deployment configuration that no ceremony step sees.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Final

from authsvc.ceremony.options import KnownCredential

_LABEL: Final = b"authsvc decoy credentials v1"

#: (credential id length, transports) exactly as real authenticators registered them: the
#: eight positive registration vectors in the shared vectors (``../shared/vectors``) whose
#: response records ``transports`` (the other 54 positive vectors record none). Eight
#: entries, so one HMAC byte's low three bits pick one without bias; a repeated profile
#: weighs twice, as it did among the vectors.
PROFILES: Final[tuple[tuple[int, tuple[str, ...]], ...]] = (
    (20, ("internal",)),  # apple-macos-2020: Apple platform authenticator
    (20, ("hybrid", "internal")),  # none-icloud-keychain-synced
    (20, ("hybrid", "internal")),  # none-synced-passkey-zero-aaguid (iCloud Keychain)
    (32, ()),  # tpm-windows-hello-stmicro-rs256: Windows Hello sent an empty list
    (41, ("internal", "hybrid")),  # none-1password-synced (1Password's order, kept)
    (64, ("nfc", "usb")),  # none-browser-es256 (a security key)
    (64, ("nfc", "usb")),  # packed-yubikey-security-key-nfc-es256
    (128, ("usb",)),  # packed-yubikey-5-eddsa
)

#: How many passkeys an imaginary account has, picked by one HMAC nibble: most accounts
#: have one, some a second device, few more. Our choice (no data set measures it), kept
#: within what the per-account cap allows.
_COUNTS: Final = (1,) * 9 + (2,) * 5 + (3,) * 2


def derive_key(secret_key: str) -> bytes:
    """The decoy key: HMAC-SHA256 of a label under ``SECRET_KEY``, never the key itself."""
    return hmac.new(secret_key.encode(), _LABEL, hashlib.sha256).digest()


@dataclass(frozen=True, slots=True)
class Decoys:
    """Imaginary allow lists under one deployment's derived key."""

    key: bytes

    @classmethod
    def from_secret(cls, secret_key: str) -> Decoys:
        return cls(derive_key(secret_key))

    def for_username(self, username: str) -> tuple[KnownCredential, ...]:
        """The stable imaginary credentials of ``username`` (in its canonical form).

        One HMAC of the username picks the count and each credential's profile; each id is
        HMAC blocks keyed by that first HMAC, cut to the profile's length.
        """
        seed = hmac.new(self.key, username.encode(), hashlib.sha256).digest()
        count = _COUNTS[seed[0] & 0x0F]
        out: list[KnownCredential] = []
        for index in range(count):
            length, transports = PROFILES[seed[1 + index] & 0x07]
            out.append(KnownCredential(_expand(seed, index, length), transports))
        return tuple(out)


def _expand(seed: bytes, index: int, length: int) -> bytes:
    """``length`` bytes for credential ``index``: HMAC-SHA256(seed, index ‖ block) blocks."""
    blocks = (length + 31) // 32
    stream = b"".join(
        hmac.new(seed, bytes((index, block)), hashlib.sha256).digest() for block in range(blocks)
    )
    return stream[:length]
