"""Trust anchors: the root certificates an attestation chain may end in, parsed once.

Parsing and vetting the roots is done when the service starts, never per request, so a
broken or non-CA root file stops start-up with a message naming the file instead of
silently making every attestation untrusted. The same roots are also kept as pyOpenSSL
objects, because :mod:`authsvc.trust.chain` hands them to OpenSSL's path validation and
converting them on every registration would re-parse them each time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from OpenSSL import crypto


@dataclass(frozen=True)
class TrustAnchors:
    """An immutable set of CA certificates trusted as chain ends, as given (no checks later)."""

    roots: tuple[x509.Certificate, ...]
    openssl_roots: tuple[crypto.X509, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for root in self.roots:
            if not _is_ca(root):
                raise ValueError(f"trust anchor {root.subject.rfc4514_string()!r} is not a CA")
        converted = tuple(crypto.X509.from_cryptography(root) for root in self.roots)
        object.__setattr__(self, "openssl_roots", converted)

    @classmethod
    def empty(cls) -> TrustAnchors:
        """No anchors: every chain is untrusted (self and none attestation still pass)."""
        return cls(())

    @classmethod
    def from_pem_files(cls, paths: Iterable[Path]) -> TrustAnchors:
        """Every certificate in every file; a file may be a bundle of several PEM blocks."""
        roots: list[x509.Certificate] = []
        for path in paths:
            roots.extend(_load_pem(path.read_bytes(), source=str(path)))
        return cls(tuple(roots))

    @classmethod
    def from_pem_strings(cls, pems: Iterable[str]) -> TrustAnchors:
        """Every certificate in every string; strings are named by position in errors."""
        roots: list[x509.Certificate] = []
        for index, pem in enumerate(pems):
            try:
                data = pem.encode("ascii")
            except UnicodeEncodeError as exc:
                raise ValueError(f"PEM string #{index}: not ASCII") from exc
            roots.extend(_load_pem(data, source=f"PEM string #{index}"))
        return cls(tuple(roots))

    def __len__(self) -> int:
        return len(self.roots)

    def union(self, *others: TrustAnchors) -> TrustAnchors:
        """These roots and the others' together, reusing their converted forms.

        A registration trusts the operator's roots plus its metadata entry's and its
        format's; combining them must not parse or convert a certificate again.
        """
        merged = object.__new__(TrustAnchors)
        parts = (self, *others)
        object.__setattr__(merged, "roots", tuple(r for part in parts for r in part.roots))
        object.__setattr__(
            merged, "openssl_roots", tuple(r for part in parts for r in part.openssl_roots)
        )
        return merged


def _load_pem(data: bytes, *, source: str) -> list[x509.Certificate]:
    """Parse a PEM bundle, refusing it whole if any block is unusable as an anchor."""
    try:
        certs = x509.load_pem_x509_certificates(data)
    except ValueError as exc:  # no PEM block at all, or one that is not a certificate
        raise ValueError(f"{source}: not a PEM certificate or bundle") from exc
    for cert in certs:
        if not _is_ca(cert):
            raise ValueError(f"{source}: {cert.subject.rfc4514_string()!r} is not a CA")
    return certs


def _is_ca(cert: x509.Certificate) -> bool:
    """A CA per RFC 5280: basicConstraints present with cA true (malformed counts as not)."""
    try:
        constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except (x509.ExtensionNotFound, ValueError):
        return False
    return constraints.ca
