"""An X.509 v1 self-signed root in TRUST_ROOTS: chains under it are trusted (issue 8).

Some vendors ship v1 roots in FIDO metadata (SoloKeys among them): no extensions at all, so
no basicConstraints. They are anchors because the operator configured them, so a packed
attestation whose leaf comes from an intermediate CA under such a root is recorded as
``trusted``; the same registration without the root configured is ``untrusted``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from fido2.webauthn import AttestationObject
from flask import Flask
from sqlalchemy import select

from authsvc import create_app
from authsvc.settings import Settings
from authsvc.storage.models import credentials
from tests.database import empty_tables
from tests.http.flows import Browser, problem, services
from tests.softauthn import Attestation, SoftAuthenticator, TestCA, b64url, b64url_decode
from tests.softauthn.ca import v1_certificate, v1_root


def pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


@pytest.fixture
def v1_hierarchy() -> tuple[x509.Certificate, TestCA]:
    """A v1 self-signed root and, under it, a v3 intermediate CA that issues the leaves."""
    root_key, root = v1_root()
    assert root.version is x509.Version.v1
    return root, TestCA.generate(issuer=(root_key, root))


def trusting(settings: Settings, tmp_path: Path, *roots: x509.Certificate, **changes: Any) -> Flask:
    """The service with ``roots`` in PEM files named by TRUST_ROOTS, as the environment sets it."""
    files = []
    for index, root in enumerate(roots):
        files.append(tmp_path / f"root-{index}.pem")
        files[-1].write_bytes(pem(root))
    env = {
        "TRUST_ROOTS": ",".join(str(f) for f in files),
        "SECRET_KEY": settings.secret_key,
        "DATABASE_URL": settings.database_url,
    }
    app = create_app(
        settings.with_changes(trust_roots=Settings.from_env(env).trust_roots, **changes)
    )
    app.config["TESTING"] = True
    empty_tables(services(app).engine)
    return app


@pytest.fixture
def apps() -> Iterator[list[Flask]]:
    """Apps a test made; their engines are closed afterwards."""
    made: list[Flask] = []
    yield made
    for app in made:
        services(app).engine.dispose()


def with_intermediate(response: dict[str, Any], intermediate: x509.Certificate) -> dict[str, Any]:
    """The registration response with ``intermediate`` after the leaf in ``x5c``.

    The authenticator sends only its leaf; a real one under an intermediate sends both. The
    packed signature covers authenticator data and the client data hash, not ``x5c``.
    """
    body = response["response"]
    attestation = AttestationObject(b64url_decode(body["attestationObject"]))
    der = intermediate.public_bytes(serialization.Encoding.DER)
    statement = {**attestation.att_stmt, "x5c": [*attestation.att_stmt["x5c"], der]}
    rebuilt = AttestationObject.create(attestation.fmt, attestation.auth_data, statement)
    return {**response, "response": {**body, "attestationObject": b64url(bytes(rebuilt))}}


def register(app: Flask, ca: TestCA, username: str) -> Any:
    browser = Browser(app.test_client())
    authenticator = SoftAuthenticator(attestation=Attestation.PACKED_CA, ca=ca)
    options = browser.registration_options(username)
    response = authenticator.create(options, origin=browser.origin)
    return browser.post("/attestation/result", with_intermediate(response, ca.root_cert))


def stored_trust(app: Flask) -> list[tuple[Any, ...]]:
    """(fmt, trust, aaguid_proven) of every stored credential."""
    query = select(credentials.c.fmt, credentials.c.trust, credentials.c.aaguid_proven)
    with services(app).engine.connect() as conn:
        return [tuple(row) for row in conn.execute(query)]


def other_dir(tmp_path: Path) -> Path:
    path = tmp_path / "other"
    path.mkdir()
    return path


def test_a_chain_under_a_configured_v1_root_is_trusted(
    settings: Settings,
    tmp_path: Path,
    apps: list[Flask],
    v1_hierarchy: tuple[x509.Certificate, TestCA],
) -> None:
    root, ca = v1_hierarchy
    app = trusting(settings, tmp_path, root)
    apps.append(app)
    response = register(app, ca, "ada")
    assert response.status_code == 200, response.json
    assert stored_trust(app) == [("packed", "trusted", True)]


def test_without_the_root_the_same_chain_is_untrusted(
    app: Flask, v1_hierarchy: tuple[x509.Certificate, TestCA]
) -> None:
    _, ca = v1_hierarchy
    response = register(app, ca, "ada")
    assert response.status_code == 200, response.json
    assert stored_trust(app) == [("packed", "untrusted", False)]


def test_required_trust_is_met_by_the_v1_root_alone(
    settings: Settings,
    tmp_path: Path,
    apps: list[Flask],
    v1_hierarchy: tuple[x509.Certificate, TestCA],
) -> None:
    root, ca = v1_hierarchy
    _, other_root = v1_root(common_name="Another V1 Root")
    strict = {"require_trusted_attestation": True}
    refusing = trusting(settings, other_dir(tmp_path), other_root, **strict)
    apps.append(refusing)
    problem(register(refusing, ca, "ada"), "attestation_untrusted")
    assert stored_trust(refusing) == []
    accepting = trusting(settings, tmp_path, other_root, root, **strict)
    apps.append(accepting)
    assert register(accepting, ca, "ada").status_code == 200
    assert stored_trust(accepting) == [("packed", "trusted", True)]


def test_a_v1_root_that_is_not_self_signed_stops_start_up(
    settings: Settings, tmp_path: Path, v1_hierarchy: tuple[x509.Certificate, TestCA]
) -> None:
    """A v1 certificate issued by someone else is a leaf: configured by mistake, named."""
    _, ca = v1_hierarchy
    key, _ = ca.issue_leaf(aaguid=None)
    not_a_root = v1_certificate(
        subject=x509.Name.from_rfc4514_string("CN=Mistaken V1 Leaf"),
        public_key=key.public_key(),
        signer=ca.root_key,
        issuer=ca.root_cert.subject,
        not_before=ca.not_before,
        not_after=ca.not_after,
    )
    with pytest.raises(ValueError, match=r"root-0\.pem: .*Mistaken V1 Leaf.* not self-signed"):
        trusting(settings, tmp_path, not_a_root)
