"""Sign up, sign out and sign in through the real pages, in Chromium, with virtual authenticators.

Each failure a person can meet shows its plain-language message in the page's live region:
a cancelled prompt, and a policy that refuses an authenticator that cannot verify the user.
"""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from authsvc.policy.document import policy_document
from authsvc.policy.model import Policy
from authsvc.services import admin
from authsvc.services.admin import Actor
from authsvc.services.context import Caller
from authsvc.storage.models import users
from tests.browser.chromium import PLATFORM, SECURITY_KEY, U2F, Person
from tests.browser.conftest import OpenPerson
from tests.browser.flows import sign_out, sign_up
from tests.browser.live import LiveServer

pytestmark = pytest.mark.browser


def test_sign_up_signs_in_then_sign_out_and_sign_in_with_the_button(person: Person) -> None:
    key = person.plug_in(PLATFORM)
    sign_up(person, "ada", "Ada Lovelace")
    expect(person.page.locator("#welcome")).to_have_text("Signed in as Ada Lovelace (ada).")
    assert len(person.credentials(key)) == 1
    assert person.credentials(key)[0]["isResidentCredential"] is True
    sign_out(person)
    person.goto("/account")
    person.page.wait_for_url(person.origin + "/")  # no session: back to sign-in
    person.page.get_by_role("button", name="Sign in with a passkey").click()
    person.page.wait_for_url("**/account")
    expect(person.page.locator("#welcome")).to_contain_text("(ada)")


def test_sign_in_by_autofill(person: Person) -> None:
    person.plug_in(PLATFORM)
    sign_up(person, "grace", "Grace Hopper")
    sign_out(person)
    person.page.get_by_label("Username").click()  # conditional mediation: the passkey is offered
    person.page.wait_for_url("**/account")
    expect(person.page.locator("#welcome")).to_contain_text("(grace)")


def test_a_security_key_signs_up_and_signs_in_by_username(person: Person) -> None:
    key = person.plug_in(SECURITY_KEY)
    sign_up(person, "linus")
    assert len(person.credentials(key)) == 1
    sign_out(person)
    person.page.get_by_label("Username").fill("linus")
    person.page.get_by_role("button", name="Use a security key or another device").click()
    person.page.wait_for_url("**/account")


def test_a_cancelled_prompt_shows_its_message(person: Person) -> None:
    key = person.plug_in(PLATFORM)
    sign_up(person, "ken")
    sign_out(person)
    person.verifies(key, verified=False)  # the person cancels, or the fingerprint fails
    person.page.get_by_role("button", name="Sign in with a passkey").click()
    status = person.page.locator("#status.error")
    expect(status).not_to_be_empty()
    assert person.page.url == person.origin + "/"
    person.verifies(key, verified=True)  # and tries again
    person.page.get_by_role("button", name="Sign in with a passkey").click()
    person.page.wait_for_url("**/account")


def _require_user_verification(server: LiveServer, admin_username: str) -> None:
    """What an admin does through the admin API, here through the same use case."""
    svc = server.services
    with svc.engine.begin() as conn:
        conn.execute(users.update().where(users.c.username == admin_username).values(role="admin"))
        admin_id = conn.execute(users.select().where(users.c.username == admin_username)).one().id
    document = {**policy_document(Policy.default()), "user_verification": "required"}
    actor = Actor(admin_id, "admin", time.time(), Caller(binding="browser-test-admin"))
    admin.add_policy_version(svc, actor, "default", document)


def test_a_uv_required_policy_refuses_a_key_without_uv_with_its_message(
    server: LiveServer, open_person: OpenPerson
) -> None:
    root = open_person()
    root.plug_in(PLATFORM)
    sign_up(root, "root")
    _require_user_verification(server, "root")
    newcomer = open_person()
    newcomer.plug_in(U2F)
    newcomer.goto("/signup")
    newcomer.page.get_by_label("Username").fill("walkup")
    newcomer.page.get_by_role("button", name="Create a passkey").click()
    expect(newcomer.page.locator("#status.error")).not_to_be_empty()
    assert newcomer.page.url == newcomer.origin + "/signup"
