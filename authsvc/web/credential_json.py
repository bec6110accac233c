"""A stored credential as JSON, the members the account API and the admin API share.

Both show the authenticator's name and icon from metadata (FIDO MDS, or the community list
for synced passkeys) beside what the row says; each adds the members only it shows.
"""

from __future__ import annotations

from typing import Any

from fido2.webauthn import Aaguid

from authsvc.encoding import b64url_encode
from authsvc.services.records import CredentialRecord
from authsvc.web.sessions import services


def credential_json(cred: CredentialRecord) -> dict[str, Any]:
    aaguid = str(Aaguid(cred.aaguid))
    described = services().metadata.describe(aaguid, cred.attestation_key_id)
    return {
        "id": cred.id,
        "credentialId": b64url_encode(cred.credential_id),
        "authenticator": described.description if described else None,
        "authenticatorIcon": described.icon if described else None,
        "aaguid": aaguid,
        "aaguidProven": cred.aaguid_proven,
        "status": cred.status,
        "backupEligible": cred.backup_eligible,
        "backedUp": cred.backed_up,
        "attachment": cred.attachment,
        "transports": list(cred.transports),
        "createdAt": cred.created_at.isoformat(),
        "lastUsedAt": cred.last_used_at.isoformat() if cred.last_used_at else None,
    }
