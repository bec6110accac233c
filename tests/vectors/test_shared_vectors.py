"""Every real authenticator response in ``shared/vectors`` through the endpoints' own code.

The folder is collected, so a vector added later runs without a code change; none is ever
skipped by name. Each runs with the vector's RP ID, origins, challenge, user verification,
trust roots and a clock fixed at its ``verify_at``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from authsvc.ceremony.authentication import StoredCredential, verify_authentication
from authsvc.ceremony.expectation import Expectation
from authsvc.ceremony.origins import OriginPolicy
from authsvc.ceremony.parsing import Flags
from authsvc.ceremony.registration import verify_registration
from authsvc.ceremony.responses import assertion_response, registration_response
from authsvc.encoding import b64url_decode, b64url_encode
from authsvc.errors import AuthError
from authsvc.trust.anchors import TrustAnchors
from tests.shared import VECTORS, Vector, load_vectors


def _expectation(vector: Vector) -> Expectation:
    v = vector.data
    return Expectation(
        challenge=b64url_decode(v["challenge"], field="challenge"),
        rp_id=v["rp_id"],
        origins=OriginPolicy.of(v["origins"]),
        user_verification=v["user_verification"],
        algorithms=vector.algorithms,
    )


def _flags(flags: Flags) -> dict[str, bool]:
    return {
        "up": flags.up,
        "uv": flags.uv,
        "be": flags.be,
        "bs": flags.bs,
        "at": flags.at,
        "ed": flags.ed,
    }


def _run(vector: Vector) -> dict[str, Any]:
    v = vector.data
    if v["ceremony"] == "registration":
        reg = verify_registration(
            response=registration_response(v["response"]),
            expected=_expectation(vector),
            anchors=TrustAnchors.from_pem_strings(vector.trust_roots),
            at=vector.at,
            require_trusted=bool(vector.trust_roots),
        )
        return {
            "ok": True,
            "fmt": reg.fmt,
            "attestation_type": reg.attestation_type,
            "trusted": reg.trusted,
            "aaguid": reg.aaguid_text,
            "credential_id": b64url_encode(reg.credential_id),
            "alg": reg.algorithm,
            "sign_count": reg.sign_count,
            "flags": _flags(reg.flags),
        }
    stored = v["credential"]
    response = assertion_response(v["response"])
    result = verify_authentication(
        response=response,
        expected=_expectation(vector),
        allow_credentials=(),
        user_id=1,  # identified before the ceremony: the user handle may be left out
        credential=StoredCredential(
            credential_id=response.credential_id,
            user_id=1,
            public_key=b64url_decode(stored["public_key"], field="public_key"),
            sign_count=stored["sign_count"],
            user_handle=None
            if stored["user_handle"] is None
            else b64url_decode(stored["user_handle"], field="user_handle"),
            backup_eligible=stored["backup_eligible"],
            active=True,
            kept=None,
        ),
    )
    return {
        "ok": True,
        "credential_id": b64url_encode(result.credential_id),
        "sign_count": result.sign_count,
        "flags": _flags(result.flags),
    }


@pytest.mark.parametrize("vector", load_vectors(), ids=lambda v: v.name)
def test_shared_vector(vector: Vector) -> None:
    expected = vector.expected
    if expected["ok"]:
        got = _run(vector)
        assert {k: got[k] for k in expected} == expected
        return
    with pytest.raises(AuthError) as err:
        _run(vector)
    assert err.value.code == expected["code"], err.value.detail


def test_vectors_folder_is_the_shared_one() -> None:
    assert (VECTORS / "README.md").is_file()
    assert Path(VECTORS).resolve().name == "vectors"
