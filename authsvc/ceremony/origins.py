"""Which origins may complete a ceremony: an exact list, never "any subdomain".

python-fido2's default origin check accepts any subdomain of the RP ID, so a script on a
forgotten ``staging.example.com`` could answer for ``example.com``. We compare against the
configured list exactly, and refuse use inside a cross-origin iframe unless the embedding
top-level origin is configured too.

Related origins (WebAuthn Level 3 §5.11, ``RELATED_ORIGINS``) are other sites, such as
``https://example.co.uk`` for RP ID ``example.com``, whose pages may run ceremonies for
this RP ID. The browser lets them only after fetching ``https://<RP ID>/.well-known/webauthn``
and finding the calling origin listed there; that document is served from the same
setting, so what browsers are told and what this check accepts cannot drift apart. The
browser's check is not ours, though: a client that skips it (or a cached, older copy of
the document) gains nothing, because the clientData origin must still be in this list.
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
    def of(
        cls, origins: Iterable[str], top_origins: Iterable[str] = (), related: Iterable[str] = ()
    ) -> OriginPolicy:
        """The policy for the RP's own ``origins`` plus its ``related`` origins.

        Once the browser has let a related origin use the RP ID, its clientData is exactly
        like that of one of our own origins (same RP ID hash, ``crossOrigin`` false), so the
        two lists are accepted alike; they differ only in where they may be configured.
        A related origin is not thereby a permitted *top* origin: embedding stays
        ``top_origins`` alone.
        """
        return cls(frozenset(origins).union(related), frozenset(top_origins))

    def check(self, client_data: ClientData) -> None:
        """Raise OriginMismatch unless the client data's origin (and embedding) is allowed."""
        if client_data.origin not in self.origins:
            raise OriginMismatch("origin is not one of the relying party's origins")
        embedded = client_data.cross_origin or client_data.top_origin is not None
        if embedded and client_data.top_origin not in self.top_origins:
            raise OriginMismatch("cross-origin use from this top-level origin is not allowed")
