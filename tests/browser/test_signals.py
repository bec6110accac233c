"""The account page drives the Signal API with the service's answers, in real Chromium.

An init script wraps ``PublicKeyCredential.signalAllAcceptedCredentials`` and
``signalCurrentUserDetails`` to record each call (and still calls Chromium's own, where it
has one), so the test sees exactly what the credential manager was told. The ids are
checked against the virtual authenticators' own records, not against the service's JSON.
"""

from __future__ import annotations

import base64
from typing import Any, Final

import pytest
from playwright.sync_api import expect

from tests.browser.chromium import PLATFORM, SECURITY_KEY, Person
from tests.browser.flows import sign_up

pytestmark = pytest.mark.browser

_RECORD_SIGNALS: Final = """(() => {
  window.__signals = [];
  const PKC = window.PublicKeyCredential;
  for (const name of ["signalAllAcceptedCredentials", "signalCurrentUserDetails"]) {
    const own = PKC[name];
    PKC[name] = async (details) => {
      window.__signals.push({name, details});
      if (typeof own === "function") await own.call(PKC, details);
    };
  }
})();"""


def _b64url(cdp_binary: str) -> str:
    """The DevTools protocol sends bytes as standard base64; WebAuthn JSON uses base64url."""
    return base64.urlsafe_b64encode(base64.b64decode(cdp_binary)).rstrip(b"=").decode()


def _signals(person: Person) -> list[dict[str, Any]]:
    recorded: list[dict[str, Any]] = person.page.evaluate("window.__signals")
    return recorded


def test_rename_and_delete_tell_the_credential_manager(person: Person) -> None:
    person.context.add_init_script(_RECORD_SIGNALS)
    page = person.page
    laptop = person.plug_in(PLATFORM)
    sign_up(person, "ada", "Ada Lovelace")
    key = person.plug_in(SECURITY_KEY)
    page.get_by_role("button", name="Add a passkey").click()
    expect(page.locator("#passkeys > li")).to_have_count(2)
    [kept] = person.credentials(laptop)
    [removed] = person.credentials(key)
    user_id = _b64url(kept["userHandle"])
    assert _signals(person) == []

    added = page.locator("#passkeys > li").filter(has_not_text="Used for this sign-in")
    added.get_by_role("button", name="Rename").click()
    page.get_by_label("New name for").fill("Work key")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#status.ok")).to_contain_text("Work key")
    details = {"rpId": "localhost", "userId": user_id, "name": "ada", "displayName": "Ada Lovelace"}
    assert _signals(person) == [{"name": "signalCurrentUserDetails", "details": details}]

    page.get_by_role("button", name="Delete Work key").click()
    page.get_by_role("button", name="Delete passkey", exact=True).click()
    expect(page.locator("#status.ok")).to_contain_text("Deleted")
    accepted = {"rpId": "localhost", "userId": user_id, "allAcceptedCredentialIds": []}
    accepted["allAcceptedCredentialIds"] = [_b64url(kept["credentialId"])]
    assert _b64url(removed["credentialId"]) not in accepted["allAcceptedCredentialIds"]
    assert _signals(person)[1:] == [{"name": "signalAllAcceptedCredentials", "details": accepted}]
