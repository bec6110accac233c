"""Property-based hostile input: Hypothesis-made bodies never get a 500 or change state."""

from __future__ import annotations

import json
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.http.admin_flows import signed_in_admin
from tests.http.flows import Browser, audit_rows, services, stored_state
from tests.softauthn import SoftAuthenticator

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=25,
)
b64ish = st.text(alphabet="ABCDEFabcdef0123456789-_=+/ \n", max_size=80)
field_values = json_values | b64ish

HYPOTHESIS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _assert_problem(status: int, body: bytes) -> None:
    assert 400 <= status < 500, body
    assert json.loads(body)["code"]


@HYPOTHESIS
@given(
    body=json_values,
    endpoint=st.sampled_from(
        ["/attestation/options", "/attestation/result", "/assertion/options", "/assertion/result"]
    ),
)
def test_arbitrary_json_bodies(app: Flask, client: FlaskClient, body: Any, endpoint: str) -> None:
    engine = services(app).engine
    before = (stored_state(engine), len(audit_rows(engine)))
    response = client.post(endpoint, json=body)
    if response.status_code == 200:  # an options request that happens to be valid
        assert endpoint.endswith("/options")
        return
    _assert_problem(response.status_code, response.data)
    assert (stored_state(engine), len(audit_rows(engine))) == before


GARBAGE_PATHS = [
    "id",
    "rawId",
    "type",
    "response.clientDataJSON",
    "response.authenticatorData",
    "response.signature",
    "response.userHandle",
    "authenticatorAttachment",
    "response",
]


def test_assertion_fields_replaced_by_garbage(app: Flask, client: FlaskClient) -> None:
    browser = Browser(client)
    auth = SoftAuthenticator()
    browser.register(auth, "ada")
    engine = services(app).engine

    @HYPOTHESIS
    @given(path=st.sampled_from(GARBAGE_PATHS), value=field_values)
    def garbage(path: str, value: Any) -> None:
        body = auth.get(browser.assertion_options(), origin=browser.origin)
        target: dict[str, Any] = body
        keys = path.split(".")
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value
        before = stored_state(engine)
        response = browser.post("/assertion/result", body)
        if response.status_code == 200:  # garbage that happens to be a valid value
            assert path in {"authenticatorAttachment", "type"}
            return
        _assert_problem(response.status_code, response.data)
        assert stored_state(engine) == before

    garbage()


ADMIN_CALLS = [
    ("POST", "/api/v1/admin/policies"),
    ("POST", "/api/v1/admin/policies/default/versions"),
    ("POST", "/api/v1/admin/policies/default/dry-run"),
    ("POST", "/api/v1/admin/groups"),
    ("PUT", "/api/v1/admin/groups/default/policy"),
    ("PUT", "/api/v1/admin/users/1/role"),
    ("PUT", "/api/v1/admin/users/1/group"),
    ("PUT", "/api/v1/admin/credentials/1/status"),
]
policy_like = st.dictionaries(
    st.sampled_from(
        [
            "user_verification",
            "attachment",
            "require_trusted_attestation",
            "allowed_aaguids",
            "denied_aaguids",
            "device_bound_only",
            "max_false_accept_rate",
            "modalities",
            "min_certification_level",
            "allowed_algorithms",
            "sign_count_regression",
            "step_up_max_age_seconds",
            "name",
            "document",
            "policy",
            "group",
            "role",
            "status",
        ]
    ),
    json_values,
    max_size=6,
)


def test_admin_endpoints_never_crash_on_generated_bodies(app: Flask) -> None:
    admin, _ = signed_in_admin(app)

    @HYPOTHESIS
    @given(call=st.sampled_from(ADMIN_CALLS), body=policy_like | json_values, nested=st.booleans())
    def generated(call: tuple[str, str], body: Any, nested: bool) -> None:
        method, path = call
        payload = {"name": "p", "document": body} if nested else body
        response = admin.client.open(path, method=method, json=payload)
        assert response.status_code < 500, response.get_data(as_text=True)
        if response.status_code >= 400:
            assert response.mimetype == "application/problem+json"

    generated()
