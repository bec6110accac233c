"""Native app clients as values: an iOS app ID, an Android package and its signing keys.

An iOS app is named by its *app ID*, ``<team ID>.<bundle ID>``: the team ID is the ten
upper-case letters and digits Apple gives a developer account, the bundle ID the app's
``CFBundleIdentifier`` (letters, digits, ``-`` and ``.``; at most 155 characters). Its
passkey ceremonies carry the RP's own web origin, so the app ID is what the service
publishes in ``apple-app-site-association`` and what it records, never an origin.

An Android app is named by its package name (the ``applicationId``: two or more segments
separated by dots, each a letter followed by letters, digits or ``_``) and is known by the
SHA-256 fingerprints of the certificates it is signed with: usually two, the upload key and
Google Play's app signing key, since an installed app carries the latter. Credential
Manager puts ``android:apk-key-hash:<base64url of that SHA-256, no padding>`` in the client
data of every ceremony the app runs, so a fingerprint *is* an origin.

Everything here is strict: a value is accepted in exactly the forms documented, and each
refusal is an :class:`AppClientInvalid` saying which rule was broken (never echoing the
input), which callers turn into ``malformed``.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import Final

IOS: Final = "ios"
ANDROID: Final = "android"
PLATFORMS: Final = (IOS, ANDROID)

FINGERPRINT_BYTES: Final = 32  # SHA-256
ANDROID_ORIGIN_PREFIX: Final = "android:apk-key-hash:"
#: the fingerprints one Android app may have: upload key, Play signing key, rotated keys
MAX_FINGERPRINTS: Final = 10
MAX_BUNDLE_ID: Final = 155
MAX_PACKAGE_NAME: Final = 255
MAX_NAME: Final = 64

_TEAM_ID: Final = re.compile(r"[A-Z0-9]{10}", re.ASCII)
_BUNDLE_ID: Final = re.compile(r"[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*", re.ASCII)
_PACKAGE: Final = re.compile(r"[A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z][A-Za-z0-9_]*)+", re.ASCII)
_HEX_PAIRS: Final = re.compile(r"[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){31}", re.ASCII)
_HEX_64: Final = re.compile(r"[0-9A-Fa-f]{64}", re.ASCII)
_B64URL_43: Final = re.compile(r"[A-Za-z0-9_-]{43}", re.ASCII)


class AppClientInvalid(ValueError):
    """A team ID, bundle ID, package name, fingerprint or label that breaks its rules."""


@dataclass(frozen=True, slots=True)
class IosApp:
    """An iOS app: its team ID and bundle ID; ``app_id`` is how Apple's files name it."""

    team_id: str
    bundle_id: str

    def __post_init__(self) -> None:
        if not _TEAM_ID.fullmatch(self.team_id):
            raise AppClientInvalid(
                "the team ID must be 10 characters A-Z or 0-9 (upper case, as Apple shows it)"
            )
        if len(self.bundle_id) > MAX_BUNDLE_ID or not _BUNDLE_ID.fullmatch(self.bundle_id):
            raise AppClientInvalid(
                "the bundle ID must be 1-155 of A-Z, a-z, 0-9, '-' and '.', "
                "with no empty part between dots"
            )

    @property
    def app_id(self) -> str:
        return f"{self.team_id}.{self.bundle_id}"

    @classmethod
    def from_app_id(cls, app_id: str) -> IosApp:
        """``TEAMID.bundle.id`` split at its first dot (a team ID has none)."""
        team_id, dot, bundle_id = app_id.partition(".")
        if not dot:
            raise AppClientInvalid("an iOS app ID is TEAMID.bundle.id")
        return cls(team_id=team_id, bundle_id=bundle_id)


@dataclass(frozen=True, slots=True)
class AndroidApp:
    """An Android app: its package name and the SHA-256 of each certificate it is signed with."""

    package_name: str
    fingerprints: tuple[bytes, ...]

    def __post_init__(self) -> None:
        check_package_name(self.package_name)
        if not 1 <= len(self.fingerprints) <= MAX_FINGERPRINTS:
            raise AppClientInvalid(
                f"an Android app needs 1 to {MAX_FINGERPRINTS} signing-certificate fingerprints"
            )
        if any(len(fp) != FINGERPRINT_BYTES for fp in self.fingerprints):
            raise AppClientInvalid("a fingerprint is the 32 bytes of a SHA-256")
        if len(set(self.fingerprints)) != len(self.fingerprints):
            raise AppClientInvalid("the same fingerprint is given twice")

    @property
    def origins(self) -> tuple[str, ...]:
        """The ``android:apk-key-hash:`` origin of each fingerprint, in the same order."""
        return tuple(origin_of(fp) for fp in self.fingerprints)


def check_package_name(package_name: str) -> None:
    """Android's ``applicationId`` rules: 2+ dot-separated segments, each starting a letter."""
    if len(package_name) > MAX_PACKAGE_NAME or not _PACKAGE.fullmatch(package_name):
        raise AppClientInvalid(
            "the package name must have two or more segments separated by '.', each a letter "
            "followed by letters, digits or '_' (at most 255 characters)"
        )


def check_name(name: str) -> str:
    """An app's display label: 1-64 characters, none of them control or format characters."""
    if not 1 <= len(name) <= MAX_NAME or not name.isprintable() or name != name.strip():
        raise AppClientInvalid(
            "the name must be 1-64 printable characters, without leading or trailing spaces"
        )
    return name


def parse_fingerprint(text: str) -> bytes:
    """A SHA-256 fingerprint given as ``AB:CD:…`` (32 hex pairs) or as 64 hex digits, any case.

    These are the forms ``keytool -list -v``, ``apksigner``, Gradle's ``signingReport`` and
    the Play Console print. Nothing else is guessed at: no spaces, no ``SHA256:`` label.
    """
    if _HEX_PAIRS.fullmatch(text):
        return bytes.fromhex(text.replace(":", ""))
    if _HEX_64.fullmatch(text):
        return bytes.fromhex(text)
    raise AppClientInvalid(
        "a fingerprint is a SHA-256 written as 32 colon-separated hex pairs or 64 hex digits"
    )


def format_fingerprint(fingerprint: bytes) -> str:
    """Upper-case colon-separated hex, as ``assetlinks.json`` lists fingerprints."""
    if len(fingerprint) != FINGERPRINT_BYTES:
        raise AppClientInvalid("a fingerprint is the 32 bytes of a SHA-256")
    return fingerprint.hex(":").upper()


def origin_of(fingerprint: bytes) -> str:
    """The client-data origin of an app signed with this certificate."""
    if len(fingerprint) != FINGERPRINT_BYTES:
        raise AppClientInvalid("a fingerprint is the 32 bytes of a SHA-256")
    return ANDROID_ORIGIN_PREFIX + base64.urlsafe_b64encode(fingerprint).rstrip(b"=").decode()


def fingerprint_of_origin(origin: str) -> bytes | None:
    """The fingerprint an ``android:apk-key-hash:`` origin names, or None for any other text.

    Only the canonical form counts: exactly 43 base64url characters, no padding, whose
    unused last bits are zero, so one certificate has exactly one origin (a second
    spelling of the same hash could otherwise pass an exact origin list).
    """
    if not origin.startswith(ANDROID_ORIGIN_PREFIX):
        return None
    encoded = origin[len(ANDROID_ORIGIN_PREFIX) :]
    if not _B64URL_43.fullmatch(encoded):
        return None
    try:
        fingerprint = base64.urlsafe_b64decode(encoded + "=")
    except (binascii.Error, ValueError):  # pragma: no cover - the pattern rules it out
        return None
    return fingerprint if origin_of(fingerprint) == origin else None
