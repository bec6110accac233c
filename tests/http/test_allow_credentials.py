"""A sign-in that names a username is bound to the allowCredentials it was offered.

The account's own passkey, registered after the options were issued, is not among them: it
is refused as ``credential_unknown`` (WebAuthn §7.2: the credential must be one listed in
allowCredentials), the failure is audited, and the refusal signs nobody in. Fresh options
list it, and then it signs in, so the refusal was about the list and not the passkey.
"""

from __future__ import annotations

from flask import Flask

from tests.http.flows import Browser, audit_rows, problem, services
from tests.softauthn import SoftAuthenticator, b64url


def test_the_right_users_passkey_outside_allow_credentials_is_refused(app: Flask) -> None:
    owner, first, second = Browser(app.test_client()), SoftAuthenticator(), SoftAuthenticator()
    assert owner.register(first, "ada").status_code == 200
    signing_in = Browser(app.test_client())
    options = signing_in.assertion_options("ada")
    offered = [c["id"] for c in options["allowCredentials"]]
    assert offered == [b64url(first.credentials[0].credential_id)]

    added = owner.register(second, "ada")  # the signed-in owner adds a second passkey
    assert added.status_code == 200, added.get_data(as_text=True)
    late = second.credentials[0]
    assert b64url(late.credential_id) not in offered
    body = second.get(options, origin=signing_in.origin, credential=late)
    problem(signing_in.post("/assertion/result", body), "credential_unknown")
    row = audit_rows(services(app).engine)[-1]
    assert (row["event"], row["outcome"], row["code"]) == (
        "authentication",
        "failure",
        "credential_unknown",
    )
    problem(signing_in.call("GET", "/api/v1/me"), "unauthenticated", 401)

    assert signing_in.sign_in(second, "ada", credential=late).status_code == 200
