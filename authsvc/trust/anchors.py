"""Trust anchors: the root certificates an attestation chain may end in, parsed once.

Parsing and vetting the roots is done when the service starts, never per request, so a
broken or unusable root file stops start-up with a message naming the file instead of
silently making every attestation untrusted. The same roots are also kept as pyOpenSSL
objects, because :mod:`authsvc.trust.chain` hands them to OpenSSL's path validation and
converting them on every registration would re-parse them each time.

An anchor is trusted because it is configured, not because of what it says about itself
(RFC 5280 §6.1.1 takes only its name and key as inputs). So besides a CA certificate
(basicConstraints cA true), an X.509 v1 certificate is accepted when it is self-signed:
v1 has no extensions at all, and vendors still ship such roots in FIDO metadata (SoloKeys,
Crayonic, HYPR, ...). Self-signed is checked, not assumed from equal names, because a v1
certificate issued by someone else is a leaf that cannot say whether it may issue. Any
other certificate without cA (a v3 leaf, cA false, a v1 issued by another) is refused:
such a file is almost always a mistake, and intermediates below an anchor must be CAs
anyway (:mod:`authsvc.trust.chain` checks that).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from OpenSSL import crypto


@dataclass(frozen=True)
class TrustAnchors:
    """An immutable set of anchors (see the module docstring) trusted as chain ends."""

    roots: tuple[x509.Certificate, ...]
    openssl_roots: tuple[crypto.X509, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        converted = []
        for root in self.roots:
            problem = anchor_problem(root)
            if problem is not None:
                raise ValueError(f"trust anchor {problem}")
            try:
                converted.append(crypto.X509.from_cryptography(root))
            except crypto.Error as exc:  # DER that cryptography reads and OpenSSL refuses
                raise ValueError(
                    f"trust anchor {_subject(root)} is not readable by OpenSSL"
                ) from exc
        object.__setattr__(self, "openssl_roots", tuple(converted))

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


def anchor_problem(cert: x509.Certificate) -> str | None:
    """None if ``cert`` may be an anchor, else why not, starting with its subject.

    Never raises: a certificate whose extensions or names do not parse is refused by reason.
    """
    try:
        constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        constraints = None
    except (ValueError, x509.DuplicateExtension, x509.UnsupportedGeneralNameType):
        return f"{_subject(cert)} has extensions that do not parse"
    if constraints is not None and constraints.ca:
        return None
    if constraints is not None or cert.version is not x509.Version.v1:
        stated = "no basicConstraints" if constraints is None else "basicConstraints cA false"
        return f"{_subject(cert)} is not a CA ({stated})"
    if not is_self_signed(cert):
        return f"{_subject(cert)} is not a CA (an X.509 v1 certificate that is not self-signed)"
    return None


def is_ca(cert: x509.Certificate) -> bool:
    """basicConstraints present, readable and cA true: what RFC 5280 §6.1.4 (k) asks of
    every certificate between a leaf and its anchor."""
    try:
        return cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        return False
    # extensions that do not parse: cryptography reads them lazily, here, and not all of
    # its errors for them are ValueErrors
    except (ValueError, x509.DuplicateExtension, x509.UnsupportedGeneralNameType):
        return False


def is_self_signed(cert: x509.Certificate) -> bool:
    """Issuer is subject and the signature verifies under the certificate's own key.

    False also when cryptography cannot check the signature (SHA-1, an unknown algorithm):
    without a verified self-signature nothing tells a v1 root from a v1 leaf.
    """
    try:
        if cert.issuer != cert.subject:
            return False
        cert.verify_directly_issued_by(cert)
    except (InvalidSignature, UnsupportedAlgorithm, ValueError, TypeError):
        return False
    return True


def _load_pem(data: bytes, *, source: str) -> list[x509.Certificate]:
    """Parse a PEM bundle, refusing it whole if any block is unusable as an anchor."""
    try:
        certs = x509.load_pem_x509_certificates(data)
    except (ValueError, x509.InvalidVersion) as exc:  # no PEM block, or not a certificate
        raise ValueError(f"{source}: not a PEM certificate or bundle") from exc
    for cert in certs:
        problem = anchor_problem(cert)
        if problem is not None:
            raise ValueError(f"{source}: {problem}")
    return certs


def _subject(cert: x509.Certificate) -> str:
    """The subject for a message, or a placeholder (cryptography parses names lazily)."""
    try:
        return repr(cert.subject.rfc4514_string())
    except ValueError:
        return "(a certificate whose subject does not parse)"
