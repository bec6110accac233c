"""``ALGORITHMS`` over HTTP: what options offer, what registration accepts, every algorithm.

Each algorithm the service can verify, post-quantum ML-DSA included, is registered and used
to sign in by the software authenticator through the conformance endpoints; the options
follow the setting's order and the group policy's ``allowed_algorithms`` narrows them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from authsvc import algorithms, create_app
from authsvc.policy.document import policy_document
from authsvc.policy.model import Policy
from authsvc.settings import Settings
from authsvc.storage.models import credentials
from tests.database import empty_tables
from tests.http.admin_flows import signed_in_admin
from tests.http.flows import Browser, audit_rows, problem, services, stored_state
from tests.softauthn import Alg, Attestation, SoftAuthenticator


@pytest.fixture
def make_app(settings: Settings) -> Iterator[Any]:
    """Apps configured with a given ``ALGORITHMS`` (as COSE identifiers, in order)."""
    apps: list[Flask] = []

    def make(*offered: int) -> Flask:
        app = create_app(settings.with_changes(algorithms=offered))
        app.config["TESTING"] = True
        empty_tables(services(app).engine)
        apps.append(app)
        return app

    yield make
    for app in apps:
        services(app).engine.dispose()


def _offered(options: dict[str, Any]) -> list[int]:
    return [p["alg"] for p in options["pubKeyCredParams"]]


def _stored_algorithms(app: Flask) -> list[int]:
    with services(app).engine.connect() as conn:
        return list(conn.scalars(select(credentials.c.algorithm)))


@pytest.mark.parametrize("alg", algorithms.SUPPORTED, ids=algorithms.name_of)
@pytest.mark.parametrize("attestation", [Attestation.NONE, Attestation.PACKED_SELF])
def test_each_algorithm_registers_and_signs_in(
    make_app: Any, alg: int, attestation: Attestation
) -> None:
    app = make_app(alg)
    browser = Browser(app.test_client())
    auth = SoftAuthenticator(alg=list(Alg), attestation=attestation)
    assert _offered(browser.registration_options("ada")) == [alg]
    assert browser.register(auth, "ada").json == {"status": "ok", "errorMessage": ""}
    assert [c.alg for c in auth.credentials] == [alg]
    assert _stored_algorithms(app) == [alg]
    assert browser.sign_in(auth, "ada").json == {"status": "ok", "errorMessage": ""}
    refused = browser.sign_in(auth, "ada", corrupt_signature=True)
    problem(refused, "signature_invalid")


def test_the_default_offer_is_the_classical_four_in_order(make_app: Any) -> None:
    app = make_app(*Settings().algorithms)
    options = Browser(app.test_client()).registration_options("ada")
    assert _offered(options) == [-7, -8, -257, -37]


def test_a_key_of_an_algorithm_not_offered_is_refused_and_nothing_is_written(
    make_app: Any,
) -> None:
    app = make_app(*algorithms.DEFAULT)
    browser = Browser(app.test_client())
    auth = SoftAuthenticator(alg=Alg.ML_DSA_44)
    problem(browser.register(auth, "ada", alg=Alg.ML_DSA_44), "unsupported_algorithm")
    assert stored_state(services(app).engine) == ([], [])
    assert audit_rows(services(app).engine)[-1]["code"] == "unsupported_algorithm"


@pytest.mark.parametrize(
    ("offered", "chosen"),
    [
        ((algorithms.ML_DSA_44, algorithms.ES256), Alg.ML_DSA_44),
        ((algorithms.ES256, algorithms.ML_DSA_44), Alg.ES256),
    ],
)
def test_the_authenticator_takes_the_first_offered_it_supports(
    make_app: Any, offered: tuple[int, ...], chosen: Alg
) -> None:
    app = make_app(*offered)
    auth = SoftAuthenticator(alg=[Alg.ES256, Alg.ML_DSA_44])
    assert Browser(app.test_client()).register(auth, "ada").status_code == 200
    assert _stored_algorithms(app) == [chosen]


def test_a_policy_narrows_the_offer_and_cannot_widen_it(make_app: Any) -> None:
    app = make_app(algorithms.ES256, algorithms.ML_DSA_44, algorithms.ML_DSA_65)
    admin, _ = signed_in_admin(app)
    document = {**policy_document(Policy.default()), "allowed_algorithms": [-48, -257]}
    response = admin.call("POST", "/policies/default/versions", {"document": document})
    assert response.status_code == 201, response.json
    options = Browser(app.test_client()).registration_options("ada")
    assert _offered(options) == [algorithms.ML_DSA_44]  # RS256 is allowed but not offered


def test_a_policy_with_no_offered_algorithm_refuses_the_options(make_app: Any) -> None:
    app = make_app(algorithms.ES256, algorithms.ML_DSA_44)
    admin, _ = signed_in_admin(app)  # an ES256 passkey, before the policy changes
    document = {**policy_document(Policy.default()), "allowed_algorithms": [-8, -257]}
    assert (
        admin.call("POST", "/policies/default/versions", {"document": document}).status_code == 201
    )
    response = Browser(app.test_client()).post(
        "/attestation/options", {"username": "ada", "displayName": "ada"}
    )
    body = problem(response, "policy_denied", 403)
    assert [r["code"] for r in body["reasons"]] == ["algorithm_not_allowed"]


def test_credentials_keep_working_after_their_algorithm_is_no_longer_offered(
    settings: Settings, make_app: Any
) -> None:
    app = make_app(algorithms.ML_DSA_44)
    auth = SoftAuthenticator(alg=Alg.ML_DSA_44)
    assert Browser(app.test_client()).register(auth, "ada").status_code == 200
    later = create_app(settings.with_changes(algorithms=algorithms.DEFAULT))
    later.config["TESTING"] = True
    try:
        browser = Browser(later.test_client())
        assert browser.sign_in(auth, "ada").json == {"status": "ok", "errorMessage": ""}
    finally:
        services(later).engine.dispose()
