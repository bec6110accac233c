"""Facts for the policy matrix: each shared vector as the policy engine sees it.

Registration vectors are verified as the endpoint would (their own roots, at their
``verify_at``) and looked up in the real MDS BLOB no. 122 (verified as of 2024-12-20): a
trusted chain proves the AAGUID, anything else only claims it. Authentication vectors
carry no attestation, so their AAGUID is unknown and nothing about them is proven.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from typing import Any

from authsvc.ceremony.expectation import Expectation
from authsvc.ceremony.keys import decode_cose
from authsvc.ceremony.origins import OriginPolicy
from authsvc.ceremony.registration import verify_registration
from authsvc.ceremony.responses import assertion_response, registration_response
from authsvc.encoding import b64url_decode
from authsvc.policy.facts import CredentialFacts
from authsvc.services.attestation_trust import attestation_key_identifier
from authsvc.trust.anchors import TrustAnchors
from authsvc.trust.metadata import index_blob, verify_blob
from authsvc.trust.metadata_index import MetadataIndex
from tests.shared import MDS, Vector

ZERO_AAGUID = "00000000-0000-0000-0000-000000000000"


@functools.cache
def blob_122() -> MetadataIndex:
    root = TrustAnchors.from_pem_files([MDS / "fido-root-r3.pem"])
    blob = (MDS / "blob-122.jwt").read_bytes()
    return index_blob(verify_blob(blob, root=root, at=datetime(2024, 12, 20, tzinfo=UTC)))


def _attachment(response: dict[str, Any]) -> str | None:
    value = response.get("authenticatorAttachment")
    return value if isinstance(value, str) else None


def facts_of(vector: Vector) -> CredentialFacts:
    v = vector.data
    if v["ceremony"] == "registration":
        response = registration_response(v["response"])
        reg = verify_registration(
            response=response,
            expected=Expectation(
                challenge=b64url_decode(v["challenge"], field="challenge"),
                rp_id=v["rp_id"],
                origins=OriginPolicy.of(v["origins"]),
                user_verification=v["user_verification"],
                algorithms=vector.algorithms,
            ),
            anchors=TrustAnchors.from_pem_strings(vector.trust_roots),
            at=vector.at,
            require_trusted=bool(vector.trust_roots),
        )
        key_id = attestation_key_identifier(response.attestation)  # fido-u2f: no AAGUID
        entry = (
            blob_122().by_key_identifier(key_id)
            if key_id
            else blob_122().by_aaguid(reg.aaguid_text)
        )
        return CredentialFacts(
            aaguid=reg.aaguid_text,
            aaguid_proven=reg.trusted,
            trust=reg.trust,
            attachment=_attachment(v["response"]),
            backup_eligible=reg.flags.be,
            algorithm=reg.algorithm,
            user_verified=reg.flags.uv,
            metadata=entry.metadata if entry else None,
            attestation_key_id=key_id,
        )
    assertion = assertion_response(v["response"])
    stored = v["credential"]
    key = decode_cose(b64url_decode(stored["public_key"], field="public_key"))
    return CredentialFacts(
        aaguid=ZERO_AAGUID,
        aaguid_proven=False,
        trust="none",
        attachment=_attachment(v["response"]),
        backup_eligible=stored["backup_eligible"],
        algorithm=int(key[3]),
        user_verified=bool(assertion.authenticator_data.flags & 0x04),
    )
