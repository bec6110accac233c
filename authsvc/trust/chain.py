"""Attestation certificate chains, validated as of a given time.

Path validation is OpenSSL's (``X509_verify_cert`` through pyOpenSSL) rather than a walk of
our own: it already checks, for every link, the signature, validity at the verification
time (leaf, intermediates and anchor alike), that each issuer is a CA allowed to sign
certificates (basicConstraints cA, keyUsage keyCertSign where present), path length
constraints and unknown critical extensions. No purpose is set, so no extended key usage
is required: attestation certificates carry TCG or vendor EKUs, or none.

After OpenSSL succeeds, every certificate strictly between the leaf and the anchor must
also have basicConstraints cA true. ``X509_check_ca`` answers "CA" in more ways (keyUsage
keyCertSign without basicConstraints, Netscape CA types, a self-issued v1 certificate), and
which of those answers OpenSSL accepts where depends on its release and flags: 3.0 and 4.0
(tested) refuse a keyUsage-only or v1 certificate as an intermediate but accept a
keyUsage-only one as the anchor. Checking the verified path ourselves keeps the rule
whatever OpenSSL cryptography bundles. The anchor alone is exempt: it is trusted because it
is configured, and :class:`TrustAnchors` decides what may be one (a CA or a self-signed v1
root, see :mod:`authsvc.trust.anchors`).

``PARTIAL_CHAIN`` lets the path end at any anchor, not only at a self-signed one, because
FIDO metadata lists some intermediate CAs as attestation roots. A root sent at the end of
``x5c`` (android-key does this) is simply one more untrusted candidate: OpenSSL prefers the
anchor with the same name and key, so the sent copy neither helps nor hurts.

A fresh ``X509Store`` is built per call because ``set_time`` mutates the store and calls
may run concurrently with different times; the anchors themselves were converted to
OpenSSL objects once, when :class:`TrustAnchors` was built.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from cryptography import x509
from OpenSSL import crypto

from authsvc.trust.anchors import TrustAnchors, is_ca


def verify_chain(trust_path: Sequence[bytes], anchors: TrustAnchors, at: datetime) -> bool:
    """True iff ``trust_path`` (DER, leaf first) chains to one of ``anchors``, all valid at ``at``.

    Certificate content never raises: bytes that are not a certificate, anywhere in the
    path, and fields that do not parse make the answer False (by the time a chain is checked
    the format verifier has parsed the leaf, so a bad certificate here can only be an
    intermediate nobody can build on). ``at`` must be timezone-aware; a naive time is a
    programming error and raises ValueError.
    """
    if at.tzinfo is None:
        raise ValueError("verification time must be timezone-aware")
    if not trust_path or not anchors.openssl_roots:
        return False
    try:
        leaf, *untrusted = [
            crypto.X509.from_cryptography(x509.load_der_x509_certificate(der)) for der in trust_path
        ]
    except (ValueError, TypeError, x509.InvalidVersion, crypto.Error):
        return False  # crypto.Error: OpenSSL refuses some DER that cryptography reads
    store = crypto.X509Store()
    for root in anchors.openssl_roots:
        store.add_cert(root)
    store.set_flags(crypto.X509StoreFlags.PARTIAL_CHAIN)
    store.set_time(at.astimezone(UTC))  # pyOpenSSL reads timetuple(): it must be in UTC
    try:
        verified = crypto.X509StoreContext(store, leaf, chain=untrusted).get_verified_chain()
        return all(is_ca(cert.to_cryptography()) for cert in verified[1:-1])
    except crypto.X509StoreContextError:
        return False  # no valid path
    except (crypto.Error, ValueError):
        # re-reading certificates OpenSSL has just verified: never seen to fail, but no
        # certificate content may escape as anything but "not trusted"
        return False
