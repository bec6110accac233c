"""What the relying party asked for in a ceremony: everything its result is checked against.

Both ceremonies compare the response with the same things (the challenge, the RP ID, the
accepted origins, the user verification requirement; at registration also the offered
algorithms), so they share this one value; each ceremony's function does its own checks.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from authsvc.ceremony.origins import OriginPolicy
from authsvc.encoding import b64url_encode


@dataclass(frozen=True, slots=True)
class Expectation:
    """The options' challenge, RP ID, user verification and algorithms, and the origins."""

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
