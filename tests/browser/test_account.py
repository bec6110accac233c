"""The account page: add a second passkey, rename, delete with step-up, sessions; and the
accessibility audit and screenshots of every page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.chromium import PLATFORM, SECURITY_KEY, Person
from tests.browser.conftest import OpenPerson
from tests.browser.evidence import accessibility_violations, screenshots
from tests.browser.flows import sign_out, sign_up
from tests.browser.live import LiveServer, later

pytestmark = pytest.mark.browser
PAST_STEP_UP_WINDOW = 600  # the default policy's step-up window is 300 s; idle timeout 1800 s


def test_add_rename_and_delete_with_step_up(server: LiveServer, person: Person) -> None:
    page = person.page
    person.plug_in(PLATFORM)
    sign_up(person, "ada", "Ada Lovelace")
    expect(page.locator("#nudge")).to_be_visible()  # one passkey: add a second
    person.plug_in(SECURITY_KEY)
    page.get_by_role("button", name="Add a passkey").click()
    expect(page.locator("#passkeys > li")).to_have_count(2)
    expect(page.locator("#nudge")).to_be_hidden()
    added = page.locator("#passkeys > li").filter(has_not_text="Used for this sign-in")
    added.get_by_role("button", name="Rename").click()
    page.get_by_label("New name for").fill("Work laptop")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#status.ok")).to_contain_text("Work laptop")
    expect(page.locator("#passkeys")).to_contain_text("Work laptop")
    with later(server, PAST_STEP_UP_WINDOW):
        page.get_by_role("button", name="Delete Work laptop").click()
        page.get_by_role(
            "button", name="Delete passkey", exact=True
        ).click()  # asks for a step-up first
        expect(page.locator("#status.ok")).to_contain_text("Deleted")
    expect(page.locator("#passkeys > li")).to_have_count(1)
    expect(page.locator("#passkeys")).not_to_contain_text("Work laptop")


def test_sign_out_everywhere_ends_every_session(open_person: OpenPerson) -> None:
    laptop = open_person()
    key = laptop.plug_in(PLATFORM)
    sign_up(laptop, "ada")
    phone = open_person()
    phone_key = phone.plug_in(PLATFORM)
    for credential in laptop.credentials(key):  # the synced passkey reaches the phone
        phone.cdp.send(
            "WebAuthn.addCredential", {"authenticatorId": phone_key, "credential": credential}
        )
    phone.goto("/")
    phone.page.get_by_role("button", name="Sign in with a passkey").click()
    phone.page.wait_for_url("**/account")
    laptop.page.reload()
    expect(laptop.page.locator("#sessions > li")).to_have_count(2)
    laptop.page.get_by_role("button", name="Sign out everywhere").click()
    laptop.page.wait_for_url(laptop.origin + "/")
    phone.page.reload()
    phone.page.wait_for_url(phone.origin + "/")


def test_every_page_is_accessible_and_photographed(open_person: OpenPerson) -> None:
    person = open_person(bypass_csp=True)  # axe-core is a script the page CSP does not list
    person.plug_in(PLATFORM)
    for path, name in (("/", "sign-in"), ("/signup", "sign-up")):
        person.goto(path)
        assert accessibility_violations(person.page) == [], name
        screenshots(person.page, name)
    sign_up(person, "ada", "Ada Lovelace")
    expect(person.page.locator("#passkeys > li")).to_have_count(1)
    assert accessibility_violations(person.page) == []
    screenshots(person.page, "account")
    sign_out(person)
