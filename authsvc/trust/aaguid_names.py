"""Names of passkey providers from the community AAGUID list, and one lookup over both sources.

Synced passkeys (iCloud Keychain, Google Password Manager, 1Password, ...) are not in FIDO MDS,
so without a second source the account page could only show their AAGUID. The community list
(passkeydeveloper/passkey-authenticator-aaguids) names them. It is unsigned and submitted by the
providers themselves, so its entries are names and icons only: ``from_mds=False``, no statuses,
no certification, no FAR, and nothing a policy may treat as proof. Its maintainers say it may
be retired by replacing it with an empty object, which is therefore a valid, empty list.

The file is read from a path the operator gives; no copy ships with the service.
"""

from __future__ import annotations

from pathlib import Path

from authsvc.policy.facts import AuthenticatorMetadata
from authsvc.trust.metadata_index import AAGUID, MetadataRefused, json_object


def load_aaguid_names(path: Path) -> dict[str, AuthenticatorMetadata]:
    """``{aaguid: metadata}`` from a file shaped like ``aaguid.json``; MetadataRefused if not.

    The whole file is refused for one malformed entry: it is small, hand-edited upstream, and
    a half-read list would silently drop names, which is harder to notice than a start-up error.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise MetadataRefused(f"{path}: cannot read the AAGUID names: {exc.strerror}") from exc
    names: dict[str, AuthenticatorMetadata] = {}
    for key, value in json_object(data, str(path)).items():
        aaguid = key.lower()
        if not AAGUID.fullmatch(aaguid):
            raise MetadataRefused(f"{path}: {key!r} is not a dashed AAGUID")
        name = value.get("name") if isinstance(value, dict) else None
        if not isinstance(name, str) or not name.strip():
            raise MetadataRefused(f"{path}: {key} has no name")
        icon = value.get("icon_light")
        names[aaguid] = AuthenticatorMetadata(
            aaguid=aaguid,
            description=name,
            icon=icon if isinstance(icon, str) else None,
            from_mds=False,
        )
    return names
