"""What a person does on the pages, as Playwright steps (shared by the browser tests)."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.chromium import Person

SIGNED_IN_TIMEOUT_MS = 10_000


def sign_up(person: Person, username: str, display_name: str = "") -> None:
    page = person.page
    person.goto("/signup")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Your name").fill(display_name)
    page.get_by_role("button", name="Create a passkey").click()
    page.wait_for_url("**/account", timeout=SIGNED_IN_TIMEOUT_MS)
    expect(page.locator("#welcome")).to_contain_text(f"({username})")


def sign_out(person: Person) -> None:
    person.page.get_by_role("button", name="Sign out", exact=True).click()
    person.page.wait_for_url(person.origin + "/")


def status(person: Person) -> str:
    return person.page.locator("#status").inner_text()
