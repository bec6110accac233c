"""The README's native-app walk-through, against a running service, as the apps would do it.

Start the service (``make run``), then, from the same checkout::

    .venv/bin/python -m tests.walkthrough            # --base http://localhost:5000

It registers an Android and an iOS app client with ``authsvc app add`` (the operator's
command, on the same database), fetches both association files, and then, for each app,
gets a registration token from the app's back end, registers a passkey and signs in over
``/api/v1``, and refreshes the tokens at ``/oauth/token``: the Android app with the origin
``android:apk-key-hash:…`` of its signing certificate, the iOS app with the web origin and
DPoP-bound tokens. The passkey is the tests' software authenticator, standing where the
platform's (Credential Manager, AuthenticationServices) would. Finally it removes both apps
and shows the Android origin refused. Every request and answer is printed; any unexpected
status stops it with exit code 1. ``tests/http/test_walkthrough.py`` runs it in CI.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import re
import secrets
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.http.token_flows import DpopKey
from tests.softauthn import SoftAuthenticator

TIMEOUT = 10.0
_SHOWN_CHARS = 300
_SECRET_LINE = re.compile(r"client secret \(shown only now\): (\S+)")


class WalkthroughFailed(Exception):
    """A step answered something other than what the walk-through expects."""


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    headers: Mapping[str, str]
    body: Any


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _shown(value: object) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return text if len(text) <= _SHOWN_CHARS else text[:_SHOWN_CHARS] + "…"


@dataclass
class Walkthrough:
    base: str
    cli: Sequence[str]
    out: list[str] = field(default_factory=list)

    def say(self, line: str) -> None:
        self.out.append(line)
        print(line, flush=True)

    # -- the operator's side ------------------------------------------------------------

    def authsvc(self, *args: str) -> str:
        self.say("$ authsvc " + " ".join(args))
        done = subprocess.run(  # noqa: S603 - our own CLI, arguments we chose
            [*self.cli, *args], capture_output=True, text=True, check=False, timeout=60
        )
        for line in done.stdout.splitlines():
            self.say("  " + line)
        if done.returncode != 0:
            raise WalkthroughFailed(f"authsvc {args[0]} {args[1]}: {done.stderr.strip()}")
        return done.stdout

    def add_app(self, *args: str) -> str:
        found = _SECRET_LINE.search(self.authsvc("app", "add", *args))
        if found is None:
            raise WalkthroughFailed("authsvc app add printed no client secret")
        return found.group(1)

    # -- HTTP ---------------------------------------------------------------------------

    def call(
        self,
        method: str,
        path: str,
        *,
        json_body: object | None = None,
        form: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        expect: int | None = 200,
    ) -> Answer:
        sent: dict[str, str] = dict(headers or {})
        data: bytes | None = None
        if json_body is not None:
            data, sent["Content-Type"] = json.dumps(json_body).encode(), "application/json"
        elif form is not None:
            data = urllib.parse.urlencode(form).encode()
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        self.say(
            f"→ {method} {path}" + (f" {_shown(json_body or dict(form or {}))}" if data else "")
        )
        request = urllib.request.Request(  # noqa: S310 - the base URL is the service under test
            self.base + path, data=data, headers=sent, method=method
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310
                answer = Answer(response.status, dict(response.headers), _json(response.read()))
        except urllib.error.HTTPError as error:
            with error:
                answer = Answer(error.code, dict(error.headers), _json(error.read()))
        self.say(f"← {answer.status} {_shown(answer.body)}")
        if expect is not None and answer.status != expect:
            raise WalkthroughFailed(f"{method} {path}: {answer.status}, expected {expect}")
        return answer

    def with_dpop(self, dpop: DpopKey, method: str, path: str, **kwargs: Any) -> Answer:
        """A request with a DPoP proof; a ``use_dpop_nonce`` refusal is retried once."""
        expect = kwargs.pop("expect", 200)
        token = kwargs.pop("access_token", None)
        for _ in range(2):
            headers = dict(kwargs.pop("headers", {}))
            headers["DPoP"] = dpop.proof(method, self.base + path, access_token=token)
            if token is not None:
                headers["Authorization"] = f"DPoP {token}"
            answer = self.call(method, path, headers=headers, expect=None, **kwargs)
            dpop.nonce = answer.headers.get("DPoP-Nonce") or dpop.nonce
            if not (
                isinstance(answer.body, dict) and answer.body.get("code") == "dpop_nonce_required"
            ):
                break
            self.say("  (the service asked for its DPoP nonce: the same request again, with it)")
        if answer.status != expect:
            raise WalkthroughFailed(f"{method} {path}: {answer.status}, expected {expect}")
        return answer

    # -- one app ------------------------------------------------------------------------

    def sign_up_and_in(
        self, *, client_id: str, secret: str, origin: str, dpop: DpopKey | None
    ) -> tuple[str, SoftAuthenticator]:
        """Sign up by a registration token, sign in, use and refresh the tokens."""
        username = f"walk-{secrets.token_hex(4)}"
        basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode("ascii")
        issued = self.call(
            "POST",
            "/api/v1/registration-tokens",
            json_body={"username": username, "displayName": username},
            headers={"Authorization": f"Basic {basic}"},
            expect=201,
        ).body
        auth = SoftAuthenticator(backup_eligible=True, backed_up=True)
        options = self.call(
            "POST",
            "/api/v1/registrations/options",
            json_body={"registrationToken": issued["registrationToken"], "clientId": client_id},
        ).body
        created = auth.create(options["publicKey"], origin=origin)
        result = {"ceremonyId": options["ceremonyId"], "credential": created}
        if dpop is None:
            self.call("POST", "/api/v1/registrations", json_body=result, expect=201)
        else:
            self.with_dpop(dpop, "POST", "/api/v1/registrations", json_body=result, expect=201)
        options = self.call(
            "POST",
            "/api/v1/sessions/options",
            json_body={"username": username, "clientId": client_id},
        ).body
        asserted = auth.get(options["publicKey"], origin=origin)
        result = {"ceremonyId": options["ceremonyId"], "credential": asserted}
        if dpop is None:
            grant = self.call("POST", "/api/v1/sessions", json_body=result).body
            self.call(
                "GET", "/api/v1/me", headers={"Authorization": f"Bearer {grant['access_token']}"}
            )
            refresh = {"grant_type": "refresh_token", "refresh_token": grant["refresh_token"]}
            self.call("POST", "/oauth/token", form=refresh)
            return username, auth
        grant = self.with_dpop(dpop, "POST", "/api/v1/sessions", json_body=result).body
        if grant["token_type"] != "DPoP":
            raise WalkthroughFailed("a sign-in with a DPoP proof answered unbound tokens")
        self.with_dpop(dpop, "GET", "/api/v1/me", access_token=grant["access_token"])
        refresh = {"grant_type": "refresh_token", "refresh_token": grant["refresh_token"]}
        self.with_dpop(dpop, "POST", "/oauth/token", form=refresh)
        return username, auth

    def run(self) -> None:
        tag = secrets.token_hex(3)
        package, app_id = f"com.example.walk{tag}", f"ABCDE12345.com.example.walk{tag}"
        certificate_sha256 = hashlib.sha256(f"signing certificate {tag}".encode()).digest()
        fingerprint = ":".join(f"{b:02X}" for b in certificate_sha256)
        android_secret = self.add_app("--android", package, "--fingerprint", fingerprint)
        ios_secret = self.add_app("--ios", app_id)
        self.call("GET", "/.well-known/assetlinks.json")
        self.call("GET", "/.well-known/apple-app-site-association")
        android_origin = "android:apk-key-hash:" + _b64url(certificate_sha256)
        self.say(f"# the Android app, origin {android_origin}")
        username, phone = self.sign_up_and_in(
            client_id=package, secret=android_secret, origin=android_origin, dpop=None
        )
        self.say(f"# the iOS app, origin {self.base_origin}, DPoP-bound tokens")
        self.sign_up_and_in(
            client_id=app_id, secret=ios_secret, origin=self.base_origin, dpop=DpopKey()
        )
        self.authsvc("app", "remove", package)
        self.authsvc("app", "remove", app_id)
        self.say("# the removed Android app's origin is refused at once")
        options = self.call("POST", "/api/v1/sessions/options", json_body={"username": username})
        asserted = phone.get(options.body["publicKey"], origin=android_origin)
        refused = self.call(
            "POST",
            "/api/v1/sessions",
            json_body={"ceremonyId": options.body["ceremonyId"], "credential": asserted},
            expect=400,
        )
        if refused.body.get("code") != "origin_mismatch":
            raise WalkthroughFailed(f"the removed app's sign-in answered {refused.body}")

    @property
    def base_origin(self) -> str:
        parts = urllib.parse.urlsplit(self.base)
        return f"{parts.scheme}://{parts.netloc}"


def _asks_for_nonce(answer: Answer) -> bool:
    return isinstance(answer.body, dict) and answer.body.get("code") == "dpop_nonce_required"


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return raw.decode("utf-8", "replace")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--base", default="http://localhost:5000", help="the service's URL")
    parser.add_argument(
        "--authsvc",
        default=str(Path(sys.executable).with_name("authsvc")),
        help="the authsvc command (on the service's database)",
    )
    args = parser.parse_args(argv)
    try:
        Walkthrough(args.base.rstrip("/"), [args.authsvc]).run()
    except WalkthroughFailed as failed:
        print(f"walk-through failed: {failed}", file=sys.stderr)
        return 1
    print("walk-through complete")
    return 0


if __name__ == "__main__":
    sys.exit(main())
