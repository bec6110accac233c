"""The pages a person uses (sign in, sign up, account, recover) and the scripts they load.

The pages are plain HTML that hold no script or style of their own: each loads one ES
module from ``webauthn_js/pages/`` and the stylesheet beside it, so the page CSP of
:mod:`authsvc.web.guards` can forbid inline code outright. Every state change a page makes
is a ``fetch()`` with a JSON body to the API (never an HTML form post), so the cross-site
guard and the JSON-only rule stand in front of it like in front of any other client.

``/static/`` serves only the module (``webauthn.js`` and its sibling modules) and the pages'
own files from ``webauthn_js/``, never its tests (``test/``). That directory sits beside the
``authsvc`` package both in the repository and in an installed wheel, which carries it as
package data (``pyproject.toml``), so a plain ``pip install`` serves the pages too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from flask import Blueprint, Response, redirect, render_template, send_from_directory
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse

from authsvc.errors import NotFound

bp = Blueprint("pages", __name__, template_folder="templates")

#: ``webauthn_js/`` beside the ``authsvc`` package (the repository root, or site-packages).
SCRIPTS: Final = Path(__file__).resolve().parents[2] / "webauthn_js"
_SERVED_SUFFIXES: Final = frozenset({".js", ".css"})


def _page(template: str, script: str, title: str) -> str:
    return render_template(template, script=script, title=title)


@bp.get("/")
def sign_in() -> str:
    return _page("sign_in.html", "sign_in.js", "Sign in")


@bp.get("/signup")
def sign_up() -> str:
    return _page("sign_up.html", "sign_up.js", "Create an account")


@bp.get("/account")
def account() -> str | BaseResponse:
    """The account page needs a session: without one, the sign-in page is where to go."""
    if not current_user.is_authenticated:
        return redirect("/", code=303)
    return _page("account.html", "account.js", "Your account")


@bp.get("/recover")
def recover() -> str:
    """Where a recovery code is typed, and where an admin's link lands.

    The link's token is in the URL fragment (``/recover#<token>``), which browsers never
    send: this route sees no secret, so it is the same page for everyone and the script
    reads the token from ``location.hash``.
    """
    return _page("recover.html", "recover.js", "Recover your account")


def _servable(name: str) -> bool:
    """The module's own files (``webauthn.js`` and the modules it imports) and ``pages/``."""
    path = Path(name)
    if path.suffix not in _SERVED_SUFFIXES:
        return False
    return len(path.parts) == 1 or (len(path.parts) == 2 and path.parts[0] == "pages")


@bp.get("/static/<path:name>")
def static(name: str) -> Response:
    """The module and the page scripts; ``send_from_directory`` refuses ``..`` on its own."""
    if not _servable(name):
        raise NotFound("no such file")
    return send_from_directory(SCRIPTS, name, max_age=0)
