"""Account recovery through the real pages: a recovery code, and an admin's one-time link.

The person who recovers is always in a fresh context with a fresh virtual authenticator:
the device that held the passkey is lost, so nothing of it (cookies, credentials) is there.
Each path ends the way recovery must: a recovered session that can only add a passkey, and
then an ordinary one once that passkey signs in. A used code and a used link are refused
with a message that says why.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from authsvc.services.operations import promote_admin
from tests.browser.chromium import PLATFORM, Person
from tests.browser.conftest import OpenPerson
from tests.browser.evidence import accessibility_violations, screenshots
from tests.browser.flows import SIGNED_IN_TIMEOUT_MS, sign_out, sign_up
from tests.browser.live import LiveServer, later
from tests.browser.test_account import PAST_STEP_UP_WINDOW
from tests.http.recovery_flows import user_id

pytestmark = pytest.mark.browser

_ISSUE_LINK = """async (path) => {
  const response = await fetch(path, {method: "POST", headers: {Accept: "application/json"}});
  return {status: response.status, body: await response.json()};
}"""


def _make_codes(server: LiveServer, person: Person) -> list[str]:
    """Make a set of codes on the account page, long after sign-in: a step-up comes first."""
    page = person.page
    with later(server, PAST_STEP_UP_WINDOW):
        page.get_by_role("button", name="Make recovery codes").click()
        expect(page.locator("#codes > li")).to_have_count(10)
    expect(page.locator("#codes-shown")).to_contain_text("will not be shown again")
    expect(page.locator("#recovery-count")).to_contain_text("10 unused recovery codes")
    return page.locator("#codes > li").all_inner_texts()


def _use_code(person: Person, username: str, code: str) -> None:
    page = person.page
    person.goto("/")
    page.get_by_role("link", name="Use a recovery code").click()
    page.wait_for_url("**/recover")
    page.get_by_label("Username", exact=True).fill(username)
    page.get_by_label("Recovery code", exact=True).fill(code)
    page.get_by_role("button", name="Recover with this code").click()


def _finish_recovery(person: Person) -> None:
    """On the recovered account page: add a passkey, sign in with it, and the banner goes."""
    page = person.page
    banner = page.locator("#recovered")
    expect(banner).to_contain_text("add a passkey now")
    expect(page.get_by_role("button", name="Rename")).to_have_count(0)  # only adding is offered
    expect(page.locator("#recovery")).to_be_hidden()
    banner.get_by_role("button", name="Add a passkey").click()
    banner.get_by_role("button", name="Sign in with your new passkey").click()
    expect(page.locator("#status.ok")).to_contain_text("fully unlocked")
    expect(banner).to_be_hidden()
    expect(page.get_by_role("button", name="Rename")).to_have_count(2)  # the lost one and the new
    expect(page.locator("#recovery")).to_be_visible()


def test_recover_with_a_code_then_add_and_sign_in_with_a_passkey(
    server: LiveServer, open_person: OpenPerson
) -> None:
    owner = open_person()
    owner.plug_in(PLATFORM)
    sign_up(owner, "ada", "Ada Lovelace")
    codes = _make_codes(server, owner)
    sign_out(owner)

    new_device = open_person(bypass_csp=True)  # axe-core is a script the page CSP does not list
    key = new_device.plug_in(PLATFORM)
    new_device.goto("/recover")
    assert accessibility_violations(new_device.page) == []
    screenshots(new_device.page, "recover")
    _use_code(new_device, "ada", codes[3].lower())  # as typed: case does not matter
    new_device.page.wait_for_url("**/account", timeout=SIGNED_IN_TIMEOUT_MS)
    expect(new_device.page.locator("#recovered")).to_be_visible()
    assert accessibility_violations(new_device.page) == []
    screenshots(new_device.page, "account-recovered")
    _finish_recovery(new_device)
    assert len(new_device.credentials(key)) == 1

    thief = open_person()  # the same code, once more
    _use_code(thief, "ada", codes[3])
    expect(thief.page.locator("#status.error")).to_contain_text("don't match an unused code")
    assert thief.page.url == thief.origin + "/recover"


def _issue_link(server: LiveServer, open_person: OpenPerson, username: str) -> str:
    """An admin, signed in with a passkey, issues a link through the admin API."""
    admin = open_person()
    admin.plug_in(PLATFORM)
    sign_up(admin, "root")  # with user verification: a fresh step-up
    promote_admin(server.services, "root")
    path = f"/api/v1/admin/users/{user_id(server.app, username)}/recovery-link"
    issued: dict[str, Any] = admin.page.evaluate(_ISSUE_LINK, path)
    assert issued["status"] == 201, issued
    url: str = issued["body"]["url"]
    assert url.startswith(server.origin + "/recover#")
    return url


def test_recover_with_an_admins_link_once(server: LiveServer, open_person: OpenPerson) -> None:
    owner = open_person()
    owner.plug_in(PLATFORM)
    sign_up(owner, "grace", "Grace Hopper")
    url = _issue_link(server, open_person, "grace")

    new_device = open_person()
    new_device.plug_in(PLATFORM)
    new_device.page.goto(url)
    new_device.page.wait_for_url("**/account", timeout=SIGNED_IN_TIMEOUT_MS)
    expect(new_device.page.locator("#welcome")).to_contain_text("(grace)")
    _finish_recovery(new_device)

    again = open_person()  # the link was used
    again.page.goto(url)
    expect(again.page.locator("#status.error")).to_contain_text("already used")
    expect(again.page.locator("#link-heading")).to_have_text("This recovery link didn't work")
    assert again.page.url == again.origin + "/recover"  # the token left the address bar
