"""The admin pages in Chromium: an admin edits a policy (its validation errors, then a dry run,
then a new version after a step-up), disables a user's passkey (whose sign-in then fails) and
reads the audit log with its chain status; a non-admin sees the API's refusal; and every admin
page passes axe-core and is photographed at desktop and phone widths."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from authsvc.services.operations import promote_admin
from authsvc.storage.models import policies
from tests.browser.chromium import PLATFORM, Person
from tests.browser.conftest import OpenPerson
from tests.browser.evidence import accessibility_violations, screenshots
from tests.browser.flows import sign_out, sign_up
from tests.browser.live import LiveServer, later

pytestmark = pytest.mark.browser
PAST_STEP_UP_WINDOW = 600  # the default policy's step-up window is 300 s; idle timeout 1800 s
#: refuses every passkey here: the virtual authenticators send no attestation
PROVEN_ONLY = '{"require_trusted_attestation": true}'
#: a valid change that still admits every passkey here (they all verify the user)
UV_REQUIRED = '{"user_verification": "required"}'
ADMIN_PAGES = (
    ("/admin", "users", "#users tr"),
    ("/admin/policies", "policies", "#policies tr"),
    ("/admin/credentials", "credentials", "#credentials tr"),
    ("/admin/audit", "audit", "#events tr"),
    ("/admin/metadata", "metadata", "#metadata dt"),
)


def _admin(server: LiveServer, person: Person, username: str) -> None:
    """Sign up, then become an admin the way the first admin does (``authsvc admin create``)."""
    person.plug_in(PLATFORM)
    sign_up(person, username)
    promote_admin(server.services, username)


def _policy_versions(server: LiveServer) -> list[int]:
    with server.services.engine.connect() as conn:
        found = conn.execute(select(policies.c.version).where(policies.c.name == "default"))
        return sorted(found.scalars())


def _dry_run(person: Person, document: str) -> None:
    person.page.get_by_label("Policy document (JSON)").fill(document)
    person.page.get_by_role("button", name="Dry run").click()


def test_an_admin_edits_a_policy_after_its_errors_and_a_dry_run(
    server: LiveServer, open_person: OpenPerson
) -> None:
    root = open_person()
    _admin(server, root, "root")
    page = root.page
    root.goto("/admin/policies")
    expect(page.locator("#groups")).to_contain_text("default v1")
    page.get_by_role("button", name="Edit policy default").click()
    save = page.get_by_role("button", name="Save as a new version")
    expect(save).to_be_disabled()  # no dry run yet
    errors = page.locator("#document-errors")

    _dry_run(root, "{not json")
    expect(errors).to_contain_text("It is not valid JSON")
    _dry_run(root, '{"user_verification": "sometimes", "colour": 1}')
    expect(errors).to_contain_text("user_verification")
    expect(errors).to_contain_text("colour")
    expect(page.get_by_label("Policy document (JSON)")).to_have_attribute("aria-invalid", "true")
    expect(save).to_be_disabled()

    _dry_run(root, PROVEN_ONLY)
    result = page.locator("#dry-run-result")
    expect(result).to_contain_text("1 of 1 passkeys in 1 group would be refused")
    expect(result).to_contain_text("root")
    expect(errors).to_be_empty()

    _dry_run(root, UV_REQUIRED)
    expect(result).to_contain_text("No passkey would be refused (1 checked in 1 group)")
    page.get_by_label("Policy document (JSON)").press("End")
    page.get_by_label("Policy document (JSON)").type(" ")
    expect(save).to_be_disabled()  # the text changed since its dry run
    page.get_by_role("button", name="Dry run").click()
    expect(save).to_be_enabled()
    assert _policy_versions(server) == [1]
    with later(server, PAST_STEP_UP_WINDOW):
        save.click()  # asks for a step-up first, which the platform authenticator answers
        expect(page.locator("#status.ok")).to_have_text("Saved default version 2.")
    assert _policy_versions(server) == [1, 2]
    expect(page.locator("#groups")).to_contain_text("default v2")
    expect(page.locator("#editor")).to_be_hidden()


def test_a_disabled_passkey_no_longer_signs_in_and_the_audit_log_shows_it(
    server: LiveServer, open_person: OpenPerson
) -> None:
    root = open_person()
    _admin(server, root, "root")
    bob = open_person()
    bob.plug_in(PLATFORM)
    sign_up(bob, "bob")
    page = root.page
    root.goto("/admin/credentials")
    page.get_by_role("button", name=re.compile(r"^Disable passkey \d+ of bob$")).click()
    expect(page.locator("#status.ok")).to_contain_text("disabled")
    bobs = page.locator("#credentials tr").filter(has_text="bob")
    expect(bobs).to_contain_text("disabled")
    expect(
        page.get_by_role("button", name=re.compile(r"^Re-enable passkey \d+ of bob$"))
    ).to_be_focused()

    bob.page.reload()  # disabling ended the session the passkey signed in
    bob.page.wait_for_url(bob.origin + "/")
    bob.page.get_by_role("button", name="Sign in with a passkey").click()
    expect(bob.page.locator("#status.error")).not_to_be_empty()
    assert bob.page.url == bob.origin + "/"

    root.goto("/admin/audit")
    expect(page.locator("#chain")).to_contain_text("Hash chain intact")
    expect(page.locator("#events")).to_contain_text("admin.credential.status")
    page.get_by_label("Event", exact=True).fill("admin.credential.status")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**/admin/audit?*event=admin.credential.status*")
    rows = page.locator("#events tr")
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text('"status":"disabled"')


def test_a_signed_in_non_admin_gets_the_frame_and_the_apis_refusal(person: Person) -> None:
    person.plug_in(PLATFORM)
    sign_up(person, "eve")
    expect(person.page.get_by_role("link", name="Admin")).to_have_count(0)
    person.goto("/admin/policies")
    expect(person.page.locator("#status.error")).to_contain_text("this needs the admin role")
    expect(person.page.locator("#policies tr")).to_have_count(0)
    person.page.context.clear_cookies()
    person.goto("/admin")
    person.page.wait_for_url(person.origin + "/")  # no session: sign in first


def test_every_admin_page_is_accessible_and_photographed(
    server: LiveServer, open_person: OpenPerson
) -> None:
    root = open_person(bypass_csp=True)  # axe-core is a script the page CSP does not list
    _admin(server, root, "root")
    bob = open_person()
    bob.plug_in(PLATFORM)
    sign_up(bob, "bob", "Bob Example")
    sign_out(bob)
    page = root.page
    for path, name, filled in ADMIN_PAGES:
        root.goto(path)
        expect(page.locator(filled).first).to_be_visible()
        if name == "policies":  # the editor with a dry run's refusals is the page's point
            page.get_by_role("button", name="Edit policy default").click()
            _dry_run(root, PROVEN_ONLY)
            expect(page.locator("#dry-run-result")).to_contain_text("would be refused")
        assert accessibility_violations(page) == [], name
        screenshots(page, f"admin-{name}")


def test_an_admin_adds_an_ios_app_on_the_apps_page_and_it_is_published(
    server: LiveServer, open_person: OpenPerson
) -> None:
    """The Apps page adds an app through the admin API, shows its secret once, and the
    association file names it at once."""
    root = open_person(bypass_csp=True)
    _admin(server, root, "root")
    page = root.page
    root.goto("/admin/apps")
    page.get_by_label("App ID").fill("ABCDE12345.com.example.app")
    page.get_by_role("button", name="Add app").click()
    expect(page.locator("#secret-value")).to_have_text(re.compile(r"^[A-Za-z0-9_-]{43}$"))
    expect(page.locator("#apps")).to_contain_text("ABCDE12345.com.example.app")
    assert accessibility_violations(page) == []
    screenshots(page, "admin-apps")
    published = page.request.get(root.origin + "/.well-known/apple-app-site-association")
    assert published.json() == {"webcredentials": {"apps": ["ABCDE12345.com.example.app"]}}
