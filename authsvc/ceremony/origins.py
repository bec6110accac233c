"""Which origins may complete a ceremony: an exact list, never "any subdomain".

python-fido2's default origin check accepts any subdomain of the RP ID, so a script on a
forgotten ``staging.example.com`` could answer for ``example.com``. We compare against the
configured list exactly, and refuse use inside a cross-origin iframe unless the embedding
top-level origin is configured too.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from authsvc.ceremony.parsing import ClientData
from authsvc.errors import OriginMismatch


@dataclass(frozen=True, slots=True)
class OriginPolicy:
    origins: frozenset[str]
    top_origins: frozenset[str] = frozenset()

    @classmethod
    def of(cls, origins: Iterable[str], top_origins: Iterable[str] = ()) -> OriginPolicy:
        return cls(frozenset(origins), frozenset(top_origins))

    def check(self, client_data: ClientData) -> None:
        """Raise OriginMismatch unless the client data's origin (and embedding) is allowed."""
        if client_data.origin not in self.origins:
            raise OriginMismatch("origin is not one of the relying party's origins")
        embedded = client_data.cross_origin or client_data.top_origin is not None
        if embedded and client_data.top_origin not in self.top_origins:
            raise OriginMismatch("cross-origin use from this top-level origin is not allowed")
