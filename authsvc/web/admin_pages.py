"""The admin pages: users, groups and policies, credentials, apps, the audit log, metadata.

They are views over ``/api/v1/admin`` and nothing more: each page is an empty frame whose
script (``webauthn_js/pages/admin_*.js``) fetches the admin API and draws what it answers.
So the API stays the one place that authorises, validates, asks for step-up and audits, and
a page cannot show an admin anything the API would not give a script. That is also why a
page is served to every signed-in person, admin or not: a non-admin gets the frame and the
API's own refusal in its status line, and learns nothing the API does not already say. A
visitor with no session is sent to sign in first, like the account page does.

Kept apart from :mod:`authsvc.web.pages` so the admin side can change without touching
the pages every person uses.
"""

from __future__ import annotations

from typing import Final, NamedTuple

from flask import Blueprint, redirect, render_template
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse

bp = Blueprint("admin_pages", __name__, template_folder="templates")


class AdminPage(NamedTuple):
    """One admin page: its path, the section nav's label and title, template and script."""

    path: str
    label: str
    title: str
    name: str


#: every admin page, in the order of the section navigation
PAGES: Final = (
    AdminPage("/admin", "Users", "Users", "users"),
    AdminPage("/admin/policies", "Policies", "Groups and policies", "policies"),
    AdminPage("/admin/credentials", "Credentials", "Credentials", "credentials"),
    AdminPage("/admin/apps", "Apps", "Native apps", "apps"),
    AdminPage("/admin/audit", "Audit log", "Audit log", "audit"),
    AdminPage("/admin/metadata", "Metadata", "Authenticator metadata", "metadata"),
)


def _render(page: AdminPage) -> str | BaseResponse:
    if not current_user.is_authenticated:
        return redirect("/", code=303)
    return render_template(
        f"admin/{page.name}.html",
        script=f"admin_{page.name}.js",
        title=page.title,
        pages=PAGES,
        current=page,
    )


def _register(page: AdminPage) -> None:
    def view() -> str | BaseResponse:
        return _render(page)

    bp.add_url_rule(page.path, f"admin_{page.name}", view, methods=["GET"])


for _page in PAGES:
    _register(_page)
