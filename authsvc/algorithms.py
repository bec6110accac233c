"""The COSE signature algorithms a credential key may use: names, identifiers, the default.

One table for every layer: the ``ALGORITHMS`` setting is written in these names, options
offer these identifiers, a policy's ``allowed_algorithms`` may name any of them, and the
ceremony code builds a verifier for each. Nothing here imports anything of ours.

The default offer is what relying parties have offered for years (and what the shared
vectors assume when they say nothing): ES256 first, because every FIDO2 authenticator
implements it and an authenticator takes the first entry it supports. The others are opt-in:

- ES384 and ES512 are rarely implemented by authenticators and add nothing over ES256 for
  a credential key; some enterprise policies still ask for them.
- ML-DSA-44/65/87 (FIPS 204, COSE -48/-49/-50) are post-quantum. Their public keys are 1.3
  to 2.6 KB and their signatures 2.4 to 4.6 KB, and only preview firmware makes them today.
  Offering one *after* ES256 changes nothing for today's authenticators; offering it first
  makes a post-quantum authenticator choose it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Final

from cryptography.hazmat.backends import default_backend

ES256: Final = -7
EDDSA: Final = -8
ES384: Final = -35
ES512: Final = -36
RS256: Final = -257
PS256: Final = -37
ML_DSA_44: Final = -48
ML_DSA_65: Final = -49
ML_DSA_87: Final = -50

#: Every algorithm the service can verify, by its IANA COSE name, in a sensible offer order.
NAMES: Final[Mapping[int, str]] = MappingProxyType(
    {
        ES256: "ES256",
        EDDSA: "EdDSA",
        ES384: "ES384",
        ES512: "ES512",
        RS256: "RS256",
        PS256: "PS256",
        ML_DSA_44: "ML-DSA-44",
        ML_DSA_65: "ML-DSA-65",
        ML_DSA_87: "ML-DSA-87",
    }
)
SUPPORTED: Final[tuple[int, ...]] = tuple(NAMES)
#: What ``pubKeyCredParams`` offers unless ``ALGORITHMS`` says otherwise, in preference order.
DEFAULT: Final[tuple[int, ...]] = (ES256, EDDSA, RS256, PS256)
POST_QUANTUM: Final = frozenset({ML_DSA_44, ML_DSA_65, ML_DSA_87})

_BY_NAME: Final[Mapping[str, int]] = MappingProxyType({n.lower(): a for a, n in NAMES.items()})


def name_of(alg: int) -> str:
    """The COSE name of a supported algorithm, or the bare number for any other."""
    return NAMES.get(alg, str(alg))


def ml_dsa_available() -> bool:
    """Whether cryptography's OpenSSL verifies ML-DSA: its wheels do (OpenSSL 3.5 and later);
    a build against an older system OpenSSL or LibreSSL may not."""
    backend = default_backend()
    return bool(getattr(backend, "mldsa_supported", lambda: False)())


def parse_names(names: Iterable[str]) -> tuple[int, ...]:
    """COSE identifiers for algorithm names (any letter case), in the order given.

    Raises ValueError naming the first unknown or repeated name, so a typo in a setting
    stops start-up instead of silently offering less than the operator meant.
    """
    chosen: list[int] = []
    for name in names:
        alg = _BY_NAME.get(name.strip().lower())
        if alg is None:
            known = ", ".join(NAMES.values())
            raise ValueError(f"unknown algorithm {name.strip()!r} (known: {known})")
        if alg in chosen:
            raise ValueError(f"algorithm {NAMES[alg]} is listed twice")
        chosen.append(alg)
    if not chosen:
        raise ValueError("at least one algorithm is needed")
    return tuple(chosen)
