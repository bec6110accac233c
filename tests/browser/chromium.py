"""Debian's Chromium under Playwright, and the DevTools WebAuthn domain's virtual authenticators.

The browser is always ``/usr/bin/chromium`` (``make test`` installs it with apt-get); no
browser build is ever downloaded. Each test gets a fresh context (its own cookies and
storage) and page, with a DevTools session on which authenticators are added, so what a
test registers cannot leak into the next.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from playwright.sync_api import (
    BrowserContext,
    CDPSession,
    ConsoleMessage,
    Page,
    Response,
    ViewportSize,
)

CHROMIUM: Final = "/usr/bin/chromium"
#: Headless, and nothing that talks to the network on its own (only localhost is allowed);
#: ``--no-sandbox`` because CI and developers run as root here.
ARGS: Final = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
DESKTOP: Final = ViewportSize(width=1280, height=800)
PHONE: Final = ViewportSize(width=390, height=844)

#: A platform authenticator (Touch ID, Windows Hello, Android) that verifies the user.
PLATFORM: Final = {
    "protocol": "ctap2",
    "transport": "internal",
    "hasResidentKey": True,
    "hasUserVerification": True,
    "isUserVerified": True,
    "automaticPresenceSimulation": True,
}
#: A CTAP2 security key on USB, with a PIN.
SECURITY_KEY: Final = {**PLATFORM, "transport": "usb"}
#: An old U2F key: no resident keys, no user verification.
U2F: Final = {
    "protocol": "u2f",
    "transport": "usb",
    "hasResidentKey": False,
    "hasUserVerification": False,
    "automaticPresenceSimulation": True,
}


@dataclass
class Person:
    """One person's browser: a context, its page, and the authenticators plugged into it."""

    context: BrowserContext
    page: Page
    origin: str
    cdp: CDPSession
    problems: list[str] = field(default_factory=list)

    @classmethod
    def open(cls, context: BrowserContext, origin: str) -> Person:
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("WebAuthn.enable")
        person = cls(context, page, origin, cdp)
        page.on("console", person._console)
        page.on("response", person._response)
        page.on("pageerror", lambda error: person.problems.append(f"page error: {error}"))
        return person

    def _console(self, message: ConsoleMessage) -> None:
        # a CSP violation, a failed module import or an uncaught error is a bug of ours; the
        # browser's "Failed to load resource" for an API's 4xx answer (a step-up's 401) is not,
        # and a missing script or stylesheet is caught by _response instead
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.problems.append(f"console: {message.text}")

    def _response(self, response: Response) -> None:
        if response.status >= 400 and "/static/" in response.url:
            self.problems.append(f"{response.status} for {response.url}")

    def plug_in(self, options: dict[str, Any]) -> str:
        """Add a virtual authenticator; returns its id."""
        added = self.cdp.send("WebAuthn.addVirtualAuthenticator", {"options": options})
        authenticator_id: str = added["authenticatorId"]
        return authenticator_id

    def unplug(self, authenticator_id: str) -> None:
        self.cdp.send("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": authenticator_id})

    def credentials(self, authenticator_id: str) -> list[dict[str, Any]]:
        found = self.cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})
        credentials: list[dict[str, Any]] = found["credentials"]
        return credentials

    def verifies(self, authenticator_id: str, *, verified: bool) -> None:
        """Whether the authenticator's next user verification succeeds (a wrong PIN if not)."""
        self.cdp.send(
            "WebAuthn.setUserVerified",
            {"authenticatorId": authenticator_id, "isUserVerified": verified},
        )

    def goto(self, path: str) -> None:
        self.page.goto(self.origin + path)
