"""The two files that tie native apps to the RP's domain, built from the registered apps.

``/.well-known/apple-app-site-association`` (Apple, "Supporting associated domains"): the
``webcredentials`` service lists the app IDs (``TEAMID.bundle.id``) that may use the
domain's passkeys. Only that service is written: universal links (``applinks``) and the
other services are not this service's to declare.

``/.well-known/assetlinks.json`` (Digital Asset Links, as Credential Manager's
prerequisites describe it): one statement per Android app, with the relation
``delegate_permission/common.get_login_creds`` (share sign-in credentials with the site)
and a target of namespace ``android_app``, the package name and *every* signing-certificate
fingerprint of the app (upload key and Play app signing key alike), upper-case and
colon-separated. Google's page also lists ``delegate_permission/common.handle_all_urls``:
that relation turns on Android App Links, letting the app open every ``https`` link to the
domain in place of the browser. Passkeys do not need it, and a sign-in service has no
business granting it to every app it knows, so it is not written.

Both are plain data here; the HTTP layer serves them as ``application/json``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

from mobile_bridge.apps import AndroidApp, IosApp, format_fingerprint

GET_LOGIN_CREDS: Final = "delegate_permission/common.get_login_creds"
ANDROID_NAMESPACE: Final = "android_app"


def apple_app_site_association(apps: Iterable[IosApp]) -> dict[str, dict[str, list[str]]]:
    """``{"webcredentials": {"apps": [app IDs]}}``, sorted so every instance writes the same."""
    return {"webcredentials": {"apps": sorted({app.app_id for app in apps})}}


def asset_links(apps: Iterable[AndroidApp]) -> list[dict[str, Any]]:
    """One ``get_login_creds`` statement per app, sorted by package name."""
    return [
        {
            "relation": [GET_LOGIN_CREDS],
            "target": {
                "namespace": ANDROID_NAMESPACE,
                "package_name": app.package_name,
                "sha256_cert_fingerprints": [format_fingerprint(fp) for fp in app.fingerprints],
            },
        }
        for app in sorted(apps, key=lambda a: a.package_name)
    ]
